import { parseHttpRequest } from '../../protocol/http-request';
import { payloadHash } from '../../protocol/intent-hash';
import type { Intent } from '../../protocol/wire';
import type { HubCore } from '../hub/hub-core';
import { signAndSend } from './hub-decision';
import { httpRefusal } from './hub-http-call';
import { secretIndex } from './releasable-secrets';

/**
 * Issue 18: "a request naming another host is refused before the person is asked". An http.request that would send
 * a secret to a host outside that secret's allowed hosts is denied here, with the device's reason sealed and signed
 * for the agent, and never shown. Owns which intents are being refused right now, so a second update of the pending
 * list never refuses (or shows) the same intent twice.
 */
export class HttpRefuser {
  private readonly refusing = new Set<string>();

  constructor(private readonly core: HubCore) {}

  /** Whether this intent is being refused right now (it is then not shown as pending either). */
  isRefusing(intentId: string): boolean {
    return this.refusing.has(intentId);
  }

  /**
   * Refuses each http.request of `pending` that a secret's allowed hosts rule out, from an installation this device
   * claimed and with the payload the hub hashed (anything else is left for the card, which offers only Deny).
   * Returns the ids refused; one whose denial fails stays pending for the person. Never extends the idle timer.
   */
  async refuse(pending: readonly Intent[]): Promise<Set<string>> {
    const core = this.core;
    const done = new Set<string>();
    const candidates = pending.filter(
      (i) =>
        i.kind === 'http.request' &&
        !this.refusing.has(i.intent_id) &&
        i.expires_at > core.ports.now() &&
        core.installationFor(i.installation_id)?.agent_id === i.agent_id &&
        sameHash(i),
    );
    if (candidates.length === 0 || !core.vault.isUnlocked) return done;
    let refusals: [Intent, string][];
    try {
      const index = await core.vault.withUnlocked((service) => secretIndex(service, candidates), { activity: false });
      refusals = candidates.flatMap((i): [Intent, string][] => {
        const reason = httpRefusal(parseHttpRequest(i.payload), index);
        return reason === null ? [] : [[i, reason]];
      });
    } catch {
      return done;
    }
    for (const [intent, reason] of refusals) {
      this.refusing.add(intent.intent_id);
      try {
        await signAndSend(core, intent, 'deny', false, reason);
        done.add(intent.intent_id);
      } catch {
        // Left pending: the card shows why only Deny is possible.
      } finally {
        this.refusing.delete(intent.intent_id);
      }
    }
    return done;
  }
}

function sameHash(intent: Intent): boolean {
  try {
    return payloadHash(intent.kind, intent.payload) === intent.payload_hash;
  } catch {
    return false;
  }
}

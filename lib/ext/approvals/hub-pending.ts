import type { Intent } from '../../protocol/wire';
import type { HubCore } from '../hub/hub-core';
import { HUB_PENDING } from '../../storage/persisted-keys';
import { readStored, removeStored, writeStored } from '../../storage/stored-item';
import { refreshInstallations } from '../hub/hub-installations';
import type { StandingApprover } from './hub-decision';
import { HttpRefuser } from './hub-http-refusal';

/**
 * The pending intents: kept in memory and in storage.session (so a restarted worker shows the badge at once),
 * mirrored on the badge, and announced once each through ports.newIntents. The one owner of the list: the
 * subscription feeds it, decisions read it, the hub service shows it.
 */
export class PendingIntents {
  private intents: Intent[] = [];
  /** Intent ids already announced through ports.newIntents: a refresh of the same list announces nothing. */
  private seen = new Set<string>();
  /** Denies unasked what a secret's allowed hosts rule out (issue 18). */
  private readonly refuser: HttpRefuser;
  /** Counts calls of `set`: one that a newer call overtook while it approved leaves the list to the newer one. */
  private generation = 0;

  constructor(
    private readonly core: HubCore,
    private readonly approver: StandingApprover,
  ) {
    this.refuser = new HttpRefuser(core);
  }

  /** The intents waiting for the person, as last set. */
  get all(): readonly Intent[] {
    return this.intents;
  }

  /** Worker start: restores the stored list while unlocked (not announced again), else clears the badge. */
  async restore(): Promise<void> {
    const core = this.core;
    if (core.vault.isUnlocked) {
      // A cache of the hub's list: a failing storage API reads as empty; a stored list this version cannot read is
      // shown as the hub's last error and not used (the next poll brings the list back from the hub).
      const stored = await readStored(core.ports.session, HUB_PENDING, { apiFailure: 'absent' }).catch(
        (err: unknown) => void core.status.failed(err),
      );
      if (stored?.hub === core.settings!.hubUrl) this.intents = stored.intents;
      // Announced before the worker restarted: not new.
      this.seen = new Set(this.intents.map((i) => i.intent_id));
      core.ports.badge(this.intents.length);
    } else {
      core.ports.badge(0);
    }
  }

  /** The hub's current list (stream, poll or after a decision): approves what standing approvals cover, shows the rest. */
  async set(intents: Intent[]): Promise<void> {
    const core = this.core;
    if (!core.vault.isUnlocked) return;
    // Requests of an installation revoked on this device are not shown, whatever the hub lists (hub-revocations.ts).
    let pending = intents.filter((i) => i.status === 'pending' && !core.revoked.has(core.hub, i.installation_id));
    const generation = ++this.generation;
    // What a secret's allowed hosts rule out is refused before anyone is shown or notified of it.
    const refused = await this.refuser.refuse(pending.filter((i) => !this.seen.has(i.intent_id)));
    pending = pending.filter((i) => !refused.has(i.intent_id) && !this.refuser.isRefusing(i.intent_id));
    // What a standing approval covers is approved here, before anyone is shown or notified of it.
    const approved = await this.approver.approve(pending.filter((i) => !this.seen.has(i.intent_id)));
    // Refusing and approving can take long (an http.request rule makes the call first): a list that arrived meanwhile
    // is newer, and writing this older one over it would hide new requests and announce them a second time later.
    // What this call approved is hidden by the newer one too (isApproving).
    if (generation !== this.generation) return;
    if (approved.size > 0) pending = pending.filter((i) => !approved.has(i.intent_id));
    // Still being approved by an earlier update: not shown either.
    pending = pending.filter((i) => !this.approver.isApproving(i.intent_id));
    this.intents = pending;
    const fresh = pending.filter((i) => !this.seen.has(i.intent_id));
    this.seen = new Set(pending.map((i) => i.intent_id));
    core.ports.badge(pending.length);
    if (pending.some((i) => !core.installationFor(i.installation_id)) && core.hubInstallations !== null) {
      void refreshInstallations(core).catch(() => {});
    }
    await writeStored(core.ports.session, HUB_PENDING, { hub: core.hub, intents: pending }).catch(() => {});
    core.ports.changed();
    if (fresh.length > 0 && core.ports.newIntents) {
      core.ports.newIntents(
        fresh.map((i) => ({ intent_id: i.intent_id, kind: i.kind, agentName: core.agentName(i.installation_id) })),
        core.prefs(),
      );
    }
  }

  /** Lock: forgets the list and clears the badge. */
  async forget(): Promise<void> {
    this.intents = [];
    this.seen.clear();
    await removeStored(this.core.ports.session, HUB_PENDING).catch(() => {});
    this.core.ports.badge(0);
  }
}

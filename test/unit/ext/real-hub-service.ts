// The real pieces behind the extension's hub features, in one process: an in-process hub (test/unit/hub/flow.ts),
// a real vault over fake-indexeddb, the background's HubService enrolled at that hub, and agents using the SDK.
import 'fake-indexeddb/auto';
import { AgentClient, type AgentState, type FetchLike } from '../../../lib/agent';
import { randomBytes } from '../../../lib/bytes';
import {
  HubService,
  type HubServicePorts,
  type HubVault,
  type NewIntentNotice,
} from '../../../lib/ext/hub/hub-service';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import type { ItemDraft, VaultItem } from '../../../lib/vault/types';
import { hubFixture, ORIGIN } from '../hub/flow';
import { FAST_KDF, kekFor, uniqueDbName } from '../vault/helpers';

export function memoryStorage() {
  const data: Record<string, unknown> = {};
  return {
    data,
    get: async (key: string) => (key in data ? { [key]: structuredClone(data[key]) } : {}),
    set: async (items: Record<string, unknown>) => void Object.assign(data, structuredClone(items)),
    remove: async (key: string) => void delete data[key],
  };
}

/** A vault holding `drafts` (passphrase "pw"), its HubService enrolled at a fresh in-process hub. */
export async function realHubService(
  drafts: ItemDraft[] = [],
  options: {
    serviceFetch?: (hub: Awaited<ReturnType<typeof hubFixture>>) => FetchLike;
    hub?: Parameters<typeof hubFixture>[1];
    realTime?: boolean;
    /** Extra background ports (badge, waitingWhileLocked, …) the test observes. */
    ports?: Partial<HubServicePorts>;
  } = {},
) {
  const hub = await hubFixture(undefined, options.hub);
  // Subscription loops time their backoff with the injected clock: let it run with real time when they must.
  if (options.realTime) Object.defineProperty(hub.clock, 'now', { get: () => Date.now(), set: () => {} });
  const fetchApp: FetchLike = async (url, init) => hub.app.request(url, init);
  // The extension's own view of the hub (e.g. a MaliciousHub in front of it); agents keep talking to the real one.
  const serviceFetch = options.serviceFetch?.(hub) ?? fetchApp;
  const db = new VaultDb(uniqueDbName());
  const service = new VaultService(db);
  const salt = randomBytes(16);
  await service.create({ kdf: FAST_KDF, salt, kek: await kekFor('pw', salt) });
  const items: VaultItem[] = [];
  for (const draft of drafts) items.push(await service.save({ draft }));
  const vault: HubVault = {
    get isUnlocked() {
      return service.isUnlocked;
    },
    whenReady: async () => {},
    withUnlocked: async (fn) => fn(service),
  };
  const notices: NewIntentNotice[] = [];
  const local = memoryStorage();
  const session = memoryStorage();
  const svc = new HubService(vault, {
    local,
    session,
    badge: () => {},
    changed: () => {},
    fetch: serviceFetch as typeof fetch,
    now: () => hub.clock.now,
    newIntents: (n) => void notices.push(...n),
    ...options.ports,
  });
  await svc.enroll(hub.enrollmentCode);

  /** Registers an agent with the SDK and claims it from the extension with `scopes`. */
  const claimAgent = async (name: string, scopes: string[]) => {
    let saved: AgentState | undefined;
    const agent = new AgentClient({
      fetch: fetchApp,
      now: () => hub.clock.now,
      onStateChange: (s) => void (saved = s),
    });
    const reg = await agent.register({
      hub: ORIGIN,
      name,
      manifest: { markdown: `# ${name}` },
      requestedScopes: scopes,
    });
    await svc.lookupClaim(reg.claim_code);
    const { installation_id } = await svc.claim(reg.claim_code, scopes);
    await agent.status();
    return { agent, reg, installation_id, saved: () => saved! };
  };
  return { hub, fetchApp, service, db, vault, salt, svc, items, local, session, notices, claimAgent };
}

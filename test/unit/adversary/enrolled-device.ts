// An enrolled extension (real vault, real HubService) whose hub URL reaches whatever `target.fetch` is now: the
// adversary tests swap the hub behind the URL (a second hub, a squatter, a malicious proxy, a restart).
import 'fake-indexeddb/auto';
import { randomBytes } from '../../../lib/bytes';
import { HubService, type HubVault } from '../../../lib/ext/hub/hub-service';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import { memoryStorage } from '../ext/real-hub-service';
import type { hubFixture } from '../hub/flow';
import { FAST_KDF, kekFor, uniqueDbName } from '../vault/helpers';

type Fixture = Awaited<ReturnType<typeof hubFixture>>;

export async function enrolledDevice(first: Fixture) {
  const target: { fetch: (url: string, init?: RequestInit) => Promise<Response>; clock: { now: number } } = {
    fetch: async (url, init) => first.app.request(url, init),
    clock: first.clock,
  };
  const signedTo: string[] = [];
  const fetchImpl = (async (url: string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    if (headers.has('ck-signature')) signedTo.push(`${init?.method ?? 'GET'} ${new URL(url).pathname}`);
    return target.fetch(url, init);
  }) as typeof fetch;
  const service = new VaultService(new VaultDb(uniqueDbName()));
  const salt = randomBytes(16);
  await service.create({ kdf: FAST_KDF, salt, kek: await kekFor('pw', salt) });
  const vault: HubVault = {
    get isUnlocked() {
      return service.isUnlocked;
    },
    whenReady: async () => {},
    withUnlocked: async (fn) => fn(service),
  };
  const local = memoryStorage();
  const svc = new HubService(vault, {
    local,
    session: memoryStorage(),
    badge: () => {},
    changed: () => {},
    fetch: fetchImpl,
    now: () => target.clock.now,
  });
  await svc.enroll(first.enrollmentCode);
  await svc.stop(false);
  return { svc, local, target, signedTo };
}

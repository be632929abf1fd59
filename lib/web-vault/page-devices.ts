import { randomBytes, utf8Encode, wipe } from '../bytes';
import { SALT_LENGTH, type KdfParams } from '../crypto/kdf-params';
import type { KdfRunner } from '../crypto/kdf-runner';
import { ClawkeepError } from '../errors';
import type { DeviceInfo } from '../hub-client/api';
import { HubClient, normalizeHubUrl } from '../hub-client/client';
import { proveHubIdentity } from '../hub-client/hub-identity';
import { JoinSession, listDevices, type JoinTarget } from '../hub-client/devices';
import { deviceKeyId } from '../protocol/keys';
import type { VaultService } from '../vault/vault-service';
import { WEB_DEVICE } from '../storage/persisted-keys';
import { readSmallStored, writeSmallStored } from '../storage/stored-item';

/** Not secret: which hub and account this page's vault joined (the device key itself is in the vault). Stored as WEB_DEVICE. */
export interface JoinedDevice {
  hubUrl: string;
  accountId: string;
  /** The hub's identity key, pinned when the join started (docs/protocol.md §11); absent in older records. */
  hubKey?: string;
}

/** Where the joined hub and account are remembered (localStorage in the page; a map in tests). */
export interface SmallStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Where a pairing stands; once approved, the approving device's fingerprint (the person compares it). */
export interface JoinStatus {
  status: 'pending' | 'approved' | 'expired' | 'denied';
  approvedBy: string | null;
}

/** Joining an existing vault as a new device: what the first-run "Join an existing vault" screen calls. */
export interface JoinApi {
  /** Makes this device's device key and box key and asks the hub for a pairing: the code and fingerprint to show. */
  startJoin(hubUrl: string, name: string): Promise<{ code: string; fingerprint: string; expiresAt: number }>;
  pollJoin(): Promise<JoinStatus>;
  /** After approval: "Choose a passphrase for this device"; creates the local vault with the paired key, unlocked. */
  finishJoin(passphrase: string, kdf: KdfParams): Promise<void>;
  cancelJoin(): void;
}

/**
 * The web vault as a device of an account (issue 8): joining an existing vault with a pairing code, then the
 * account's device list. Runs in the page, next to the page's VaultService: the pairing's private keys and the
 * vault key never leave this page.
 */
export interface PageDeviceApi extends JoinApi {
  joined(): JoinedDevice | null;
  /** The account's devices, chain-verified; a removed device gets `device_revoked` here. */
  devices(): Promise<DeviceInfo[]>;
  /**
   * A hub client signed by this vault's device key, for the account it joined (e.g. for vault sync), or null when
   * this vault never joined one. Needs the vault unlocked (the device key is stored under the vault key).
   */
  hubClient(): Promise<{ client: HubClient; accountId: string; deviceKeyId: string } | null>;
}

export function createPageDeviceApi(deps: {
  service: VaultService;
  /** Creates the vault and runs what an unlock runs (idle timer, events). */
  join: JoinTarget['join'];
  kdf: KdfRunner;
  store: SmallStore;
  fetch?: typeof fetch;
}): PageDeviceApi {
  let session: JoinSession | null = null;
  let sessionHubKey: string | null = null;
  const fetchImpl: typeof fetch = deps.fetch ?? ((input, init) => fetch(input, init));
  // A stored record this version cannot read throws its typed error (shown on the Devices tab and by sync): reading
  // it as "not joined" would quietly stop syncing and hide the account.
  const joined = (): JoinedDevice | null => readSmallStored(deps.store, WEB_DEVICE);
  async function hubClient() {
    const j = joined();
    if (!j) return null;
    // Only a hub that proves the key pinned at join gets anything signed by this vault's device key (item 15).
    const hubKey = await proveHubIdentity(fetchImpl, j.hubUrl, j.hubKey ?? null);
    if (!j.hubKey) writeSmallStored(deps.store, WEB_DEVICE, { ...j, hubKey });
    const signer = await deps.service.deviceSigner();
    const keyId = deviceKeyId(signer.publicKey);
    const client = new HubClient({
      hub: j.hubUrl,
      signer: { role: 'human', keyId, sign: (m) => signer.sign(m) },
      fetch: deps.fetch,
    });
    return { client, accountId: j.accountId, deviceKeyId: keyId };
  }
  return {
    async startJoin(hubUrl, name) {
      session?.dispose();
      session = null;
      const hub = normalizeHubUrl(hubUrl);
      sessionHubKey = await proveHubIdentity(fetchImpl, hub, null);
      const s = await JoinSession.start({ hub, name: name.trim() || null, fetch: deps.fetch });
      session = s;
      return { code: s.pairing.code, fingerprint: s.fingerprint, expiresAt: s.pairing.expires_at };
    },
    async pollJoin() {
      if (!session) throw new ClawkeepError('vault_missing', 'Start joining first.');
      const r = await session.poll();
      return { status: r.status, approvedBy: r.status === 'approved' ? r.approvedBy : null };
    },
    async finishJoin(passphrase, kdf) {
      const s = session;
      if (!s) throw new ClawkeepError('vault_missing', 'Start joining first.');
      if (passphrase.length === 0) throw new ClawkeepError('item_invalid', 'Choose a passphrase.');
      const salt = randomBytes(SALT_LENGTH);
      // NFKC like PassphraseVaultClient: the same passphrase typed elsewhere must derive the same key.
      const bytes = utf8Encode(passphrase.normalize('NFKC'));
      let kek: Uint8Array;
      try {
        kek = await deps.kdf.derive(bytes, salt, kdf);
      } finally {
        wipe(bytes);
      }
      const { accountId } = await s.finish({ join: deps.join }, { kdf, salt, kek });
      session = null;
      writeSmallStored(deps.store, WEB_DEVICE, {
        hubUrl: s.client.hub,
        accountId,
        ...(sessionHubKey ? { hubKey: sessionHubKey } : {}),
      });
    },
    cancelJoin() {
      session?.dispose();
      session = null;
    },
    joined,
    hubClient,
    async devices() {
      const c = await hubClient();
      if (!c) throw new ClawkeepError('vault_missing', 'This vault has not joined an account.');
      return listDevices(c.client, { accountId: c.accountId, thisDeviceKeyId: c.deviceKeyId });
    },
  };
}

import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { HubService, type HubVault } from '../../../lib/ext/hub/hub-service';
import { RevokedInstallations } from '../../../lib/ext/hub/hub-revocations';
import { Keyholder } from '../../../lib/ext/vault/keyholder';
import { OpenClawService } from '../../../lib/ext/openclaw/openclaw-service';
import { payloadHash } from '../../../lib/protocol/intent-hash';
import {
  APPROVAL_WINDOW,
  HUB_PENDING,
  HUB_REVOKED,
  HUB_SETTINGS,
  KEYHOLDER_SESSION,
  OPENCLAW_PENDING,
  OPENCLAW_STOPPED,
  PERSISTED_ITEMS,
  WEB_DEVICE,
} from '../../../lib/storage/persisted-keys';
import { decodeStored, StoredValueError, type StoredItem } from '../../../lib/storage/stored-item';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import { createPageDeviceApi } from '../../../lib/web-vault/page-devices';
import { uniqueDbName } from '../vault/helpers';

const ORIGIN = 'http://127.0.0.1:8787';
const NOW = 1_760_000_000_000;
const payload = { summary: 'Deploy', risk: 'low' };

/**
 * What the code before the registry wrote under each key, shape for shape (hub-core saveSettings, hub-pending
 * setPending, hub-revocations add, keyholder persistSession, hub-approval-browser save, openclaw-service
 * setApprovals / disconnect, page-devices finishJoin). Users have exactly these stored: each must read unchanged.
 */
const TODAY: [StoredItem<unknown>, unknown][] = [
  [
    HUB_SETTINGS,
    {
      v: 1,
      hubUrl: ORIGIN,
      enrolled: { [ORIGIN]: ['dk_0123456789abcdef'] },
      prefs: { approvalWindow: false, notifications: true },
      accounts: { [ORIGIN]: 'dk_fedcba9876543210' },
      hubKeys: { [ORIGIN]: 'A'.repeat(43) },
      auditHeads: {
        [ORIGIN]: {
          statement: {
            hub: ORIGIN,
            hub_key: 'A'.repeat(43),
            seq: 7,
            head_hash: 'ab'.repeat(32),
            tree_root: 'cd'.repeat(32),
            time: NOW,
          },
          signature: 'S'.repeat(86),
        },
      },
    },
  ],
  [HUB_SETTINGS, { v: 1, hubUrl: ORIGIN, enrolled: {} }],
  [
    HUB_PENDING,
    {
      hub: ORIGIN,
      intents: [
        {
          intent_id: 'int_1',
          agent_id: 'agt_1',
          installation_id: 'ins_1',
          kind: 'action.approve',
          payload,
          payload_hash: payloadHash('action.approve', payload),
          status: 'pending',
          risk: 'low',
          created_at: NOW,
          expires_at: NOW + 300_000,
        },
      ],
    },
  ],
  [HUB_REVOKED, [{ hub: ORIGIN, installation_id: 'ins_1', revoked_at: NOW }]],
  [KEYHOLDER_SESSION, { v: 1, vaultKey: 'AAAA', vaultId: 'BBBB', lastActivity: NOW }],
  [APPROVAL_WINDOW, 1234],
  [
    OPENCLAW_PENDING,
    [
      {
        kind: 'exec',
        id: 'ap-1',
        createdAtMs: NOW,
        expiresAtMs: NOW + 60_000,
        agentId: 'main',
        sessionKey: null,
        allowedDecisions: ['allow-once', 'deny'],
        command: 'ls',
        cwd: null,
        host: 'gateway',
        nodeId: null,
        resolvedPath: null,
        warnings: [],
        riskKinds: [],
      },
      {
        kind: 'plugin',
        id: 'ap-2',
        createdAtMs: NOW,
        expiresAtMs: NOW + 60_000,
        agentId: null,
        sessionKey: null,
        allowedDecisions: ['deny'],
        title: 't',
        description: 'd',
        severity: 'info',
        toolName: null,
        pluginId: null,
      },
    ],
  ],
  [OPENCLAW_STOPPED, true],
  [WEB_DEVICE, { hubUrl: ORIGIN, accountId: 'dk_0123456789abcdef', hubKey: 'A'.repeat(43) }],
  // Records written before item 15 have no pinned hub key.
  [WEB_DEVICE, { hubUrl: ORIGIN, accountId: 'dk_0123456789abcdef' }],
];

describe('persisted keys: what current users have stored keeps reading', () => {
  it.each(TODAY.map(([item, value], i) => [`${item.key} #${i}`, item, value] as const))(
    '%s reads back unchanged',
    (_name, item, value) => {
      expect(decodeStored(item, structuredClone(value))).toEqual(value);
    },
  );

  it('every item is at version 1 today, so a value without `v` is the current shape (no migration runs on it)', () => {
    for (const item of PERSISTED_ITEMS) expect(item.version).toBe(1);
  });

  it('any stored value either decodes or fails with a StoredValueError (never another error, never a crash)', () => {
    const odd: unknown[] = [
      null,
      0,
      -1,
      1.5,
      Number.NaN,
      '',
      'x',
      true,
      false,
      [],
      [null],
      [[]],
      {},
      { v: null },
      { v: '1' },
      { v: 1e308 },
      { v: 0 },
      JSON.parse('{"__proto__": {"v": 1}, "hubUrl": 1}'),
      { v: 1, hubUrl: {}, enrolled: [] },
      { hub: 1, intents: {} },
      [{ kind: 'exec' }],
      { v: 1, vaultKey: 1 },
      new Array(50).fill({ v: 1 }),
    ];
    for (const item of PERSISTED_ITEMS) {
      for (const value of odd) {
        try {
          decodeStored(item, structuredClone(value));
        } catch (err) {
          expect(err, `${item.key} ${JSON.stringify(value)}`).toBeInstanceOf(StoredValueError);
        }
      }
    }
  });

  it.each(PERSISTED_ITEMS.map((item) => [item.key, item] as const))(
    '%s: a value from a newer version is refused with the typed error',
    (_key, item) => {
      expect(() => decodeStored(item, { v: item.version + 1 })).toThrow(
        expect.objectContaining({ code: 'storage_version_unsupported', key: item.key }),
      );
    },
  );
});

function memoryStorage(init: Record<string, unknown> = {}) {
  const data: Record<string, unknown> = structuredClone(init);
  return {
    data,
    get: async (key: string) => (key in data ? { [key]: structuredClone(data[key]) } : {}),
    set: async (items: Record<string, unknown>) => void Object.assign(data, structuredClone(items)),
    remove: async (key: string) => void delete data[key],
  };
}

function hubService(local: ReturnType<typeof memoryStorage>, session = memoryStorage()) {
  const privateKey = ed25519.utils.randomSecretKey();
  const signer = {
    publicKey: ed25519.getPublicKey(privateKey),
    sign: async (m: Uint8Array) => ed25519.sign(m, privateKey),
  };
  const service = {
    deviceSigner: async () => signer,
    list: async () => [],
    listInBackground: async () => [],
  } as unknown as VaultService;
  const vault: HubVault = {
    isUnlocked: true,
    whenReady: async () => {},
    withUnlocked: async <T>(fn: (s: VaultService) => Promise<T>) => fn(service),
  };
  return new HubService(vault, {
    local,
    session,
    badge: () => {},
    changed: () => {},
    fetch: async () => Response.json({ intents: [] }),
    now: () => NOW,
  });
}

describe('persisted keys at their use sites: no silent reset', () => {
  it('hub settings from a newer Clawkeep: every call reports storage_version_unsupported, the settings stay as stored', async () => {
    const newer = {
      v: 2,
      hubUrl: 'https://hub.example',
      enrolled: { 'https://hub.example': ['dk_1'] },
      more: 'fields',
    };
    const local = memoryStorage({ [HUB_SETTINGS.key]: newer });
    const hub = hubService(local);
    await expect(hub.state()).rejects.toMatchObject({ code: 'storage_version_unsupported', key: HUB_SETTINGS.key });
    await expect(hub.setPrefs({ approvalWindow: false })).rejects.toBeInstanceOf(StoredValueError);
    expect(local.data[HUB_SETTINGS.key]).toEqual(newer);
  });

  it('damaged hub settings are storage_invalid, not the defaults', async () => {
    const damaged = { v: 1, hubUrl: 42, enrolled: {} };
    const local = memoryStorage({ [HUB_SETTINGS.key]: damaged });
    await expect(hubService(local).state()).rejects.toMatchObject({ code: 'storage_invalid' });
    expect(local.data[HUB_SETTINGS.key]).toEqual(damaged);
  });

  it("today's hub settings are used as stored", async () => {
    const local = memoryStorage({ [HUB_SETTINGS.key]: TODAY[0]![1] });
    const state = await hubService(local).state();
    expect(state.hubUrl).toBe(ORIGIN);
    expect(state.prefs).toEqual({ approvalWindow: false, notifications: true });
  });

  it('a damaged revocation list is refused, never read as "nothing revoked"', async () => {
    const storage = memoryStorage({
      [HUB_REVOKED.key]: [{ hub: ORIGIN, installation_id: 'ins_1', revoked_at: NOW }, { hub: ORIGIN }],
    });
    const revoked = new RevokedInstallations(storage);
    await expect(revoked.load()).rejects.toMatchObject({ code: 'storage_invalid' });
    expect((storage.data[HUB_REVOKED.key] as unknown[]).length).toBe(2);
  });

  it("the web vault's joined device: today's record reads, a damaged one is a typed error left in place", () => {
    const strings = new Map<string, string>();
    const store = {
      getItem: (k: string) => strings.get(k) ?? null,
      setItem: (k: string, val: string) => void strings.set(k, val),
    };
    const api = createPageDeviceApi({ service: {} as VaultService, join: async () => {}, kdf: {} as never, store });
    expect(api.joined()).toBeNull();
    strings.set(WEB_DEVICE.key, JSON.stringify({ hubUrl: ORIGIN, accountId: 'dk_1' }));
    expect(api.joined()).toEqual({ hubUrl: ORIGIN, accountId: 'dk_1' });
    strings.set(WEB_DEVICE.key, '{"hubUrl":');
    expect(() => api.joined()).toThrow(expect.objectContaining({ code: 'storage_invalid' }));
    strings.set(WEB_DEVICE.key, JSON.stringify({ v: 2, hub: ORIGIN }));
    expect(() => api.joined()).toThrow(expect.objectContaining({ code: 'storage_version_unsupported' }));
    expect(strings.get(WEB_DEVICE.key)).toBe(JSON.stringify({ v: 2, hub: ORIGIN }));
  });

  it('the keyholder: a session record of another version unlocks nothing (the vault starts locked)', async () => {
    const session = new Map<string, unknown>([
      [KEYHOLDER_SESSION.key, { v: 2, vaultKey: 'AAAA', vaultId: 'BBBB', lastActivity: Date.now() }],
    ]);
    const keyholder = new Keyholder(new VaultService(new VaultDb(uniqueDbName())), {
      session: {
        get: async (key) => (session.has(key) ? { [key]: session.get(key) } : {}),
        set: async (items) => void Object.entries(items).forEach(([k, val]) => session.set(k, val)),
        remove: async (key) => void session.delete(key),
      },
      alarms: { create: () => {}, clear: () => {} },
      broadcast: () => {},
      now: () => Date.now(),
    });
    await keyholder.whenReady();
    expect(keyholder.isUnlocked).toBe(false);
    expect(session.has(KEYHOLDER_SESSION.key)).toBe(false);
  });

  it('a pending list this version cannot read (a session cache) is shown as the hub error and not used', async () => {
    const session = memoryStorage({ [HUB_PENDING.key]: { hub: ORIGIN, intents: [{ intent_id: 'int_1' }] } });
    const state = await hubService(memoryStorage(), session).state();
    expect(state.pending).toEqual([]);
    expect(state.lastError).toContain(HUB_PENDING.key);
  });

  it('OpenClaw session state this version cannot read is shown as the connection problem, naming the key', async () => {
    const session = new Map<string, unknown>([[OPENCLAW_PENDING.key, { v: 2, approvals: [] }]]);
    const service = new OpenClawService({
      vault: {
        isUnlocked: true,
        whenReady: async () => {},
        withItems: async (fn) =>
          fn({
            list: async () => [],
            get: async () => {
              throw new Error('none');
            },
            save: async () => {
              throw new Error('none');
            },
            remove: async () => {},
          }),
      },
      WebSocketImpl: class {} as never,
      identity: async () => {
        throw new Error('not needed without a gateway');
      },
      origin: 'chrome-extension://test',
      session: {
        get: async (k) => (session.has(k) ? { [k]: session.get(k) } : {}),
        set: async (o) => void Object.entries(o).forEach(([k, val]) => session.set(k, val)),
        remove: async (k) => void session.delete(k),
      },
      badge: () => {},
      changed: () => {},
    });
    await service.ensureRunning();
    const problem = service.state().problem;
    expect(problem?.code).toBe('storage_version_unsupported');
    expect(problem?.title).toBe('Clawkeep’s saved OpenClaw state could not be read');
    expect(problem?.action).toContain(OPENCLAW_PENDING.key);
  });
});

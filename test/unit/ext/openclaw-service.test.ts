// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { createDeviceIdentity, type DeviceIdentity } from '../../../lib/openclaw/device-identity';
import { OPENCLAW_GATEWAY_TAG } from '../../../lib/storage/vault-tags';
import {
  loadOpenClawConfig,
  normalizeGatewayUrl,
  parseOpenClawConfig,
  saveOpenClawConfig,
  type ItemStore,
} from '../../../lib/ext/openclaw/openclaw-config';
import { OpenClawError } from '../../../lib/openclaw/errors';
import { isLoopbackHost } from '../../../lib/openclaw/gateway-url';
import { OpenClawService } from '../../../lib/ext/openclaw/openclaw-service';
import { OPENCLAW_PENDING } from '../../../lib/storage/persisted-keys';
import type { ItemDraft, ItemSummary, VaultItem } from '../../../lib/vault/types';
import { FakeGateway, execApproval } from '../openclaw/fake-gateway';

const OPENCLAW_PENDING_KEY = OPENCLAW_PENDING.key;

const ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** An in-memory vault: items by id, as the keyholder would decrypt them. */
class MemoryItems implements ItemStore {
  items = new Map<string, VaultItem>();
  private n = 0;
  async list(): Promise<ItemSummary[]> {
    return [...this.items.values()].map((i) => ({
      id: i.id,
      kind: i.kind,
      name: i.fields.name,
      tags: i.kind === 'secret' ? i.fields.tags : [],
      revision: i.revision,
      createdAt: i.createdAt,
      updatedAt: i.updatedAt,
      expiresAt: null,
      expiry: 'none',
    }));
  }
  async get(id: string): Promise<VaultItem> {
    const i = this.items.get(id);
    if (!i) throw new Error('item_not_found');
    return structuredClone(i);
  }
  async save(draft: ItemDraft): Promise<VaultItem> {
    const id = draft.id ?? `item-${++this.n}`;
    const prev = this.items.get(id);
    const item = { ...draft, id, revision: (prev?.revision ?? 0) + 1, createdAt: prev?.createdAt ?? 1, updatedAt: 2 };
    this.items.set(id, structuredClone(item));
    return item;
  }
  async remove(id: string): Promise<void> {
    this.items.delete(id);
  }
}

const setup = async (
  opts: {
    unlocked?: boolean;
    identity?: DeviceIdentity;
    items?: MemoryItems;
    gw?: FakeGateway;
    session?: Map<string, unknown>;
  } = {},
) => {
  const gw = opts.gw ?? new FakeGateway();
  const items = opts.items ?? new MemoryItems();
  const identity = opts.identity ?? (await createDeviceIdentity());
  const session = opts.session ?? new Map<string, unknown>();
  const vault = { unlocked: opts.unlocked ?? true };
  const badges: number[] = [];
  const announced: string[][] = [];
  let changes = 0;
  const service = new OpenClawService({
    vault: {
      get isUnlocked() {
        return vault.unlocked;
      },
      whenReady: async () => {},
      withItems: async (fn) => {
        if (!vault.unlocked) throw new Error('vault_locked');
        return fn(items);
      },
    },
    WebSocketImpl: gw.WebSocket,
    identity: async () => identity,
    origin: ORIGIN,
    session: {
      get: async (k) => (session.has(k) ? { [k]: session.get(k) } : {}),
      set: async (o) => void Object.entries(o).forEach(([k, v]) => session.set(k, structuredClone(v))),
      remove: async (k) => void session.delete(k),
    },
    badge: (n) => void badges.push(n),
    changed: () => void changes++,
    newApprovals: (fresh) => void announced.push(fresh.map((a) => a.id)),
    backoff: { baseMs: 10, maxMs: 40 },
    pairingPollMs: 50,
  });
  return { gw, items, identity, session, vault, badges, announced, service, changes: () => changes };
};

describe('openclaw-config', () => {
  it('normalises gateway URLs and refuses anything but ws(s) without credentials', () => {
    expect(normalizeGatewayUrl('')).toBe('ws://127.0.0.1:18789');
    expect(normalizeGatewayUrl(' ws://localhost:18789/ ')).toBe('ws://localhost:18789');
    expect(normalizeGatewayUrl('wss://gw.example/ws')).toBe('wss://gw.example/ws');
    expect(() => normalizeGatewayUrl('http://127.0.0.1:18789')).toThrow(/ws:\/\//);
    expect(() => normalizeGatewayUrl('ws://u:p@127.0.0.1')).toThrow(/token field/);
    expect(() => normalizeGatewayUrl('ws://127.0.0.1/?token=x')).toThrow(/query/);
    expect(parseOpenClawConfig('{"v":2}')).toBeNull();
    expect(parseOpenClawConfig('nope')).toBeNull();
  });

  it('refuses plain ws:// to a gateway that is not loopback with a typed error; wss:// and loopback ws:// pass', () => {
    for (const ok of [
      'ws://127.0.0.1:18789',
      'ws://127.8.9.10:1',
      'ws://localhost:18789',
      'ws://LOCALHOST:1',
      'ws://[::1]:18789',
      'ws://127.1:5',
      'wss://192.168.1.20:18789',
      'wss://gw.example',
    ]) {
      expect(() => normalizeGatewayUrl(ok), ok).not.toThrow();
    }
    for (const bad of [
      'ws://192.168.1.20:18789',
      'ws://10.0.0.1',
      'ws://gw.example:18789',
      'ws://[::ffff:127.0.0.1]:1',
      'ws://[fe80::1]:1',
      'ws://localhost.evil.example',
      'ws://128.0.0.1',
      'ws://0.0.0.0:18789',
    ]) {
      let err: unknown;
      try {
        normalizeGatewayUrl(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(OpenClawError);
      expect((err as OpenClawError).code, bad).toBe('gateway_insecure');
      expect((err as OpenClawError).message).toMatch(/use wss:\/\//);
    }
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.0.0.256')).toBe(false);
  });
});

describe('OpenClawService', () => {
  it('the connect frame asks for operator.approvals only, and operator.admin only after the person opted in', async () => {
    const { gw, service, items } = await setup();
    await service.save('ws://127.0.0.1:18789', gw.token);
    const connects = () => gw.received.filter((f) => f.method === 'connect');
    expect(connects().at(-1)?.params.scopes).toEqual(['operator.approvals']);
    expect(service.state().allAgents).toBe(false);
    await service.save('ws://127.0.0.1:18789', gw.token, true);
    expect(connects().at(-1)?.params.scopes).toEqual(['operator.approvals', 'operator.admin']);
    expect((await loadOpenClawConfig(items))?.config.allAgents).toBe(true);
    expect(service.state().allAgents).toBe(true);
    await service.stop(true);
  });

  it('a stored plain ws:// address of another machine is never opened: no socket, the typed reason is shown', async () => {
    const { gw, service, items } = await setup();
    // Saved before this check existed (or edited): the client refuses it anyway.
    await saveOpenClawConfig(items, { v: 1, url: 'ws://192.168.1.20:18789', token: gw.token, deviceToken: null });
    await service.ensureRunning();
    expect(gw.sockets.length).toBe(0);
    const st = service.state();
    expect(st.status).toBe('failed');
    expect(st.problem?.code).toBe('gateway_insecure');
    expect(st.problem?.action).toMatch(/wss:\/\//);
    await expect(service.save('ws://192.168.1.20:18789', gw.token)).rejects.toMatchObject({ code: 'gateway_insecure' });
    expect(gw.sockets.length).toBe(0);
    expect(OpenClawError).toBeDefined();
    await service.stop(true);
  });

  it('stores URL + token as a tagged vault secret, connects, keeps the device token, shows approvals and resolves them', async () => {
    const { gw, items, service, badges, session } = await setup();
    gw.execApprovals.set('a1', execApproval('a1'));
    const st = await service.save('ws://127.0.0.1:18789', gw.token);
    expect(st.status).toBe('connected');
    expect(st.approvals.map((a) => a.id)).toEqual(['a1']);
    expect(JSON.stringify(st)).not.toContain(gw.token);
    // Encrypted vault item with the tag; the device token from hello-ok was added to it.
    const [item] = [...items.items.values()];
    expect(item?.kind === 'secret' && item.fields.tags).toEqual([OPENCLAW_GATEWAY_TAG]);
    await until(
      () => !!parseOpenClawConfig((item as { fields: { value: string } }).fields.value) && service.state().paired,
    );
    const loaded = await loadOpenClawConfig(items);
    expect(loaded?.config.token).toBe(gw.token);
    expect(loaded?.config.deviceToken).toMatch(/^devtok-/);
    expect(badges.at(-1)).toBe(1);
    expect((session.get(OPENCLAW_PENDING_KEY) as unknown[]).length).toBe(1);

    // A live request joins; one resolved elsewhere leaves.
    gw.requestExec(execApproval('a2', { allowedDecisions: ['allow-once', 'allow-always', 'deny'] }));
    await until(() => service.state().approvals.length === 2);
    expect(badges.at(-1)).toBe(2);
    gw.execApprovals.delete('a1');
    gw.broadcast('exec.approval.resolved', { id: 'a1', decision: 'deny' });
    await until(() => service.state().approvals.length === 1);

    await expect(service.resolve('exec', 'a2', 'allow-always')).resolves.toMatchObject({ approvals: [] });
    expect(gw.received.some((f) => f.method === 'exec.approval.resolve' && f.params.decision === 'allow-always')).toBe(
      true,
    );
    expect(badges.at(-1)).toBe(0);
    await service.stop(true);
  });

  it('reconnects with the stored device token after a worker restart, and shows the stored queue at once', async () => {
    const first = await setup();
    await first.service.save('', first.gw.token);
    await until(() => first.service.state().paired);
    first.gw.execApprovals.set('p1', execApproval('p1'));
    await first.service.connect();
    expect(first.service.state().approvals).toHaveLength(1);
    // The worker dies: the socket goes away without a clean stop; a new service starts with the same storage.
    first.gw.sockets.forEach((s) => s.serverClose(1001, 'worker gone'));
    const second = await setup({ gw: first.gw, items: first.items, identity: first.identity, session: first.session });
    await second.service.ensureRunning();
    expect(second.badges[0]).toBe(1); // the stored queue, shown before the gateway answered
    expect(second.service.state().status).toBe('connected');
    const connects = first.gw.received.filter((f) => f.method === 'connect');
    expect(connects.at(-1)?.params.auth).toEqual({ deviceToken: expect.stringMatching(/^devtok-/) });
    await first.service.stop(true);
    await second.service.stop(true);
  });

  it('announces each new approval once (approval window / notification); not again after a reconnect or a worker restart', async () => {
    const first = await setup();
    first.gw.execApprovals.set('n1', execApproval('n1'));
    await first.service.save('', first.gw.token);
    await until(() => first.announced.length === 1);
    first.gw.requestExec(execApproval('n2'));
    await until(() => first.announced.length === 2);
    expect(first.announced).toEqual([['n1'], ['n2']]);
    // "Reconnect" lists the same two again: nothing new.
    await first.service.connect();
    expect(first.service.state().approvals).toHaveLength(2);
    first.gw.sockets.forEach((s) => s.serverClose(1001, 'worker gone'));
    const second = await setup({ gw: first.gw, items: first.items, identity: first.identity, session: first.session });
    await second.service.ensureRunning();
    expect(second.service.state().approvals).toHaveLength(2);
    expect(second.announced).toEqual([]);
    // Lock forgets them; after unlock they are news again.
    await second.service.stop(true);
    await second.service.ensureRunning();
    await until(() => second.announced.length === 1);
    expect(second.announced[0]!.sort()).toEqual(['n1', 'n2']);
    expect(first.announced).toEqual([['n1'], ['n2']]);
    await first.service.stop(true);
    await second.service.stop(true);
  });

  it('explains a pairing refusal with the command to run, and connects by itself once it is approved', async () => {
    const { gw, service } = await setup();
    gw.pairingRequired = true;
    const st = await service.save('ws://127.0.0.1:18789', gw.token);
    expect(st.status).toBe('failed');
    expect(st.problem?.code).toBe('PAIRING_REQUIRED');
    expect(st.problem?.action).toContain('openclaw devices approve req-7f3a');
    // It checks again at the pairing interval (not in a tight loop), showing the same command meanwhile.
    const connects = () => gw.received.filter((f) => f.method === 'connect').length;
    await until(() => connects() >= 2);
    expect(connects()).toBeLessThan(6);
    expect(service.state().problem?.action).toContain('openclaw devices approve req-7f3a');
    gw.pairingRequired = false; // approved on the gateway host
    await until(() => service.state().status === 'connected');
    await service.stop(true);
  });

  it('does not retry an origin refusal: the person must change the gateway config', async () => {
    const { gw, service } = await setup();
    const n = () => gw.received.filter((f) => f.method === 'connect').length;
    const original = gw.receive.bind(gw);
    gw.receive = async (sock, text) => {
      const f = JSON.parse(text);
      if (f.method !== 'connect') return original(sock, text);
      gw.received.push(f);
      sock.serverSend({
        type: 'res',
        id: f.id,
        ok: false,
        error: {
          code: 'INVALID_REQUEST',
          message: 'origin not allowed',
          details: { code: 'CONTROL_UI_ORIGIN_NOT_ALLOWED' },
        },
      });
      sock.serverClose(1008, 'origin not allowed');
    };
    const st = await service.save('ws://127.0.0.1:18789', gw.token);
    expect(st.problem?.code).toBe('CONTROL_UI_ORIGIN_NOT_ALLOWED');
    expect(st.problem?.action).toContain(
      `openclaw config set gateway.controlUi.allowedOrigins '["${ORIGIN}"]' --strict-json`,
    );
    await new Promise((r) => setTimeout(r, 150));
    expect(n()).toBe(1);
  });

  it('retries an unreachable gateway with backoff and stops on lock', async () => {
    const { gw, service, vault, badges } = await setup();
    gw.refuseConnections = true;
    const st = await service.save('ws://127.0.0.1:18789', gw.token);
    expect(st.problem?.title).toMatch(/could not be reached/);
    await until(() => gw.sockets.length >= 3);
    gw.refuseConnections = false;
    await until(() => service.state().status === 'connected');
    vault.unlocked = false;
    await service.stop(true);
    expect(service.state()).toMatchObject({ status: 'off', approvals: [] });
    expect(badges.at(-1)).toBe(0);
    const n = gw.sockets.length;
    await service.ensureRunning();
    expect(gw.sockets.length).toBe(n);
  });

  it('falls back to the shared token when the device token was revoked; forget removes the vault item', async () => {
    const { gw, items, service } = await setup();
    await service.save('', gw.token);
    await until(() => service.state().paired);
    gw.paired.clear(); // revoked on the gateway: the stored device token no longer matches
    await service.stop(false);
    const st = await service.connect();
    expect(st.status).toBe('connected');
    expect(gw.received.filter((f) => f.method === 'connect').at(-1)?.params.auth).toEqual({ token: gw.token });
    await service.forget();
    expect(items.items.size).toBe(0);
    expect(service.state()).toMatchObject({ configured: false, status: 'off' });
  });

  it('"Disconnect" holds across a worker restart until "Reconnect"', async () => {
    const first = await setup();
    await first.service.save('', first.gw.token);
    await until(() => first.service.state().paired);
    expect((await first.service.disconnect()).status).toBe('off');
    const second = await setup({ gw: first.gw, items: first.items, identity: first.identity, session: first.session });
    const n = first.gw.sockets.length;
    await second.service.ensureRunning();
    expect(first.gw.sockets.length).toBe(n);
    expect((await second.service.connect()).status).toBe('connected');
    const third = await setup({ gw: first.gw, items: first.items, identity: first.identity, session: first.session });
    await third.service.ensureRunning();
    expect(third.service.state().status).toBe('connected');
    await second.service.stop(true);
    await third.service.stop(true);
  });

  it('refuses a save without a token and a resolve while disconnected', async () => {
    const { service } = await setup();
    await expect(service.save('ws://127.0.0.1:18789', '')).rejects.toMatchObject({ code: 'config_invalid' });
    await expect(service.resolve('exec', 'x', 'deny')).rejects.toMatchObject({ code: 'not_connected' });
  });
});

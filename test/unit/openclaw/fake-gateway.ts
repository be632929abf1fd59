/**
 * An in-process transport double for the OpenClaw gateway: a WebSocket-shaped socket plus a small scripted server
 * that speaks the real v4 frames (spec §1, §2). It checks what a real gateway checks on `connect` — closed
 * objects, protocol 4, device id = SHA-256 of the public key, the Ed25519 signature over the v3 payload (built
 * here independently of lib/openclaw), the challenge nonce/ts, the token — and answers approvals like the
 * gateway. It does not import the client's modules.
 */
import type { WebSocketLike } from '../../../lib/openclaw/client';

type Json = Record<string, any>;
const CONNECT_KEYS = [
  'minProtocol',
  'maxProtocol',
  'client',
  'role',
  'scopes',
  'caps',
  'commands',
  'permissions',
  'auth',
  'locale',
  'userAgent',
  'device',
];
const CLIENT_KEYS = [
  'id',
  'displayName',
  'version',
  'buildId',
  'platform',
  'deviceFamily',
  'modelIdentifier',
  'timeZone',
  'mode',
  'instanceId',
];
const AUTH_KEYS = ['token', 'bootstrapToken', 'deviceToken', 'password'];
const DEVICE_KEYS = ['id', 'publicKey', 'signature', 'signedAt', 'nonce'];

const closed = (o: Json, keys: string[]) => Object.keys(o).every((k) => keys.includes(k));
const b64u = (s: string) =>
  Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4)), (c) =>
    c.charCodeAt(0),
  );
const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const norm = (s: unknown) => (typeof s === 'string' ? s.trim().replace(/[A-Z]/g, (c) => c.toLowerCase()) : '');

export class FakeSocket implements WebSocketLike {
  readyState = 0;
  private listeners: Record<string, ((ev: any) => void)[]> = {};
  /** Server side state for this connection. */
  challenge = { nonce: crypto.randomUUID(), ts: Date.now() };
  authed = false;
  closeCode: number | null = null;

  constructor(
    readonly url: string,
    private readonly gw: FakeGateway,
  ) {
    gw.sockets.push(this);
    setTimeout(() => {
      if (this.readyState !== 0) return;
      if (gw.refuseConnections) return this.serverClose(1006, '');
      this.readyState = 1;
      this.emit('open', {});
      this.serverSend({ type: 'event', event: 'connect.challenge', payload: this.challenge });
    }, 0);
  }

  addEventListener(type: string, fn: (ev: any) => void): void {
    (this.listeners[type] ??= []).push(fn);
  }
  private emit(type: string, ev: any): void {
    for (const fn of this.listeners[type] ?? []) fn(ev);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('WebSocket is not open');
    setTimeout(() => void this.gw.receive(this, data), 0);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    this.closeCode = code;
    setTimeout(() => {
      this.readyState = 3;
      this.emit('close', { code, reason });
    }, 0);
  }

  serverSend(frame: Json): void {
    // Like a real socket: a message sent before the close frame is delivered before the close event.
    if (this.readyState === 1) setTimeout(() => this.emit('message', { data: JSON.stringify(frame) }), 0);
  }

  serverClose(code: number, reason: string): void {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    this.closeCode = code;
    setTimeout(() => {
      this.readyState = 3;
      this.emit('close', { code, reason });
    }, 0);
  }
}

export class FakeGateway {
  readonly token = 'gw-shared-token-0123456789';
  sockets: FakeSocket[] = [];
  /** Every request frame received, for assertions. */
  received: Json[] = [];
  pairingRequired = false;
  refuseConnections = false;
  tickIntervalMs = 30_000;
  /** Methods that never get an answer. */
  silent = new Set<string>();
  readonly paired = new Map<string, string>();
  readonly execApprovals = new Map<string, Json>();

  readonly WebSocket = ((gw: FakeGateway) =>
    class extends FakeSocket {
      constructor(url: string) {
        super(url, gw);
      }
    })(this);

  get live(): FakeSocket[] {
    return this.sockets.filter((s) => s.authed && s.readyState === 1);
  }

  broadcast(event: string, payload: unknown): void {
    for (const s of this.live) s.serverSend({ type: 'event', event, payload });
  }

  requestExec(record: Json): void {
    this.execApprovals.set(record.id, record);
    this.broadcast('exec.approval.requested', record);
  }

  async receive(sock: FakeSocket, text: string): Promise<void> {
    const f = JSON.parse(text) as Json;
    this.received.push(f);
    const err = (code: string, message: string, details?: Json) =>
      sock.serverSend({ type: 'res', id: f.id, ok: false, error: { code, message, ...(details ? { details } : {}) } });
    const ok = (payload: unknown) => sock.serverSend({ type: 'res', id: f.id, ok: true, payload });
    if (f.type !== 'req' || typeof f.id !== 'string' || !closed(f, ['type', 'id', 'method', 'params']))
      return sock.serverClose(1002, 'bad frame');
    if (!sock.authed) {
      if (f.method !== 'connect') return sock.serverClose(1008, 'connect first');
      const problem = await this.checkConnect(sock, f.params);
      if (problem) {
        err(problem.code, problem.message, problem.details);
        return sock.serverClose(1008, problem.message);
      }
      sock.authed = true;
      const deviceId = f.params.device.id as string;
      let deviceToken = this.paired.get(deviceId);
      if (!deviceToken) this.paired.set(deviceId, (deviceToken = `devtok-${crypto.randomUUID()}`));
      return ok({
        type: 'hello-ok',
        protocol: 4,
        server: { version: 'fake', connId: crypto.randomUUID() },
        features: {
          methods: [
            'exec.approval.list',
            'exec.approval.resolve',
            'plugin.approval.list',
            'plugin.approval.resolve',
            'health',
          ],
          events: ['tick'],
        },
        snapshot: {},
        auth: { role: 'operator', scopes: f.params.scopes, deviceToken },
        policy: {
          maxPayload: 25 * 1024 * 1024,
          maxBufferedBytes: 50 * 1024 * 1024,
          tickIntervalMs: this.tickIntervalMs,
        },
      });
    }
    if (this.silent.has(f.method)) return;
    switch (f.method) {
      case 'exec.approval.list':
        return ok([...this.execApprovals.values()].map((r) => ({ ...r, approvalKind: 'exec' })));
      case 'plugin.approval.list':
        return ok([]);
      case 'exec.approval.resolve': {
        const p = f.params as Json;
        if (!p || !closed(p, ['id', 'decision', 'reviewer', 'grantExpiresInDays']))
          return err('INVALID_REQUEST', 'invalid exec.approval.resolve params');
        const rec = this.execApprovals.get(p.id);
        if (!rec) return err('APPROVAL_NOT_FOUND', 'unknown or expired approval id');
        if (!rec.request.allowedDecisions.includes(p.decision)) return err('INVALID_REQUEST', 'decision not allowed');
        this.execApprovals.delete(p.id);
        ok({ ok: true });
        return this.broadcast('exec.approval.resolved', {
          id: p.id,
          decision: p.decision,
          resolvedBy: 'Clawkeep',
          ts: Date.now(),
          request: rec.request,
        });
      }
      default:
        return err('INVALID_REQUEST', `unknown method: ${f.method}`);
    }
  }

  private async checkConnect(
    sock: FakeSocket,
    p: Json,
  ): Promise<{ code: string; message: string; details?: Json } | null> {
    const invalid = (m: string) => ({ code: 'INVALID_REQUEST', message: m });
    if (
      !p ||
      !closed(p, CONNECT_KEYS) ||
      !closed(p.client ?? {}, CLIENT_KEYS) ||
      !closed(p.auth ?? {}, AUTH_KEYS) ||
      !closed(p.device ?? {}, DEVICE_KEYS)
    ) {
      return invalid('invalid connect params: unexpected property');
    }
    if (p.minProtocol > 4 || p.maxProtocol < 4)
      return { code: 'INVALID_REQUEST', message: 'protocol mismatch', details: { code: 'PROTOCOL_MISMATCH' } };
    const d = p.device;
    const raw = b64u(d.publicKey);
    if (raw.length !== 32)
      return { code: 'INVALID_REQUEST', message: 'bad key', details: { code: 'DEVICE_AUTH_PUBLIC_KEY_INVALID' } };
    if (hex(await crypto.subtle.digest('SHA-256', raw)) !== d.id)
      return {
        code: 'INVALID_REQUEST',
        message: 'device id mismatch',
        details: { code: 'DEVICE_AUTH_DEVICE_ID_MISMATCH' },
      };
    if (d.nonce !== sock.challenge.nonce)
      return { code: 'INVALID_REQUEST', message: 'nonce mismatch', details: { code: 'DEVICE_AUTH_NONCE_MISMATCH' } };
    if (d.signedAt !== sock.challenge.ts)
      return { code: 'INVALID_REQUEST', message: 'expired', details: { code: 'DEVICE_AUTH_SIGNATURE_EXPIRED' } };
    const token = p.auth.token ?? p.auth.deviceToken ?? p.auth.bootstrapToken ?? '';
    const payload = [
      'v3',
      d.id,
      p.client.id,
      p.client.mode,
      p.role,
      (p.scopes ?? []).join(','),
      String(d.signedAt),
      token,
      d.nonce,
      norm(p.client.platform),
      norm(p.client.deviceFamily),
    ].join('|');
    const key = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
    if (!(await crypto.subtle.verify({ name: 'Ed25519' }, key, b64u(d.signature), new TextEncoder().encode(payload)))) {
      return {
        code: 'INVALID_REQUEST',
        message: 'device signature invalid',
        details: { code: 'DEVICE_AUTH_SIGNATURE_INVALID' },
      };
    }
    const tokenOk =
      p.auth.token === this.token || (p.auth.deviceToken !== undefined && this.paired.get(d.id) === p.auth.deviceToken);
    if (!tokenOk)
      return {
        code: 'INVALID_REQUEST',
        message: 'unauthorized: gateway token mismatch',
        details: { code: 'AUTH_TOKEN_MISMATCH' },
      };
    if (this.pairingRequired && !this.paired.has(d.id)) {
      return {
        code: 'NOT_PAIRED',
        message: 'device pairing required',
        details: { code: 'PAIRING_REQUIRED', requestId: 'req-7f3a', reason: 'not-paired' },
      };
    }
    return null;
  }
}

/** An `exec.approval.requested` payload shaped like the gateway's (spec §2). */
export function execApproval(id: string, over: Json = {}): Json {
  const createdAtMs = Date.now();
  return {
    id,
    createdAtMs,
    expiresAtMs: createdAtMs + 1_800_000,
    request: {
      command: `echo ${id}`,
      cwd: '/tmp',
      host: 'gateway',
      agentId: 'main',
      sessionKey: 'agent:main:main',
      resolvedPath: '/usr/bin/echo',
      allowedDecisions: ['allow-once', 'deny'],
      unavailableDecisions: ['allow-always'],
      commandAnalysis: { commandCount: 1, riskKinds: [], warningLines: [] },
      ...over,
    },
  };
}

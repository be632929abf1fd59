/**
 * `OpenClawOperator`: Clawkeep's operator connection to an OpenClaw gateway (spec §1, §2, §6). Framework-free;
 * runs in pages, MV3 service workers and Node — the WebSocket constructor is injected.
 *
 * One connection: challenge → signed `connect` → hello-ok → backfill `exec.approval.list` / `plugin.approval.list`
 * → live approval events merged by id. Requests are correlated by id with timeouts. Silence longer than two tick
 * intervals closes the socket (4000) and, like any unexpected close, reconnects with capped, jittered backoff —
 * unless the gateway refused us for a reason only a person can fix (pairing, origin, token), which stops the loop.
 */
import {
  ApprovalBook,
  type ApprovalDecision,
  type ApprovalKind,
  type PendingApproval,
  normalizeApproval,
  resolvedId,
} from './approvals';
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay } from './backoff';
import {
  type HelloOk,
  type OperatorAuth,
  buildConnectParams,
  explainConnectError,
  parseChallenge,
  parseHelloOk,
  proofToken,
} from './connect';
import type { DeviceIdentity } from './device-identity';
import { OpenClawError, scrubSecrets } from './errors';
import { checkGatewayUrl } from './gateway-url';
import { type EventFrame, PRE_AUTH_MAX_BYTES, decodeServerFrame, encodeRequest, gatewayError } from './frames';

/** The part of the WHATWG WebSocket this client uses (browsers, Node ≥ 22, and the `ws` package all fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the DOM WebSocket and the ws package type their events differently
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (ev: any) => void): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;

export type OperatorStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface OperatorOptions {
  WebSocketImpl: WebSocketConstructor;
  /** Reported as `client.version`. */
  clientVersion?: string;
  /** Reported as `client.platform` and signed (lowercased) into the device proof. */
  platform?: string;
  /** This client's Origin (e.g. `chrome-extension://<id>`), only used in explanations. */
  origin?: string;
  requestTimeoutMs?: number;
  /** From opening the socket to hello-ok. */
  handshakeTimeoutMs?: number;
  /** False disables reconnecting. */
  reconnect?: Partial<BackoffOptions> | false;
  /**
   * Also request `operator.admin`, to see and approve every agent's commands, not only runs this device started
   * (connect.ts ALL_AGENTS_SCOPE). Default false: the connect frame asks for `operator.approvals` only.
   */
  allAgents?: boolean;
  /** Called with the device token from hello-ok; persist it (encrypted) and reconnect with `{ deviceToken }`. */
  onDeviceToken?: (deviceToken: string) => void | Promise<void>;
  random?: () => number;
  now?: () => number;
}

interface Pending {
  resolve(payload: unknown): void;
  reject(err: OpenClawError): void;
  timer: ReturnType<typeof setTimeout>;
  method: string;
}

type Listener<T> = (value: T) => void;

const uuid = (): string => crypto.randomUUID();

export class OpenClawOperator {
  private ws: WebSocketLike | null = null;
  private hello: HelloOk | null = null;
  private maxBytes = PRE_AUTH_MAX_BYTES;
  private readonly pending = new Map<string, Pending>();
  private readonly book: ApprovalBook;
  private statusValue: OperatorStatus = 'idle';
  private lastErrorValue: OpenClawError | null = null;
  private deviceTokenSeen: string | null = null;
  private lastFrameAt = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private expiryTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private closedByUser = false;
  private generation = 0;
  private readonly statusListeners = new Set<Listener<OperatorStatus>>();
  private readonly approvalListeners = new Set<Listener<PendingApproval[]>>();
  private readonly eventListeners = new Map<string, Set<Listener<EventFrame>>>();
  private readonly backoff: BackoffOptions | null;
  private readonly now: () => number;

  constructor(
    private readonly url: string,
    private readonly auth: OperatorAuth,
    private readonly identity: DeviceIdentity,
    private readonly opts: OperatorOptions,
  ) {
    // Refused before any socket opens, whatever the caller checked: the token and decisions never cross plain
    // ws:// off this machine (throws OpenClawError gateway_insecure | config_invalid).
    checkGatewayUrl(url);
    this.now = opts.now ?? Date.now;
    this.book = new ApprovalBook(this.now);
    this.backoff = opts.reconnect === false ? null : { ...DEFAULT_BACKOFF, ...(opts.reconnect ?? {}) };
  }

  /** Creates an operator and connects it; rejects with the first connect failure (see `explain`). */
  static async connect(
    url: string,
    auth: OperatorAuth,
    identity: DeviceIdentity,
    opts: OperatorOptions,
  ): Promise<OpenClawOperator> {
    const op = new OpenClawOperator(url, auth, identity, opts);
    await op.connect();
    return op;
  }

  get status(): OperatorStatus {
    return this.statusValue;
  }
  get helloOk(): HelloOk | null {
    return this.hello;
  }
  /** The last connect or backfill failure, for display with `explain`. */
  get lastError(): OpenClawError | null {
    return this.lastErrorValue;
  }
  get approvals(): PendingApproval[] {
    return this.book.list();
  }

  explain(err: OpenClawError = this.lastErrorValue ?? new OpenClawError('closed', 'Not connected.')) {
    return explainConnectError(err, this.opts.origin);
  }

  onStatus(fn: Listener<OperatorStatus>): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }
  onApprovals(fn: Listener<PendingApproval[]>): () => void {
    this.approvalListeners.add(fn);
    return () => this.approvalListeners.delete(fn);
  }
  /** Listens to gateway events by name, or `*` for all. */
  onEvent(name: string, fn: Listener<EventFrame>): () => void {
    let set = this.eventListeners.get(name);
    if (!set) this.eventListeners.set(name, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Connects once; resolves after hello-ok and the approvals backfill. */
  async connect(): Promise<HelloOk> {
    if (this.hello && this.ws?.readyState === OPEN) return this.hello;
    this.closedByUser = false;
    this.clearReconnect();
    this.setStatus('connecting');
    try {
      const hello = await this.openOnce();
      this.attempt = 0;
      return hello;
    } catch (err) {
      const e = this.asError(err);
      this.lastErrorValue = e;
      this.setStatus(this.closedByUser ? 'closed' : 'failed');
      throw e;
    }
  }

  /** Closes cleanly; pending requests reject with `closed`; no reconnect. */
  close(): void {
    this.closedByUser = true;
    this.clearReconnect();
    this.teardown(new OpenClawError('closed', 'The connection was closed.'));
    this.setStatus('closed');
  }

  /**
   * Sends a request and waits for its response. `idempotencyKey: true` adds a fresh key to `params` (only for
   * methods whose schema has one, e.g. `chat.send`; the approval resolve methods have none).
   */
  async request<T = unknown>(
    method: string,
    params?: Record<string, unknown>,
    o: { timeoutMs?: number; idempotencyKey?: boolean | string } = {},
  ): Promise<T> {
    if (!this.hello || !this.ws || this.ws.readyState !== OPEN)
      throw new OpenClawError('not_connected', 'Not connected to the OpenClaw gateway.');
    let p = params;
    if (o.idempotencyKey)
      p = { ...(params ?? {}), idempotencyKey: o.idempotencyKey === true ? uuid() : o.idempotencyKey };
    return (await this.send(this.ws, method, p, o.timeoutMs ?? this.opts.requestTimeoutMs ?? 30_000)) as T;
  }

  /** Answers an exec approval. Throws `decision_not_allowed` unless `decision` is in its `allowedDecisions`. */
  resolveExec(id: string, decision: ApprovalDecision): Promise<void> {
    return this.resolve('exec', id, decision);
  }

  resolvePlugin(id: string, decision: ApprovalDecision): Promise<void> {
    return this.resolve('plugin', id, decision);
  }

  /** Re-reads the pending lists from the gateway (done automatically after every hello-ok). */
  async refreshApprovals(): Promise<void> {
    const methods = this.hello?.methods ?? [];
    const kinds: ApprovalKind[] = ['exec', 'plugin'];
    this.listing = true;
    try {
      for (const kind of kinds) {
        const method = `${kind}.approval.list`;
        if (!methods.includes(method)) continue;
        this.liveSeen.clear();
        this.resolvedWhileListing.clear();
        const list = await this.request<unknown>(method, {});
        const records = Array.isArray(list) ? list : [];
        const normalized = records
          .map((r) => normalizeApproval(r, kind))
          .filter((a): a is PendingApproval => a !== null && !this.resolvedWhileListing.has(a.id));
        // Keep what arrived live while the list was in flight; what was resolved meanwhile stays dropped.
        this.book.backfill(kind, normalized, this.liveSeen);
      }
    } finally {
      this.listing = false;
      this.liveSeen.clear();
      this.resolvedWhileListing.clear();
      this.emitApprovals();
    }
  }

  private listing = false;
  private readonly liveSeen = new Set<string>();
  private readonly resolvedWhileListing = new Set<string>();

  private async resolve(kind: ApprovalKind, id: string, decision: ApprovalDecision): Promise<void> {
    this.book.assertDecision(kind, id, decision);
    try {
      await this.request(`${kind}.approval.resolve`, { id, decision });
    } catch (err) {
      if (err instanceof OpenClawError && err.code === 'APPROVAL_NOT_FOUND') {
        this.book.remove(kind, id);
        this.emitApprovals();
      }
      throw err;
    }
    if (this.book.remove(kind, id)) this.emitApprovals();
  }

  // ---- connection ----

  private secrets(): string[] {
    return [proofToken(this.auth), this.deviceTokenSeen ?? ''];
  }

  private asError(err: unknown): OpenClawError {
    if (err instanceof OpenClawError) return err;
    const msg = err instanceof Error ? err.message : String(err);
    return new OpenClawError('closed', scrubSecrets(`Could not connect to the gateway: ${msg}`, this.secrets()), {
      cause: err,
    });
  }

  private setStatus(s: OperatorStatus): void {
    if (this.statusValue === s) return;
    this.statusValue = s;
    for (const fn of this.statusListeners) fn(s);
  }

  private openOnce(): Promise<HelloOk> {
    const gen = ++this.generation;
    this.hello = null;
    this.maxBytes = PRE_AUTH_MAX_BYTES;
    return new Promise<HelloOk>((resolve, reject) => {
      let settled = false;
      let ws: WebSocketLike;
      const fail = (err: OpenClawError) => {
        if (settled) return;
        settled = true;
        clearTimeout(handshakeTimer);
        try {
          ws?.close(1000);
        } catch {
          /* already closed */
        }
        reject(err);
      };
      const handshakeTimer = setTimeout(
        () =>
          fail(
            new OpenClawError('timeout', 'The gateway did not complete the handshake in time.', { retryable: true }),
          ),
        this.opts.handshakeTimeoutMs ?? 15_000,
      );
      try {
        ws = new this.opts.WebSocketImpl(this.url);
      } catch (err) {
        fail(new OpenClawError('closed', 'The gateway address is not a valid WebSocket URL.', { cause: err }));
        return;
      }
      this.ws = ws;
      let connectSent = false;

      ws.addEventListener('message', (ev: { data: unknown }) => {
        if (gen !== this.generation) return;
        let frame;
        try {
          frame = decodeServerFrame(ev.data, this.maxBytes);
        } catch (err) {
          const e = this.asError(err);
          if (!this.hello) fail(e);
          else if (e.code === 'frame_too_large') ws.close(1009, 'frame too large');
          return; // a malformed frame after hello is ignored
        }
        this.lastFrameAt = this.now();
        if (frame.type === 'event') {
          if (!this.hello) {
            if (frame.event !== 'connect.challenge' || connectSent) return;
            connectSent = true;
            let challenge;
            try {
              challenge = parseChallenge(frame.payload);
            } catch (err) {
              fail(this.asError(err));
              return;
            }
            void this.sendConnect(ws, challenge).then(
              async (hello) => {
                if (settled || gen !== this.generation) return;
                clearTimeout(handshakeTimer);
                this.hello = hello;
                this.maxBytes = hello.maxPayload;
                this.startWatchdog(ws, hello.tickIntervalMs);
                if (hello.deviceToken) {
                  this.deviceTokenSeen = hello.deviceToken;
                  try {
                    await this.opts.onDeviceToken?.(hello.deviceToken);
                  } catch {
                    /* persisting is the caller's concern; the connection stays up */
                  }
                }
                this.setStatus('connected');
                try {
                  await this.refreshApprovals();
                } catch (err) {
                  this.lastErrorValue = this.asError(err);
                }
                settled = true;
                resolve(hello);
              },
              (err) => fail(this.asError(err)),
            );
            return;
          }
          this.dispatchEvent(frame);
          return;
        }
        const p = this.pending.get(frame.id);
        if (!p) return;
        this.pending.delete(frame.id);
        clearTimeout(p.timer);
        if (frame.ok) p.resolve(frame.payload);
        else p.reject(gatewayError(frame.error, this.secrets()));
      });

      ws.addEventListener('close', (ev: { code?: number; reason?: string }) => {
        if (gen !== this.generation) return;
        const code = ev?.code ?? 1006;
        const reason = scrubSecrets(String(ev?.reason ?? ''), this.secrets()).slice(0, 200);
        const err = new OpenClawError(
          'closed',
          `The gateway closed the connection (${code}${reason ? `: ${reason}` : ''}).`,
          { retryable: true },
        );
        this.rejectPending(err);
        this.stopTimers();
        this.ws = null;
        if (!settled) {
          fail(err);
          return;
        }
        this.hello = null;
        if (!this.closedByUser) this.scheduleReconnect();
      });
      ws.addEventListener('error', () => {
        /* a close event follows; its code says more than the error event does */
      });
    });
  }

  private async sendConnect(ws: WebSocketLike, challenge: { nonce: string; ts: number }): Promise<HelloOk> {
    const params = await buildConnectParams({
      identity: this.identity,
      auth: this.auth,
      challenge,
      clientVersion: this.opts.clientVersion ?? '0.1.0',
      platform: this.opts.platform ?? 'web',
      allAgents: this.opts.allAgents === true,
    });
    const payload = await this.send(
      ws,
      'connect',
      params as unknown as Record<string, unknown>,
      this.opts.handshakeTimeoutMs ?? 15_000,
    );
    return parseHelloOk(payload);
  }

  private send(
    ws: WebSocketLike,
    method: string,
    params: Record<string, unknown> | undefined,
    timeoutMs: number,
  ): Promise<unknown> {
    const id = uuid();
    const text = encodeRequest({ type: 'req', id, method, params }, this.maxBytes);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new OpenClawError('timeout', `The gateway did not answer ${method} in time.`, { retryable: true }));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, method });
      try {
        ws.send(text);
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new OpenClawError('closed', `Could not send ${method}: the connection is closed.`, { cause: err }));
      }
    });
  }

  private dispatchEvent(frame: EventFrame): void {
    const name = frame.event;
    const kind: ApprovalKind | null = name.startsWith('exec.approval.')
      ? 'exec'
      : name.startsWith('plugin.approval.')
        ? 'plugin'
        : null;
    if (kind && name.endsWith('.requested')) {
      const a = normalizeApproval(frame.payload, kind);
      if (a) {
        if (this.listing) this.liveSeen.add(a.id);
        this.book.upsert(a);
        this.scheduleExpiry();
        this.emitApprovals();
      }
    } else if (kind && name.endsWith('.resolved')) {
      const id = resolvedId(frame.payload);
      if (id) {
        if (this.listing) this.resolvedWhileListing.add(id);
        if (this.book.remove(kind, id)) this.emitApprovals();
      }
    }
    for (const key of [name, '*']) for (const fn of this.eventListeners.get(key) ?? []) fn(frame);
  }

  private emitApprovals(): void {
    this.scheduleExpiry();
    const list = this.book.list();
    for (const fn of this.approvalListeners) fn(list);
  }

  private scheduleExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const next = this.book.nextExpiry();
    if (next === null) return;
    const delay = Math.min(Math.max(0, next - this.now()) + 5, 2 ** 31 - 1);
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      if (this.book.prune()) this.emitApprovals();
      else this.scheduleExpiry();
    }, delay);
  }

  private startWatchdog(ws: WebSocketLike, tickIntervalMs: number): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.lastFrameAt = this.now();
    this.watchdog = setInterval(() => {
      if (this.now() - this.lastFrameAt > 2 * tickIntervalMs) ws.close(4000, 'tick timeout');
    }, tickIntervalMs);
  }

  private scheduleReconnect(): void {
    if (!this.backoff) {
      this.setStatus('closed');
      return;
    }
    this.setStatus('reconnecting');
    const retryAfter = this.lastErrorValue?.retryAfterMs ?? 0;
    const delay = Math.max(backoffDelay(this.attempt, this.backoff, this.opts.random), retryAfter);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.closedByUser) return;
      this.openOnce().then(
        () => {
          this.attempt = 0;
          this.lastErrorValue = null;
        },
        (err) => {
          const e = this.asError(err);
          this.lastErrorValue = e;
          if (this.closedByUser) return;
          if (!explainConnectError(e, this.opts.origin).retry) this.setStatus('failed');
          else this.scheduleReconnect();
        },
      );
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private stopTimers(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }

  private rejectPending(err: OpenClawError): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
  }

  private teardown(err: OpenClawError): void {
    this.generation++;
    this.rejectPending(err);
    this.stopTimers();
    const ws = this.ws;
    this.ws = null;
    this.hello = null;
    if (ws) {
      try {
        ws.close(1000, 'client closing');
      } catch {
        /* already closed */
      }
    }
  }
}

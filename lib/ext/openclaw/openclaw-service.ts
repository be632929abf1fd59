import type { ApprovalDecision, ApprovalKind, PendingApproval } from '../../openclaw/approvals';
import { backoffDelay, DEFAULT_BACKOFF } from '../../openclaw/backoff';
import { OpenClawOperator, type OperatorStatus, type WebSocketConstructor } from '../../openclaw/client';
import { explainConnectError, type OperatorAuth } from '../../openclaw/connect';
import type { DeviceIdentity } from '../../openclaw/device-identity';
import { OpenClawError } from '../../openclaw/errors';
import {
  type ItemStore,
  type OpenClawConfig,
  loadOpenClawConfig,
  normalizeGatewayUrl,
  removeOpenClawConfig,
  saveOpenClawConfig,
} from './openclaw-config';
import type { ServiceImpl } from '../rpc/service';
import type { OPENCLAW_SERVICE, OpenClawState } from './openclaw-api';
import { OPENCLAW_PENDING, OPENCLAW_STOPPED } from '../../storage/persisted-keys';
import { readStored, removeStored, StoredValueError, writeStored, type StoredItem } from '../../storage/stored-item';

export interface OpenClawVault {
  readonly isUnlocked: boolean;
  whenReady(): Promise<void>;
  /** Runs `fn` with the unlocked vault's items (no user activity recorded); rejects when locked. */
  withItems<T>(fn: (store: ItemStore) => Promise<T>): Promise<T>;
}

export interface OpenClawServicePorts {
  vault: OpenClawVault;
  WebSocketImpl: WebSocketConstructor;
  /** The device identity (persisted in IndexedDB by the caller). */
  identity(): Promise<DeviceIdentity>;
  /** This extension's Origin, e.g. chrome-extension://<id>. */
  origin: string;
  session: {
    get(key: string): Promise<Record<string, unknown>>;
    set(items: Record<string, unknown>): Promise<void>;
    remove(key: string): Promise<void>;
  };
  badge(count: number): void;
  changed(): void;
  /** Approvals this worker had not seen yet arrived (the approval window / notification; only while unlocked). */
  newApprovals?(fresh: PendingApproval[]): void;
  clientVersion?: string;
  platform?: string;
  /** Reconnect backoff after a failed first connect (the operator handles drops after hello-ok itself). */
  backoff?: { baseMs: number; maxMs: number };
  /** While the gateway waits for `openclaw devices approve`: how often to check again (default 10 s, for 30 min). */
  pairingPollMs?: number;
}

const keyOf = (a: PendingApproval): string => `${a.kind}:${a.id}`;

const PAIRING_POLL_MS = 10_000;
const PAIRING_POLL_FOR_MS = 30 * 60_000;

/**
 * The background's OpenClaw operator connection (issue 7): connects when the vault is unlocked and a gateway is
 * configured, keeps the pending approvals for the popup and the badge, resolves them, and stops on lock.
 * `ensureRunning` is idempotent: call it on worker start, on unlock and from an alarm.
 */
export class OpenClawService implements ServiceImpl<typeof OPENCLAW_SERVICE> {
  private op: OpenClawOperator | null = null;
  private approvals: PendingApproval[] = [];
  /** Approval ids already announced through ports.newApprovals. */
  private seen = new Set<string>();
  private problem: OpenClawError | null = null;
  private configured = false;
  private url: string | null = null;
  private paired = false;
  private allAgents = false;
  private deviceId: string | null = null;
  private userStopped = false;
  private starting: Promise<void> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private restored = false;
  /** Bumped by every stop: a start that began earlier does not open a connection afterwards. */
  private epoch = 0;
  /** When the gateway first answered PAIRING_REQUIRED in this run of attempts (null = not waiting). */
  private pairingSince: number | null = null;

  constructor(private readonly ports: OpenClawServicePorts) {}

  state(): OpenClawState {
    const status: OperatorStatus | 'off' = this.op ? this.op.status : this.problem ? 'failed' : 'off';
    const err = this.op?.status === 'connected' ? null : (this.op?.lastError ?? this.problem);
    const explained = err ? explainConnectError(err, this.ports.origin) : null;
    return {
      unlocked: this.ports.vault.isUnlocked,
      configured: this.configured,
      url: this.url,
      paired: this.paired,
      allAgents: this.allAgents,
      status: this.ports.vault.isUnlocked ? status : 'off',
      problem: explained && err ? { code: err.code, title: explained.title, action: explained.action } : null,
      origin: this.ports.origin,
      deviceId: this.deviceId,
      approvals: this.ports.vault.isUnlocked ? this.approvals : [],
    };
  }

  /** Starts the connection if unlocked, configured and not already running (worker wake, unlock, alarm). */
  async ensureRunning(): Promise<void> {
    await this.ports.vault.whenReady();
    if (!this.restored) {
      this.restored = true;
      await this.restorePending();
    }
    // A start begun before a stop (e.g. "Reconnect" while connecting) must not stand in for a new one.
    while (this.starting) await this.starting;
    if (this.op || this.userStopped || !this.ports.vault.isUnlocked || this.retryTimer) return;
    const starting = this.start(this.epoch).finally(() => {
      if (this.starting === starting) this.starting = null;
    });
    this.starting = starting;
    return starting;
  }

  private async restorePending(): Promise<void> {
    if (!this.ports.vault.isUnlocked) {
      this.ports.badge(0);
      return;
    }
    // Session hints: a failing storage API reads as nothing stored; a stored value this version cannot read is shown
    // as the connection's problem and not used (the gateway sends its pending list again on connect).
    const read = <T>(item: StoredItem<T>): Promise<T | undefined> =>
      readStored(this.ports.session, item, { apiFailure: 'absent' }).catch((err: unknown) => {
        if (!(err instanceof StoredValueError)) throw err;
        this.problem = new OpenClawError(err.code, err.message, { cause: err });
        return undefined;
      });
    if ((await read(OPENCLAW_STOPPED)) === true) this.userStopped = true;
    const stored = await read(OPENCLAW_PENDING);
    const now = Date.now();
    if (stored) this.approvals = stored.filter((a) => a.expiresAtMs > now);
    // Announced before the worker restarted: not new.
    this.seen = new Set(this.approvals.map(keyOf));
    this.ports.badge(this.approvals.length);
  }

  private async start(epoch: number): Promise<void> {
    let loaded: { itemId: string; config: OpenClawConfig } | null;
    try {
      loaded = await this.ports.vault.withItems((store) => loadOpenClawConfig(store));
    } catch {
      return; // locked meanwhile
    }
    this.configured = !!loaded;
    this.url = loaded?.config.url ?? null;
    this.paired = !!loaded?.config.deviceToken;
    this.allAgents = loaded?.config.allAgents === true;
    if (!loaded) {
      this.setApprovals([]);
      this.ports.changed();
      return;
    }
    const { config } = loaded;
    const identity = await this.ports.identity();
    this.deviceId = identity.deviceId;
    if (epoch !== this.epoch || this.userStopped || !this.ports.vault.isUnlocked) return; // stopped or locked meanwhile
    const auth: OperatorAuth = config.deviceToken ? { deviceToken: config.deviceToken } : { token: config.token };
    let op: OpenClawOperator;
    try {
      op = new OpenClawOperator(config.url, auth, identity, {
        WebSocketImpl: this.ports.WebSocketImpl,
        origin: this.ports.origin,
        clientVersion: this.ports.clientVersion,
        platform: this.ports.platform,
        allAgents: config.allAgents === true,
        onDeviceToken: (deviceToken) => this.keepDeviceToken(deviceToken),
      });
    } catch (err) {
      // A stored address the client refuses (e.g. plain ws:// to another machine, saved by an older version):
      // nothing is opened, the settings show why.
      this.problem =
        err instanceof OpenClawError ? err : new OpenClawError('config_invalid', 'The gateway address is not usable.');
      this.ports.changed();
      return;
    }
    this.op = op;
    op.onStatus(() => this.ports.changed());
    op.onApprovals((list) => {
      if (this.op === op) this.setApprovals(list);
    });
    try {
      await op.connect();
      this.problem = null;
      this.attempt = 0;
      this.pairingSince = null;
      this.ports.changed();
    } catch (err) {
      if (this.op !== op) return;
      const e = err instanceof OpenClawError ? err : new OpenClawError('closed', 'Could not connect to the gateway.');
      op.close();
      this.op = null;
      this.problem = e;
      // The device token was refused (revoked or rotated): drop it and pair again with the shared token, once.
      if (config.deviceToken && config.token && e.code.startsWith('AUTH_') && e.code !== 'AUTH_RATE_LIMITED') {
        await this.updateConfig((c) => ({ ...c, deviceToken: null })).catch(() => {});
        this.paired = false;
        this.ports.changed();
        return this.start(epoch);
      }
      // Waiting for `openclaw devices approve`: an unchanged device reuses its pending request, so checking again
      // now and then connects as soon as it is approved (the gateway recommends wait_then_retry).
      if ((e.code === 'PAIRING_REQUIRED' || e.code === 'NOT_PAIRED') && !this.userStopped) this.schedulePairingPoll();
      else if (explainConnectError(e, this.ports.origin).retry && !this.userStopped) this.scheduleRetry();
      this.ports.changed();
    }
  }

  private scheduleRetry(): void {
    const b = this.ports.backoff ?? DEFAULT_BACKOFF;
    const delay = Math.max(backoffDelay(this.attempt++, { ...DEFAULT_BACKOFF, ...b }), this.problem?.retryAfterMs ?? 0);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.ensureRunning();
    }, delay);
  }

  private schedulePairingPoll(): void {
    const now = Date.now();
    this.pairingSince ??= now;
    if (now - this.pairingSince > PAIRING_POLL_FOR_MS) return; // given up: "Reconnect" starts again
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.ensureRunning();
    }, this.ports.pairingPollMs ?? PAIRING_POLL_MS);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.attempt = 0;
  }

  private async updateConfig(fn: (c: OpenClawConfig) => OpenClawConfig): Promise<void> {
    await this.ports.vault.withItems(async (store) => {
      const loaded = await loadOpenClawConfig(store);
      if (!loaded) return;
      const next = fn(loaded.config);
      if (JSON.stringify(next) !== JSON.stringify(loaded.config)) await saveOpenClawConfig(store, next, loaded.itemId);
    });
  }

  private async keepDeviceToken(deviceToken: string): Promise<void> {
    this.paired = true;
    await this.updateConfig((c) => ({ ...c, deviceToken }));
    this.ports.changed();
  }

  private setApprovals(list: PendingApproval[]): void {
    this.approvals = list;
    const fresh = list.filter((a) => !this.seen.has(keyOf(a)));
    this.seen = new Set(list.map(keyOf));
    this.ports.badge(list.length);
    void writeStored(this.ports.session, OPENCLAW_PENDING, list).catch(() => {});
    this.ports.changed();
    if (fresh.length > 0 && this.ports.vault.isUnlocked) this.ports.newApprovals?.(fresh);
  }

  /** Lock (forget = true) or "Disconnect": closes the connection; lock also forgets the pending list. */
  async stop(forget: boolean): Promise<void> {
    this.epoch++;
    this.clearRetry();
    const op = this.op;
    this.op = null;
    op?.close();
    if (forget) {
      this.problem = null;
      this.approvals = [];
      this.seen.clear();
      this.restored = true;
      await removeStored(this.ports.session, OPENCLAW_PENDING).catch(() => {});
      this.ports.badge(0);
    }
    this.ports.changed();
  }

  /** "Connect": a fresh attempt now (e.g. after `openclaw devices approve`). */
  async connect(): Promise<OpenClawState> {
    this.userStopped = false;
    this.pairingSince = null;
    await removeStored(this.ports.session, OPENCLAW_STOPPED).catch(() => {});
    await this.stop(false);
    this.problem = null;
    await this.ensureRunning();
    return this.state();
  }

  async disconnect(): Promise<OpenClawState> {
    this.userStopped = true;
    await writeStored(this.ports.session, OPENCLAW_STOPPED, true).catch(() => {});
    await this.stop(false);
    this.problem = null;
    this.setApprovals([]);
    return this.state();
  }

  /** Stores the gateway URL and token (encrypted, in the vault), then reconnects. Empty token = keep the stored one. */
  async save(urlInput: string, tokenInput: string, allAgents = false): Promise<OpenClawState> {
    const url = normalizeGatewayUrl(urlInput);
    const token = tokenInput.trim();
    await this.ports.vault.withItems(async (store) => {
      const loaded = await loadOpenClawConfig(store);
      const old = loaded?.config;
      if (!token && !old?.token && !old?.deviceToken)
        throw new OpenClawError('config_invalid', 'Enter the gateway token (gateway.auth.token on the gateway host).');
      const sameGateway = old?.url === url;
      const next: OpenClawConfig = {
        v: 1,
        url,
        token: token || (sameGateway ? (old?.token ?? '') : ''),
        // A device token belongs to one gateway; a new shared token means pairing with it again.
        deviceToken: sameGateway && !token ? (old?.deviceToken ?? null) : null,
        ...(allAgents ? { allAgents: true } : {}),
      };
      if (!next.token && !next.deviceToken)
        throw new OpenClawError('config_invalid', 'Enter the token of this gateway.');
      await saveOpenClawConfig(store, next, loaded?.itemId);
    });
    return this.connect();
  }

  async forget(): Promise<OpenClawState> {
    await this.stop(true);
    await this.ports.vault.withItems((store) => removeOpenClawConfig(store));
    this.configured = false;
    this.url = null;
    this.paired = false;
    this.ports.changed();
    return this.state();
  }

  async resolve(kind: ApprovalKind, id: string, decision: ApprovalDecision): Promise<OpenClawState> {
    if (!this.ports.vault.isUnlocked) throw new OpenClawError('not_connected', 'Unlock the vault first.');
    const op = this.op;
    if (!op) throw new OpenClawError('not_connected', 'Not connected to the OpenClaw gateway.');
    if (kind === 'exec') await op.resolveExec(id, decision);
    else await op.resolvePlugin(id, decision);
    return this.state();
  }
}

import { createHubApp } from './app';
import { issueFirstEnrollmentCode } from './enrollment';
import { intentEvents } from './events';
import { loadOrCreateHubIdentity, type HubIdentity } from './identity';
import { expireDueIntents } from './intent-expiry';
import { purgeUnclaimedAgents } from './registration-purge';
import { purgeDeliveredSecrets } from './execute-replay';
import { DEFAULT_INTENT_RETENTION_MS, purgeExpiredPayloads } from './intent-retention';
import type { ProxyHeaders } from './forwarded';
import { openListener, planListen, type Listener, type TlsFiles } from './listener';
import { jsonLinesLogger, type HubLogger } from './logger';
import type { HubStore } from './store/port';
import { StoreError } from './store/errors';
import { openStore, type StoreLocation } from './store/open';

export interface StartHubOptions {
  /** 0 picks a free port. */
  port: number;
  /**
   * Directory holding the hub's identity file (and hub.sqlite unless `store` says otherwise); created (0700) if
   * missing.
   */
  dataDir: string;
  /**
   * Where the data lives (hub/store/open.ts): SQLite in `dataDir` by default, or a PostgreSQL database that several
   * hub processes share. Every process on one database must have the same identity file (checked at start).
   */
  store?: StoreLocation;
  /**
   * The IP address to listen on; 127.0.0.1 by default. Any other than loopback needs `tls` or `trustedProxies`, and
   * `publicOrigin` (hub/listener.ts planListen).
   */
  host?: string;
  /** Serve TLS with these PEM files; `RunningHub.reloadTls()` re-reads them (the CLI calls it on SIGHUP). */
  tls?: TlsFiles;
  /** Reverse proxies (IP addresses) whose forwarded client address, scheme and host are believed; none by default. */
  trustedProxies?: readonly string[];
  /** Which forwarded headers those proxies set: `x-forwarded` (X-Forwarded-For/-Proto/-Host, default) or `forwarded`. */
  proxyHeaders?: ProxyHeaders;
  now?: () => number;
  logger?: HubLogger;
  /** Page origins allowed to call the hub from a browser (CORS), e.g. the web vault's. */
  allowOrigins?: readonly string[];
  /**
   * The origin clients use to reach this hub (the https URL behind a reverse proxy or a DNS name). Signed requests,
   * statements and the Host check bind to it, so it must be exactly what clients were given; required when
   * listening on a non-loopback address. Default: the listening address.
   */
  publicOrigin?: string;
  /**
   * How long after an intent expired (decided or not) its payload and sealed secret are kept; then they are deleted
   * and only the row's id, hash, status and times stay. 30 days by default (hub/intent-retention.ts).
   */
  intentRetentionMs?: number;
}

export interface RunningHub {
  /** The origin clients use: `publicOrigin` when given, else the listening address. */
  url: string;
  /** Where it listens (`http://127.0.0.1:PORT`, `https://0.0.0.0:PORT`); differs from `url` with a public origin. */
  listenUrl: string;
  port: number;
  /** Display form `XXXX-XXXX` on the very first start of an empty hub, else null. Show it once. */
  enrollmentCode: string | null;
  store: HubStore;
  /** The hub's identity (public key and fingerprint to print; the private key stays in the process). */
  identity: HubIdentity;
  /** The certificate served (TLS only), e.g. to print; null without TLS. */
  certificate(): { serial: string; validTo: string } | null;
  /**
   * Re-reads the TLS files for new connections (on SIGHUP). A bad pair keeps the current one and logs why.
   * True when the new pair is in use; false when it was kept (or without TLS).
   */
  reloadTls(): boolean;
  /** Stops accepting, lets in-flight requests finish (up to 5 s), then closes the database. */
  close(): Promise<void>;
}

/** How long close() waits for in-flight requests before cutting connections. */
const CLOSE_GRACE_MS = 5000;
/** How often expired replay-cache entries are deleted. */
const NONCE_PRUNE_INTERVAL_MS = 60_000;
/**
 * How often intents past expires_at are moved to `expired` (with audit rows) when no request did it first, and
 * registrations whose claim code expired unclaimed are deleted (hub/registration-purge.ts).
 */
const INTENT_EXPIRY_INTERVAL_MS = 15_000;

/** hub_meta name of the hub identity's public key (base64url), as the first process on the database wrote it. */
const HUB_KEY_META = 'hub_key';

/**
 * Every process serving one database must sign as the same hub: clients pin the hub key at enrolment, and audit
 * heads signed by two keys would look like a fork. The first process records its key; another key is refused.
 * @throws StoreError `invalid_state`
 */
async function pinIdentity(store: HubStore, identity: HubIdentity): Promise<void> {
  const pinned = await store.meta.setIfAbsent(HUB_KEY_META, identity.hubKey);
  if (pinned !== identity.hubKey)
    throw new StoreError(
      'invalid_state',
      `this database belongs to the hub whose key is ${pinned}, but this process's identity file has ${identity.hubKey}: copy the identity file of the first hub process into --data (every process on one database signs as one hub)`,
    );
}

/**
 * Opens the store (in `dataDir` unless `store` names another), issues the first enrollment code if the hub is new, and serves the hub app on
 * `host:port`. Rejects (and closes the store) if the port is taken (`EADDRINUSE`), the TLS files are unusable
 * (ListenError `tls_files_invalid`) or the database cannot be opened; rejects before opening anything for a listen
 * configuration hub/listener.ts refuses (ListenError `listen_refused`).
 */
export async function startHub(options: StartHubOptions): Promise<RunningHub> {
  const { port, dataDir, host = '127.0.0.1', now = Date.now, logger = jsonLinesLogger() } = options;
  const plan = planListen({
    host,
    port,
    publicOrigin: options.publicOrigin,
    tls: options.tls,
    trustedProxies: options.trustedProxies,
  });
  const retentionMs = options.intentRetentionMs ?? DEFAULT_INTENT_RETENTION_MS;
  if (!Number.isSafeInteger(retentionMs) || retentionMs < 0)
    throw new RangeError(`startHub: bad intentRetentionMs ${retentionMs}`);

  const store = await openStore(options.store ?? { engine: 'sqlite', dir: dataDir });
  let identity: HubIdentity;
  try {
    // Next to hub.sqlite, never inside it (hub/identity.ts says why).
    identity = loadOrCreateHubIdentity(dataDir);
    await pinIdentity(store, identity);
    // Other processes' changes must reach our streams before we serve any (PostgreSQL; at once for SQLite).
    await intentEvents(store).ready();
  } catch (err) {
    await store.close();
    throw err;
  }
  let listener: Listener | undefined;
  try {
    // The app needs its origin, which includes the port the OS picks for port 0: bind first, build the app once
    // bound (before any connection is handled: listen's callback runs first), and route requests to it.
    let fetchApp: ((req: Request, env: unknown) => Response | Promise<Response>) | undefined;
    listener = await openListener(
      plan,
      // Only between the bind and the next statement (no await in between): a client arriving then is told to retry.
      (req, env) =>
        fetchApp ? fetchApp(req, env) : new Response(null, { status: 503, headers: { 'retry-after': '1' } }),
      logger,
    );
    const s = listener.server;
    const listenUrl = listener.listenUrl;
    const url = options.publicOrigin ?? listenUrl;
    const app = createHubApp({
      store,
      now,
      logger,
      origin: url,
      allowOrigins: options.allowOrigins,
      identity,
      proxyTrust:
        plan.trustedProxies.size > 0
          ? { proxies: plan.trustedProxies, headers: options.proxyHeaders ?? 'x-forwarded' }
          : undefined,
    });
    fetchApp = (req, env) => app.fetch(req, env);
    // Only after the port is ours: a code issued before a failed bind would be stored but never shown. And after the
    // app serves: on a busy shared database this transaction may wait, and clients must not get 503s meanwhile
    // (bench/hub-load.mjs saw agents treat them as a broken hub after a restart).
    const enrollmentCode = await issueFirstEnrollmentCode(store, now());

    const pruner = setInterval(() => {
      void store.nonces.prune(now()).catch((err: unknown) => {
        logger.warn('nonce_prune_failed', { error: err instanceof Error ? err.name : 'unknown' });
      });
      void store.sharedLimits?.prune(now()).catch((err: unknown) => {
        logger.warn('rate_limit_prune_failed', { error: err instanceof Error ? err.name : 'unknown' });
      });
    }, NONCE_PRUNE_INTERVAL_MS);
    pruner.unref();
    // One sweep at a time: a slow database must not pile sweeps up behind each other.
    let sweeping = false;
    const sweep = async () => {
      if (sweeping) return;
      sweeping = true;
      try {
        await sweepOnce();
      } finally {
        sweeping = false;
      }
    };
    const sweepOnce = async () => {
      try {
        await expireDueIntents(store, now());
      } catch (err) {
        logger.warn('intent_expiry_failed', { error: err instanceof Error ? err.name : 'unknown' });
      }
      try {
        await purgeExpiredPayloads(store, now(), retentionMs);
      } catch (err) {
        logger.warn('intent_retention_failed', { error: err instanceof Error ? err.name : 'unknown' });
      }
      try {
        await purgeDeliveredSecrets(store, now());
      } catch (err) {
        logger.warn('execute_replay_purge_failed', { error: err instanceof Error ? err.name : 'unknown' });
      }
      try {
        await purgeUnclaimedAgents(store, now());
      } catch (err) {
        logger.warn('registration_purge_failed', { error: err instanceof Error ? err.name : 'unknown' });
      }
    };
    const expirer = setInterval(() => void sweep(), INTENT_EXPIRY_INTERVAL_MS);
    expirer.unref();

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= new Promise<void>((resolve) => {
        clearInterval(pruner);
        clearInterval(expirer);
        const force = setTimeout(() => s.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        s.close(() => {
          clearTimeout(force);
          void store.close().finally(resolve);
        });
        // Event streams never finish by themselves: end them, then drop the connections they leave idle.
        intentEvents(store).shutdown();
        // Keep-alive sockets with no request in flight would otherwise hold close() open.
        s.closeIdleConnections();
        setImmediate(() => s.closeIdleConnections());
      }));

    const l = listener;
    return {
      url,
      listenUrl,
      port: l.port,
      enrollmentCode,
      store,
      identity,
      certificate: () => l.certificate,
      reloadTls: () => l.reloadTls(),
      close,
    };
  } catch (err) {
    listener?.server.close();
    await store.close();
    throw err;
  }
}

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { createHubApp } from './app';
import { issueFirstEnrollmentCode } from './enrollment';
import { intentEvents } from './events';
import { loadOrCreateHubIdentity, type HubIdentity } from './identity';
import { expireDueIntents } from './intent-expiry';
import { purgeUnclaimedAgents } from './registration-purge';
import { DEFAULT_INTENT_RETENTION_MS, purgeExpiredPayloads } from './intent-retention';
import { jsonLinesLogger, type HubLogger } from './logger';
import { applyServerLimits, LISTEN_BACKLOG } from './server-limits';
import type { HubStore } from './store/port';
import { dbFileIn, openSqliteStore } from './store/sqlite';

export interface StartHubOptions {
  /** 0 picks a free port. */
  port: number;
  /** Directory holding hub.sqlite; created (0700) if missing. */
  dataDir: string;
  /** Loopback only: the hub has no TLS, and nothing about it should be reachable from the network. */
  host?: string;
  now?: () => number;
  logger?: HubLogger;
  /** Page origins allowed to call the hub from a browser (CORS), e.g. the web vault's. */
  allowOrigins?: readonly string[];
  /**
   * The origin clients use to reach this hub when it is not the listening address (a reverse proxy in front).
   * Signed requests and statements name this origin, so it must be exactly what clients were given.
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
  /** Where it listens (`http://127.0.0.1:PORT`); differs from `url` behind a reverse proxy. */
  listenUrl: string;
  port: number;
  /** Display form `XXXX-XXXX` on the very first start of an empty hub, else null. Show it once. */
  enrollmentCode: string | null;
  store: HubStore;
  /** The hub's identity (public key and fingerprint to print; the private key stays in the process). */
  identity: HubIdentity;
  /** Stops accepting, lets in-flight requests finish (up to 5 s), then closes the database. */
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1)$/;
/** How long close() waits for in-flight requests before cutting connections. */
const CLOSE_GRACE_MS = 5000;
/** How often expired replay-cache entries are deleted. */
const NONCE_PRUNE_INTERVAL_MS = 60_000;
/**
 * How often intents past expires_at are moved to `expired` (with audit rows) when no request did it first, and
 * registrations whose claim code expired unclaimed are deleted (hub/registration-purge.ts).
 */
const INTENT_EXPIRY_INTERVAL_MS = 15_000;

/**
 * Opens the store in `dataDir`, issues the first enrollment code if the hub is new, and serves the hub app on
 * `host:port`. Rejects (and closes the store) if the port is taken (`EADDRINUSE`) or the database cannot be opened.
 */
export async function startHub(options: StartHubOptions): Promise<RunningHub> {
  const { port, dataDir, host = '127.0.0.1', now = Date.now, logger = jsonLinesLogger() } = options;
  if (!LOOPBACK.test(host)) throw new RangeError(`startHub: host must be a loopback address, got "${host}"`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`startHub: bad port ${port}`);
  const retentionMs = options.intentRetentionMs ?? DEFAULT_INTENT_RETENTION_MS;
  if (!Number.isSafeInteger(retentionMs) || retentionMs < 0)
    throw new RangeError(`startHub: bad intentRetentionMs ${retentionMs}`);

  const store = openSqliteStore({ file: dbFileIn(dataDir) });
  let identity: HubIdentity;
  try {
    // Next to hub.sqlite, never inside it (hub/identity.ts says why).
    identity = loadOrCreateHubIdentity(dataDir);
  } catch (err) {
    store.close();
    throw err;
  }
  let server: Server | undefined;
  try {
    // The app needs its origin, which includes the port the OS picks for port 0: bind first, build the app in the
    // 'listening' callback (which runs before any connection is handled), and route requests to it.
    // `env` carries the node request/socket: without it routes cannot see the peer address (per-client limits).
    let fetchApp: ((req: Request, env: unknown) => Response | Promise<Response>) | undefined;
    server = applyServerLimits(
      createAdaptorServer({
        fetch: (req, env) => (fetchApp ? fetchApp(req, env) : new Response(null, { status: 503 })),
        hostname: host,
      }) as Server,
    );
    const s = server;
    const bound = await new Promise<AddressInfo>((resolve, reject) => {
      s.once('error', reject);
      s.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        s.off('error', reject);
        resolve(s.address() as AddressInfo);
      });
    });
    // Only after the port is ours: a code issued before a failed bind would be stored but never shown.
    const enrollmentCode = issueFirstEnrollmentCode(store, now());
    const listenUrl = `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}`;
    const url = options.publicOrigin ?? listenUrl;
    const listening = `${host.includes(':') ? `[${host}]` : host}:${bound.port}`;
    const app = createHubApp({
      store,
      now,
      logger,
      origin: url,
      allowOrigins: options.allowOrigins,
      identity,
      // Behind a proxy that rewrites Host to its upstream, requests name the listening address (request-guard.ts).
      extraHosts: options.publicOrigin ? [listening] : [],
    });
    fetchApp = (req, env) => app.fetch(req, env);

    const pruner = setInterval(() => {
      try {
        store.nonces.prune(now());
      } catch (err) {
        logger.warn('nonce_prune_failed', { error: err instanceof Error ? err.name : 'unknown' });
      }
    }, NONCE_PRUNE_INTERVAL_MS);
    pruner.unref();
    const expirer = setInterval(() => {
      try {
        expireDueIntents(store, now());
      } catch (err) {
        logger.warn('intent_expiry_failed', { error: err instanceof Error ? err.name : 'unknown' });
      }
      try {
        purgeExpiredPayloads(store, now(), retentionMs);
      } catch (err) {
        logger.warn('intent_retention_failed', { error: err instanceof Error ? err.name : 'unknown' });
      }
      try {
        purgeUnclaimedAgents(store, now());
      } catch (err) {
        logger.warn('registration_purge_failed', { error: err instanceof Error ? err.name : 'unknown' });
      }
    }, INTENT_EXPIRY_INTERVAL_MS);
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
          store.close();
          resolve();
        });
        // Event streams never finish by themselves: end them, then drop the connections they leave idle.
        intentEvents(store).shutdown();
        // Keep-alive sockets with no request in flight would otherwise hold close() open.
        s.closeIdleConnections();
        setImmediate(() => s.closeIdleConnections());
      }));

    return { url, listenUrl, port: bound.port, enrollmentCode, store, identity, close };
  } catch (err) {
    server?.close();
    store.close();
    throw err;
  }
}

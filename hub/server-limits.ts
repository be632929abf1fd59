import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';

/**
 * Limits on the hub's HTTP server (issue 16, "Holds under load and abuse"). Node's defaults let 1,100 half-open
 * sockets keep the hub unreachable (a socket may take 60 s to send its headers, checked only every 30 s, and there
 * is no connection cap below the process's file-descriptor limit) and let 1,000 agents overflow a 511-entry listen
 * queue. These keep the hub answering signed requests while a local process floods it (docs/threat-model.md,
 * test/unit/adversary/hub-abuse.test.ts). What the requests themselves may hold in memory is hub/ingress.ts's part.
 */
export interface ServerLimits {
  /** From a connection's first byte (or a keep-alive request's) to the end of its headers. */
  headersTimeoutMs: number;
  /**
   * From the start of a request to the end of its body. Only the request is timed: once it is in, the response may
   * last (event streams, long polls), since Node stops timing a request when its last byte arrived.
   */
  requestTimeoutMs: number;
  /** How often the two timeouts above are checked (Node's default, 30 s, lets a header timeout run 30 s late). */
  checkIntervalMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /**
   * A socket with no traffic either way for this long is destroyed: a client that stopped reading its answer, or a
   * connection stuck mid-response. Longer than the quietest legitimate stream: event streams send `: ping` every
   * 15 s (EVENTS_PING_MS) and a long poll holds at most 30 s (MAX_WAIT_SECONDS).
   */
  socketIdleTimeoutMs: number;
  /** Connections at once; more are closed as they arrive, before the process runs out of file descriptors. */
  maxConnections: number;
}

/** Pending connections the kernel may queue for accept() (Linux caps it at net.core.somaxconn, 4096 by default). */
export const LISTEN_BACKLOG = 4096;

/** Connections at most, whatever the descriptor limit allows. */
const MAX_CONNECTIONS_CEILING = 10_000;
/** Descriptors kept for everything else: the database and its WAL, log output, manifest fetches, child pipes. */
const RESERVED_FDS = 256;
/** When the descriptor limit cannot be read (not Linux). */
const FALLBACK_MAX_CONNECTIONS = 4_000;

/**
 * The soft limit on open files from /proc/self/limits (Node raises its soft limit to the hard one at start), or null
 * where that file does not exist.
 */
export function openFileLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m) return null;
  return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}

/** maxConnections for a descriptor limit: leave RESERVED_FDS free, never above MAX_CONNECTIONS_CEILING. */
export function maxConnectionsFor(fdLimit: number | null): number {
  if (fdLimit === null) return FALLBACK_MAX_CONNECTIONS;
  return Math.max(64, Math.min(MAX_CONNECTIONS_CEILING, fdLimit - RESERVED_FDS));
}

export function defaultServerLimits(): ServerLimits {
  return {
    headersTimeoutMs: 10_000,
    // A 4 MiB vault push (the largest body) needs about 0.6 Mbit/s to make it.
    requestTimeoutMs: 60_000,
    checkIntervalMs: 1_000,
    keepAliveTimeoutMs: 5_000,
    socketIdleTimeoutMs: 120_000,
    maxConnections: maxConnectionsFor(openFileLimit()),
  };
}

/**
 * Sets the limits on a server that is not listening yet (the timeout checker starts on 'listening' and reads
 * `connectionsCheckingInterval` then). Listen with `backlog: LISTEN_BACKLOG`.
 */
export function applyServerLimits<S extends Server>(server: S, limits: ServerLimits = defaultServerLimits()): S {
  if (server.listening) throw new Error('applyServerLimits: call it before listen()');
  if (limits.headersTimeoutMs > limits.requestTimeoutMs)
    throw new RangeError('applyServerLimits: headersTimeoutMs must not exceed requestTimeoutMs');
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  // A createServer option that Node keeps as a plain property and reads when the server starts listening.
  (server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval = limits.checkIntervalMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.timeout = limits.socketIdleTimeoutMs;
  server.maxConnections = limits.maxConnections;
  return server;
}

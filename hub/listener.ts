import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { createAdaptorServer } from '@hono/node-server';
import { applyServerLimits, LISTEN_BACKLOG } from './server-limits';
import { ClawkeepError, type ListenErrorCode } from '../lib/errors';
import { isOrigin } from '../lib/protocol/fields';
import { normalizeAddress } from './forwarded';
import type { HubLogger } from './logger';

/**
 * How the hub listens (issue 16, "Reachable"): the address, plain HTTP or TLS from certificate and key files
 * (reloaded on SIGHUP by the CLI), and the rules that keep a hub reachable from the network from being exposed
 * without protection:
 *
 * - A non-loopback address needs TLS, or a trusted reverse proxy (`--trusted-proxy`) that terminates it, AND a
 *   public origin: signatures, statements and the Host check bind to the origin clients use, never to the bind
 *   address (which for 0.0.0.0 is not even an address a client could use).
 * - An https public origin needs TLS here or a trusted proxy (a request could never arrive at it otherwise); an http
 *   one cannot be served with TLS.
 */
export class ListenError extends ClawkeepError {
  declare readonly code: ListenErrorCode;
  constructor(code: ListenErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ListenError';
  }
}

export interface TlsFiles {
  /** PEM certificate (the leaf first, then any intermediates). */
  certFile: string;
  /** PEM private key of the leaf. */
  keyFile: string;
}

export interface ListenOptions {
  /** An IP address: 127.0.0.1 (default in startHub), ::1, 0.0.0.0, a host's own address. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  publicOrigin?: string;
  tls?: TlsFiles;
  /** Addresses of reverse proxies whose forwarded headers are believed. */
  trustedProxies?: readonly string[];
}

/** A checked listen configuration. */
export interface ListenPlan {
  host: string;
  port: number;
  loopback: boolean;
  scheme: 'http' | 'https';
  publicOrigin?: string;
  tls?: TlsFiles;
  /** Normalised (forwarded.ts normalizeAddress), so they compare equal to socket peer addresses. */
  trustedProxies: ReadonlySet<string>;
}

/** 127.0.0.0/8 and ::1 (also as IPv4-mapped): reachable from this machine only. */
export function isLoopbackAddress(address: string): boolean {
  const a = normalizeAddress(address);
  return a !== null && (a === '::1' || /^127\./.test(a));
}

const refuse = (message: string) => new ListenError('listen_refused', message);

/**
 * Checks a listen configuration (see the module comment) before anything is opened or bound.
 * @throws ListenError `listen_refused` naming what is missing; RangeError for a port that is not one.
 */
export function planListen(options: ListenOptions): ListenPlan {
  const { host, port, publicOrigin, tls } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`planListen: bad port ${port}`);
  if (normalizeAddress(host) === null)
    throw refuse(`cannot listen on "${host}": give an IP address, e.g. 127.0.0.1, 0.0.0.0 or ::1`);
  const proxies = new Set<string>();
  for (const p of options.trustedProxies ?? []) {
    const a = normalizeAddress(p);
    if (a === null) throw refuse(`--trusted-proxy takes IP addresses, got "${p}"`);
    proxies.add(a);
  }
  if (publicOrigin !== undefined && !isOrigin(publicOrigin))
    throw refuse('the public origin must be an origin like https://hub.example.com (https, or http on loopback)');
  const loopback = isLoopbackAddress(host);
  if (!loopback) {
    if (!tls && proxies.size === 0)
      throw refuse(
        `refusing to listen on ${host} without protection: a hub reachable from the network needs TLS ` +
          '(--tls-cert FILE --tls-key FILE) or a trusted reverse proxy in front of it (--trusted-proxy ADDR)',
      );
    if (publicOrigin === undefined)
      throw refuse(
        `refusing to listen on ${host} without a public origin: give --public-origin https://… (the URL clients ` +
          'use; signatures and the Host check bind to it, never to the bind address)',
      );
  }
  const scheme = tls ? 'https' : 'http';
  if (publicOrigin?.startsWith('https:') && !tls && proxies.size === 0)
    throw refuse(
      `the public origin ${publicOrigin} is https, but this hub serves plain HTTP and trusts no proxy: give ` +
        '--tls-cert/--tls-key, or --trusted-proxy for the reverse proxy that terminates TLS',
    );
  if (publicOrigin?.startsWith('http:') && tls)
    throw refuse(`the public origin ${publicOrigin} is http, but this hub serves TLS: give its https origin`);
  return {
    host,
    port,
    loopback,
    scheme,
    ...(publicOrigin === undefined ? {} : { publicOrigin }),
    ...(tls ? { tls } : {}),
    trustedProxies: proxies,
  };
}

/** A certificate and key that form a pair, with what may be logged about the certificate (all public). */
export interface TlsPair {
  cert: Buffer;
  key: Buffer;
  serial: string;
  validTo: string;
  fingerprint256: string;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ListenError('tls_files_invalid', `cannot read the TLS ${what} file ${file} (${code})`);
  }
}

/**
 * Reads the certificate and key files and checks they form a pair. Messages name the file and an error code, never
 * file contents or OpenSSL's text about the key.
 * @throws ListenError `tls_files_invalid`
 */
export function loadTlsPair(files: TlsFiles): TlsPair {
  const cert = readPem(files.certFile, 'certificate');
  const key = readPem(files.keyFile, 'key');
  try {
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(cert);
    } catch {
      throw new ListenError('tls_files_invalid', `${files.certFile} is not a PEM certificate`);
    }
    let matches: boolean;
    try {
      matches = x509.checkPrivateKey(createPrivateKey(key));
    } catch {
      throw new ListenError('tls_files_invalid', `${files.keyFile} is not a PEM private key`);
    }
    if (!matches)
      throw new ListenError(
        'tls_files_invalid',
        `${files.keyFile} is not the key of the certificate ${files.certFile}`,
      );
    try {
      // What setSecureContext will do with them (e.g. a malformed intermediate after the leaf): fail here instead.
      createSecureContext({ cert, key });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new ListenError(
        'tls_files_invalid',
        `${files.certFile} and ${files.keyFile} are not usable for TLS (${typeof code === 'string' ? code : 'invalid'})`,
      );
    }
    return { cert, key, serial: x509.serialNumber, validTo: x509.validTo, fingerprint256: x509.fingerprint256 };
  } catch (err) {
    key.fill(0);
    throw err;
  }
}

type FetchHandler = (req: Request, env: unknown) => Response | Promise<Response>;

export interface Listener {
  server: Server;
  port: number;
  /** `http(s)://host:port` where it listens (not necessarily an address clients can use: 0.0.0.0). */
  listenUrl: string;
  /** The certificate served now (TLS only). */
  certificate: { serial: string; validTo: string } | null;
  /**
   * Re-reads the TLS files and serves the new pair to new connections. A missing, unreadable or mismatched pair
   * keeps the one in use and logs why (file and error code, never contents). False when nothing changed (or no TLS).
   */
  reloadTls(): boolean;
}

/** Binds the plan's address, over TLS when it has files. Rejects on a bind error (EADDRINUSE) or bad TLS files. */
export async function openListener(plan: ListenPlan, fetch: FetchHandler, logger: HubLogger): Promise<Listener> {
  const first = plan.tls ? loadTlsPair(plan.tls) : null;
  // `env` carries the node request/socket: without it routes cannot see the peer address (forwarded.ts).
  // Connection caps, header/request timeouts that spare event streams, keep-alive (hub/server-limits.ts).
  const server = applyServerLimits(
    (first
      ? createAdaptorServer({
          fetch,
          hostname: plan.host,
          createServer: createHttpsServer,
          serverOptions: { cert: first.cert, key: first.key },
        })
      : createAdaptorServer({ fetch, hostname: plan.host })) as Server,
  );
  first?.key.fill(0);
  const bound = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: plan.port, host: plan.host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
  const hostInUrl = plan.host.includes(':') ? `[${plan.host}]` : plan.host;
  const certificate = first ? { serial: first.serial, validTo: first.validTo } : null;
  if (first)
    logger.info('tls_loaded', { serial: first.serial, valid_to: first.validTo, fingerprint256: first.fingerprint256 });
  const listener: Listener = {
    server,
    port: bound.port,
    listenUrl: `${plan.scheme}://${hostInUrl}:${bound.port}`,
    certificate,
    reloadTls() {
      if (!plan.tls) return false;
      let pair: TlsPair;
      try {
        pair = loadTlsPair(plan.tls);
      } catch (err) {
        logger.warn('tls_reload_failed', {
          reason: err instanceof ListenError ? err.message : 'unexpected',
          serial_kept: listener.certificate?.serial ?? null,
        });
        return false;
      }
      (server as unknown as HttpsServer).setSecureContext({ cert: pair.cert, key: pair.key });
      pair.key.fill(0);
      listener.certificate = { serial: pair.serial, validTo: pair.validTo };
      logger.info('tls_reloaded', { serial: pair.serial, valid_to: pair.validTo, fingerprint256: pair.fingerprint256 });
      return true;
    },
  };
  return listener;
}

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { TLSSocket } from 'node:tls';

/**
 * An HTTP(S) client for hub tests that need what fetch cannot give: trust a test CA (`ca`), resolve a test name
 * without DNS (`resolve`: `hub.test` → the address it listens on, like curl's --resolve), pick the source address
 * (`localAddress`: a "proxy" and "anyone else" are different peers to the hub), send Host and forwarded headers
 * as given, and report the certificate the server presented.
 */
export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** PEM of the CA to trust (only it: the system store is not used). */
  ca?: string;
  /** Host name → IP address, used instead of DNS. */
  resolve?: Readonly<Record<string, string>>;
  localAddress?: string;
}

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Serial of the certificate the server presented (TLS only), uppercase hex. */
  serial: string | null;
}

function lookupFrom(resolve: Readonly<Record<string, string>> | undefined): LookupFunction | undefined {
  if (!resolve) return undefined;
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const address = resolve[hostname];
    if (address === undefined) {
      callback(Object.assign(new Error(`test resolver: no address for ${hostname}`), { code: 'ENOTFOUND' }));
      return;
    }
    const family = address.includes(':') ? 6 : 4;
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}

/** One request; resolves with the whole answer (it never rejects for an HTTP status, only for a network failure). */
export function call(url: string, options: CallOptions = {}): Promise<CallResult> {
  const target = new URL(url);
  const tls = target.protocol === 'https:';
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const headers = { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
  return new Promise((resolve, reject) => {
    const common = {
      method: options.method ?? 'GET',
      headers,
      lookup: lookupFrom(options.resolve),
      localAddress: options.localAddress,
      // A fresh connection each time: a reloaded certificate is seen by new connections only.
      agent: false as const,
    };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      const socket = res.socket as TLSSocket;
      const serial = tls ? (socket.getPeerCertificate?.().serialNumber ?? null) : null;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          serial: serial?.toUpperCase() ?? null,
        }),
      );
      res.on('error', reject);
    };
    const req = tls
      ? httpsRequest(url, { ...common, ...(options.ca ? { ca: options.ca } : {}) }, onResponse)
      : httpRequest(url, common, onResponse);
    req.on('error', reject);
    req.end(body);
  });
}

/** A fetch-shaped function over call() (for AgentClient and the hub client), with the same options for every request. */
export function fetchVia(options: Omit<CallOptions, 'method' | 'headers' | 'body'>) {
  return async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
    const res = await call(url, { ...options, method: init.method, headers: init.headers, body: init.body });
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers))
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const empty = res.status === 204 || res.status === 304;
    return new Response(empty ? null : res.body, { status: res.status, headers });
  };
}

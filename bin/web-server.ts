import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { isOrigin } from '../lib/protocol/fields';

/**
 * A minimal static file server for the built web vault (`dist/web`). Node-only, so it lives in `bin/`, not `lib/`.
 * The server itself listens on loopback only: the vault holds secrets, and the page that opens them should not be
 * served to the network. The hubs the page may talk to are another matter (see {@link webVaultCsp}).
 */
export const HOST = '127.0.0.1';

/**
 * The hubs the web vault may always reach: one on this machine (`npm start`, `clawkeep hub` on loopback), on any
 * port. A hub elsewhere is added by its origin (`clawkeep web --hub-origin`), never by a wildcard.
 */
const LOOPBACK_CONNECT_SOURCES = ['http://127.0.0.1:*', 'http://localhost:*'] as const;

/**
 * `value` as a hub origin the CSP may name: an https origin (or http on loopback), exactly as `URL.origin` writes it,
 * so scheme, host and port only. Anything else (a path, a trailing slash, a wildcard, `*`, a CSP keyword, a space
 * or `;` that would start another directive) is refused rather than cleaned up: the value goes into a security
 * header verbatim.
 * @throws TypeError naming the value
 */
export function hubOriginForCsp(value: string): string {
  // The URL parser lets `*` through in a host (`https://*.example.com` is an origin to it); in a CSP it is a
  // wildcard. A host name of letters, digits, dots and hyphens, or an IPv6 literal, is all a hub needs.
  if (!isOrigin(value) || !/^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/.test(new URL(value).hostname)) {
    throw new TypeError(
      `not a hub origin: "${value}" (give https://HOST or https://HOST:PORT exactly, without a path or a trailing slash)`,
    );
  }
  return value;
}

/**
 * The web vault's Content-Security-Policy. It allows WebAssembly compilation (Argon2id) and, for device pairing and
 * sync with a hub, requests to loopback hubs plus the `hubOrigins` given (each checked by {@link hubOriginForCsp}),
 * nothing looser.
 * @throws TypeError for a value that is not an origin
 */
export function webVaultCsp(hubOrigins: readonly string[] = []): string {
  const hubs = [...new Set(hubOrigins.map(hubOriginForCsp))];
  const connect = ["'self'", ...LOOPBACK_CONNECT_SOURCES, ...hubs].join(' ');
  return (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    `connect-src ${connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`
  );
}

/** Sent with every response, errors included; `hubOrigins` widen the CSP's connect-src (webVaultCsp). */
export function securityHeaders(hubOrigins: readonly string[] = []): Readonly<Record<string, string>> {
  return {
    'Content-Security-Policy': webVaultCsp(hubOrigins),
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    // COOP + COEP make the page cross-origin isolated, so its KDF worker fills Argon2id's lanes on parallel lane
    // workers over shared memory (lib/crypto/argon2/): ~0.9x the native CLI instead of ~1.8x on one thread
    // (docs/performance.md). Everything the vault loads is its own (CSP 'self'), and a hub is reached by CORS fetch,
    // which require-corp allows.
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
  };
}

/** The headers of a server started without `hubOrigins`: loopback hubs only. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = securityHeaders();

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root + path.sep);
}

/**
 * Maps a request path to a file under `root`, or null when it must be refused (traversal, NUL, bad encoding,
 * a symlink pointing outside `root`) or does not exist. A directory maps to its index.html.
 */
export async function resolveFile(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  // Reject any `..` segment outright instead of normalising it away: no legitimate asset URL has one.
  if (decoded.split('/').includes('..')) return null;
  let file = path.resolve(root, '.' + decoded);
  if (!isInside(root, file)) return null;
  try {
    let info = await stat(file);
    if (info.isDirectory()) {
      file = path.join(file, 'index.html');
      info = await stat(file);
    }
    if (!info.isFile()) return null;
    const real = await realpath(file);
    return isInside(root, real) ? real : null;
  } catch {
    return null;
  }
}

function sendText(
  res: http.ServerResponse,
  headers: Readonly<Record<string, string>>,
  status: number,
  text: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : text + '\n');
}

/**
 * The request handler, exported so tests and other servers can mount it. `root` must be a real absolute path;
 * `headers` (default {@link SECURITY_HEADERS}) go on every response.
 */
export function createStaticHandler(
  root: string,
  headers: Readonly<Record<string, string>> = SECURITY_HEADERS,
): http.RequestListener {
  const reply = (res: http.ServerResponse, status: number, text: string, extra?: Record<string, string>) =>
    sendText(res, headers, status, text, extra);
  return (req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        reply(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
        return;
      }
      const urlPath = (req.url ?? '/').split('?')[0]!.split('#')[0]!;
      if (!urlPath.startsWith('/')) {
        reply(res, 400, 'bad request');
        return;
      }
      const file = await resolveFile(root, urlPath);
      if (!file) {
        reply(res, 404, 'not found');
        return;
      }
      const { size } = await stat(file);
      res.writeHead(200, {
        ...headers,
        'Content-Type': contentTypeFor(file),
        'Content-Length': String(size),
        // Hashed assets could be cached forever, but a local vault gains nothing from it; always revalidate.
        'Cache-Control': 'no-cache',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    })().catch(() => {
      if (!res.headersSent) reply(res, 500, 'internal error');
      else res.destroy();
    });
  };
}

export interface WebServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1:`port` (0 = any free port). `hubOrigins`: hubs on other machines the page may call,
 * added to the CSP's connect-src (loopback hubs are always allowed).
 * @throws TypeError for a hub origin that is not an origin (before anything listens); Error if `dir` has no
 *   index.html; the listen error (e.g. EADDRINUSE) if the port is taken.
 */
export async function startWebServer(options: {
  dir: string;
  port?: number;
  hubOrigins?: readonly string[];
}): Promise<WebServer> {
  const headers = securityHeaders(options.hubOrigins);
  let root: string;
  try {
    root = await realpath(path.resolve(options.dir));
    await stat(path.join(root, 'index.html'));
  } catch {
    throw new Error(
      `no built web vault in ${path.resolve(options.dir)} (index.html missing): run \`npm run build:web\` first`,
    );
  }
  const server = http.createServer(createStaticHandler(root, headers));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

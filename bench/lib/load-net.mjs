// The load harness's view of the network (bench/hub-load.mjs): a WHATWG-fetch-like function that the real agent SDK
// (lib/agent AgentClient) and the real device client (lib/hub-client HubClient) accept, standing in for what a
// layer-4 load balancer in front of several hub instances gives their clients:
//  - every client is configured with ONE public origin (all instances run with the same --public-origin, so
//    signatures, statements and the Host check bind to it), while each request is sent to one of the instances'
//    loopback ports, round-robin, with the public Host header kept (what a TCP balancer forwards unchanged);
//  - a connection refused (the instance is down: killed, restarting) is tried on the next instance, as a balancer's
//    health check would; nothing was sent, so this cannot do anything twice. A connection that breaks after the
//    request went out is NOT retried here: that is the SDK's job (issue 16: lost answers, idempotent execute);
//  - the loopback source address is chosen (127.0.0.x), because registrations and enrolments are limited per
//    client address;
//  - 2xx bodies stream (GET /v1/events), error bodies (small) are read here so their code can be counted: the
//    harness counts every answer of the hubs by status and error code (auth_stale, rate_limited, …), whatever the
//    clients then do with it.
import http from 'node:http';
import { Readable } from 'node:stream';

/** Longest a non-streaming request may take (a held long poll is at most 25 s): loops stay bounded. */
const REQUEST_TIMEOUT_MS = 90_000;

/** One keep-alive pool for everything; node keys its sockets by host, port and local address. */
const pool = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096, scheduling: 'lifo' });

/** Counters of what the hubs answered, shared by all fetches of one process. */
export function newWireStats() {
  return { answers: {}, transport: {}, routes: {}, failovers: 0, connects: { n: 0, over1s: 0, maxMs: 0 } };
}

const bump = (o, k, n = 1) => (o[k] = (o[k] ?? 0) + n);

/** `GET /v1/intents/int_…?wait=25` → `GET /v1/intents/:id?wait`: request counts per route, never ids. */
export function routeKey(method, path) {
  const [p, q] = path.split('?');
  const norm = p
    .split('/')
    .map((s) => (/^(int|agt|ins|acc|dev|pair|cfg)_/.test(s) || s.length > 20 ? ':id' : s))
    .join('/');
  const query = q ? `?${[...new URLSearchParams(q).keys()].join('&')}` : '';
  return `${method} ${norm}${query}`;
}

/**
 * @param {{ publicOrigin: string, ports: () => number[], localAddress?: string, stats: ReturnType<typeof newWireStats>, start?: () => number }} o
 *   `ports()` lists the instances' ports (read per request); `start()` picks the first one to try (round-robin by default).
 */
export function routedFetch({ publicOrigin, ports, localAddress = '127.0.0.1', stats, start }) {
  const origin = new URL(publicOrigin);
  let rr = Math.floor(Math.random() * 1000);
  const pick = start ?? (() => rr++);

  const once = (port, url, init) =>
    new Promise((resolve, reject) => {
      const u = new URL(url);
      if (u.origin !== origin.origin) throw new Error(`routedFetch: ${u.origin} is not ${origin.origin}`);
      const streaming = (init.headers?.accept ?? '').includes('text/event-stream');
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          localAddress,
          agent: pool,
          method: init.method ?? 'GET',
          path: u.pathname + u.search,
          headers: { ...init.headers, host: origin.host },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
          if (status >= 200 && status < 300) {
            bump(stats.answers, String(status));
            req.setTimeout(0);
            const body = status === 204 || status === 304 ? null : Readable.toWeb(res);
            resolve(new Response(body, { status, headers }));
            return;
          }
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const buf = Buffer.concat(chunks);
            let code = '';
            try {
              code = JSON.parse(buf.toString('utf8'))?.error?.code ?? '';
            } catch {}
            bump(stats.answers, code ? `${status} ${code}` : String(status));
            resolve(new Response(buf.length ? buf : null, { status, headers }));
          });
        },
      );
      if (!streaming) req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('request timed out')));
      const signal = init.signal;
      if (signal) {
        if (signal.aborted) req.destroy(new Error('aborted'));
        else signal.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
      }
      req.on('error', reject);
      // How long new connections take to open: a listen queue that overflows shows as SYN retries (1 s, 3 s, 7 s …).
      const t0 = performance.now();
      let reused = true;
      req.once('response', () => {
        const took = performance.now() - t0;
        if (took > 30_000 && !u.search.includes('wait='))
          bump(
            stats.transport,
            `answer after ${Math.round(took / 1000)} s: ${routeKey(init.method ?? 'GET', u.pathname)} on a ${reused ? 'reused' : 'new'} socket`,
          );
      });
      req.once('socket', (socket) => {
        if (!socket.connecting) return;
        reused = false;
        socket.once('connect', () => {
          const ms = performance.now() - t0;
          stats.connects.n++;
          if (ms > 1000) stats.connects.over1s++;
          stats.connects.maxMs = Math.max(stats.connects.maxMs, ms);
        });
      });
      req.end(init.body === undefined ? undefined : Buffer.from(init.body));
    });

  return async function fetchLike(url, init = {}) {
    bump(stats.routes, routeKey(init.method ?? 'GET', new URL(url).pathname + new URL(url).search));
    const list = ports();
    const first = pick();
    let last;
    for (let i = 0; i < list.length; i++) {
      const port = list[(first + i) % list.length];
      try {
        return await once(port, url, init);
      } catch (err) {
        last = err;
        const code = err?.code ?? (err?.message === 'request timed out' ? 'timeout' : 'other');
        if (code !== 'ECONNREFUSED') {
          bump(stats.transport, code);
          throw err;
        }
        bump(stats.transport, 'ECONNREFUSED');
        if (i + 1 < list.length) stats.failovers++;
      }
    }
    throw last;
  };
}

/** Closes the pool's idle sockets (end of a run). */
export function closeIdleSockets() {
  pool.destroy();
}

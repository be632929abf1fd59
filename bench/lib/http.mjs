// A small HTTP/1.1 client on node:http, for two things global fetch does not offer:
//  - choosing the loopback source address (127.0.0.x), because the hub rate-limits registrations and enrolments
//    per client address and the throughput bench needs many agents (see hub-throughput.mjs);
//  - a plain keep-alive request loop with as little client overhead as possible, identical for both servers.
import http from 'node:http';

/**
 * A WHATWG-fetch-like function (what AgentClient and HubClient accept) whose connections come from `localAddress`.
 * Buffers the whole body; enough for JSON requests, not for event streams.
 */
export function fetchFrom(localAddress) {
  const agent = new http.Agent({ keepAlive: true, localAddress });
  const fetchLike = (url, init = {}) =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
          const body = res.statusCode === 204 || res.statusCode === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(body, { status: res.statusCode, headers }));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(init.body);
    });
  fetchLike.close = () => agent.destroy();
  return fetchLike;
}

/** POST `body` with `headers` over `agent` and resolve with the status once the response is fully read. */
export function post(agent, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// @vitest-environment node
// hub/server-limits.ts on a real node:http server with small limits: half-open requests are cut, a response that
// outlives the request timeout (an event stream, a long poll) is not, and connections past the cap are dropped.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  applyServerLimits,
  defaultServerLimits,
  LISTEN_BACKLOG,
  maxConnectionsFor,
  openFileLimit,
  type ServerLimits,
} from '../../../hub/server-limits';

const SMALL: ServerLimits = {
  headersTimeoutMs: 300,
  requestTimeoutMs: 600,
  checkIntervalMs: 50,
  keepAliveTimeoutMs: 5_000,
  socketIdleTimeoutMs: 5_000,
  maxConnections: 3,
};

let server: http.Server | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function listen(handler: http.RequestListener): Promise<number> {
  server = applyServerLimits(http.createServer(handler), SMALL);
  await new Promise<void>((r) => server!.listen({ port: 0, host: '127.0.0.1', backlog: LISTEN_BACKLOG }, r));
  return (server.address() as AddressInfo).port;
}

/** Connects and writes `text`; resolves with the socket and a promise of everything read until it closes. */
async function open(port: number, text: string) {
  const socket = net.connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  let out = '';
  socket.on('data', (d) => (out += d.toString()));
  const closed = new Promise<string>((r) => socket.on('close', () => r(out)));
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  socket.write(text);
  return { socket, closed };
}

/** Resolves with `p`'s value, or `timedOut` after `ms` (a bound on waiting, not an assertion on time). */
const within = <T>(p: Promise<T>, ms: number, timedOut: T) =>
  Promise.race([p, new Promise<T>((r) => setTimeout(() => r(timedOut), ms))]);

describe('server limits', () => {
  it('a request whose headers never end is answered 408 and closed', async () => {
    const port = await listen((_req, res) => res.end('ok'));
    const { closed } = await open(port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1');
    expect(await within(closed, 10_000, 'still open')).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a response that lasts longer than the request timeout is not cut: only receiving the request is timed', async () => {
    const port = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': first\n\n');
      setTimeout(() => res.end(': last\n\n'), 3 * SMALL.requestTimeoutMs);
    });
    const { closed } = await open(port, 'GET /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const out = await within(closed, 10_000, 'still open');
    expect(out).toMatch(/^HTTP\/1\.1 200/);
    expect(out).toContain(': last');
  });

  it('connections beyond maxConnections are closed as they arrive', async () => {
    const port = await listen((_req, res) => res.end('ok'));
    for (let i = 0; i < SMALL.maxConnections; i++) await open(port, 'GET / HTTP/1.1\r\nHost: x');
    const extra = await open(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    // Dropped without an answer (the three held ones would be answered 408 later, this one never is).
    expect(await within(extra.closed, 10_000, 'still open')).toBe('');
  });

  it('the connection cap leaves descriptors for the rest of the process', () => {
    const limits = '...\nMax open files            20000                20000                files     \n...';
    expect(openFileLimit(limits)).toBe(20000);
    expect(openFileLimit('Max open files  unlimited  unlimited  files')).toBe(Number.MAX_SAFE_INTEGER);
    expect(openFileLimit('nothing here')).toBeNull();
    expect(maxConnectionsFor(1024)).toBe(768);
    expect(maxConnectionsFor(20000)).toBe(10_000);
    expect(maxConnectionsFor(null)).toBeGreaterThan(1_300);
    expect(maxConnectionsFor(100)).toBe(64);
    const d = defaultServerLimits();
    expect(d.headersTimeoutMs).toBeLessThanOrEqual(d.requestTimeoutMs);
    // Quieter than any legitimate stream: events ping every 15 s, long polls hold at most 30 s.
    expect(d.socketIdleTimeoutMs).toBeGreaterThan(30_000);
  });

  it('refuses a server that already listens', async () => {
    await listen((_req, res) => res.end());
    expect(() => applyServerLimits(server!, SMALL)).toThrow(/before listen/);
  });
});

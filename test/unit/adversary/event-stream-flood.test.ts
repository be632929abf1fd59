// @vitest-environment node
// Issue 13 item 12: a hostile hub must not grow the client's memory through its event stream. The hub here is a raw
// HTTP server on 127.0.0.1 that answers GET /v1/events with an endless stream, as a hub operator could: the real
// HubClient reads it with the platform fetch. It must fail with a typed error and close the connection, having read
// a bounded amount.
import { ed25519 } from '@noble/curves/ed25519.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HubClient } from '../../../lib/hub-client/client';
import { HubClientError } from '../../../lib/hub-client/errors';
import { SSE_MAX_EVENT } from '../../../lib/hub-client/sse';
import { deviceKeyId } from '../../../lib/protocol/keys';

interface Flood {
  url: string;
  /** Bytes written before the client hung up. */
  sent: () => number;
  /** Resolves when the client closed the connection. */
  closed: Promise<void>;
  close: () => Promise<void>;
}

/** A "hub" whose event stream writes `chunk` forever (as fast as the client reads), after `prefix`. */
async function floodingHub(prefix: string, chunk: string): Promise<Flood> {
  let sent = 0;
  let onClosed!: () => void;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith('/v1/events')) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(prefix);
    const buf = Buffer.from(chunk.repeat(Math.ceil(65536 / chunk.length)));
    let open = true;
    res.on('close', () => {
      open = false;
      onClosed();
    });
    const pump = () => {
      while (open) {
        sent += buf.length;
        if (!res.write(buf)) return void res.once('drain', pump);
      }
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    sent: () => sent,
    closed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function client(hub: string): HubClient {
  const privateKey = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(privateKey);
  return new HubClient({
    hub,
    signer: { role: 'human', keyId: deviceKeyId(publicKey), sign: async (m) => ed25519.sign(m, privateKey) },
  });
}

let hub: Flood | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

describe('a hub flooding the event stream', () => {
  it.each([
    ['one endless data: line', 'event: intents\ndata: ', 'x'],
    [
      'data: lines forever without the blank line that ends an event',
      'event: intents\n',
      'data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n',
    ],
  ])(
    '%s gets a typed error and the stream closed, after a bounded read',
    async (_name, prefix, chunk) => {
      hub = await floodingHub(prefix, chunk);
      const events: unknown[] = [];
      const err = await client(hub.url)
        .events((e) => events.push(e))
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(HubClientError);
      expect((err as HubClientError).code).toBe('hub_bad_response');
      expect(events).toEqual([]);
      // The client hung up: the hub's side of the connection closes (it would otherwise pump forever).
      await hub.closed;
      // Bounded: the cap in characters, plus what was in flight in socket buffers and fetch's queue.
      expect(hub.sent()).toBeLessThan(SSE_MAX_EVENT + 16 * 1024 * 1024);
    },
    20_000,
  );
});

// A minimal gateway client for the harness smoke test only (lib/openclaw replaces it): the spec §1 handshake
// (connect.challenge → connect with a fresh Ed25519 device identity and token auth → hello-ok), requests and events.
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import WebSocket from 'ws';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function newDeviceIdentity() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return {
    id: createHash('sha256').update(raw).digest('hex'),
    publicKey: b64url(raw),
    sign: (text) => b64url(sign(null, Buffer.from(text, 'utf8'), privateKey)),
  };
}

/**
 * @param {{ url: string, token: string, scopes: string[], caps?: string[], clientId?: string, mode?: string,
 *   displayName?: string, origin?: string, timeoutMs?: number }} o
 */
export async function connectClient(o) {
  const ws = new WebSocket(o.url, o.origin ? { origin: o.origin } : {});
  const pending = new Map();
  const events = [];
  const waiters = new Set();
  const timeoutMs = o.timeoutMs ?? 20000;
  let challengeResolve;
  const challenge = new Promise((r) => (challengeResolve = r));

  ws.on('message', (data) => {
    let f;
    try {
      f = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (f.type === 'res' && pending.has(f.id)) {
      const p = pending.get(f.id);
      pending.delete(f.id);
      p(f);
    } else if (f.type === 'event') {
      if (f.event === 'connect.challenge') challengeResolve(f.payload);
      events.push(f);
      for (const w of waiters) w(f);
    }
  });
  const closed = new Promise((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });

  /** @returns {Promise<{ok: boolean, payload?: any, error?: any}>} */
  function request(method, params) {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`timeout waiting for ${method}`));
      }, timeoutMs);
      pending.set(id, (f) => {
        clearTimeout(t);
        resolve(f);
      });
      ws.send(JSON.stringify({ type: 'req', id, method, params }));
    });
  }

  function waitEvent(name, pred = () => true, ms = timeoutMs) {
    const hit = events.find((e) => e.event === name && pred(e.payload));
    if (hit) return Promise.resolve(hit.payload);
    return new Promise((resolve, reject) => {
      const w = (f) => {
        if (f.event === name && pred(f.payload)) {
          waiters.delete(w);
          clearTimeout(t);
          resolve(f.payload);
        }
      };
      const t = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`timeout waiting for event ${name}`));
      }, ms);
      waiters.add(w);
    });
  }

  const ch = await Promise.race([
    challenge,
    new Promise((_, rej) => setTimeout(() => rej(new Error('no connect.challenge')), timeoutMs)),
  ]);
  const device = newDeviceIdentity();
  const clientId = o.clientId ?? 'cli';
  const mode = o.mode ?? 'cli';
  const role = 'operator';
  const platform = 'linux';
  const signedAt = ch.ts;
  const payload = [
    'v3',
    device.id,
    clientId,
    mode,
    role,
    o.scopes.join(','),
    signedAt,
    o.token,
    ch.nonce,
    platform,
    '',
  ].join('|');
  const res = await request('connect', {
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: clientId, version: '0.0.0', platform, mode, displayName: o.displayName ?? 'clawkeep-smoke' },
    role,
    scopes: o.scopes,
    caps: o.caps ?? [],
    auth: { token: o.token },
    device: { id: device.id, publicKey: device.publicKey, signature: device.sign(payload), signedAt, nonce: ch.nonce },
  });
  if (!res.ok) {
    ws.close();
    const err = new Error(`connect refused: ${res.error?.code} ${res.error?.message}`);
    /** @type {any} */ (err).details = res.error;
    throw err;
  }
  return {
    hello: res.payload,
    deviceId: device.id,
    request,
    waitEvent,
    events: () => events.slice(),
    closed,
    close: () => {
      ws.close();
      return closed;
    },
  };
}

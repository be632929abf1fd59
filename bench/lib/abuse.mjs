// A local process flooding the hub (issue 16 must-show 5; docs/threat-model.md): half-open sockets and unfinished
// uploads held open against a real hub process, while a real agent and a real device make signed requests. Shared by
// test/unit/adversary/hub-abuse.test.ts (asserts correctness and bounded memory) and bench/hub-abuse.mjs (prints the
// p95 ratio against the same requests without the flood). Loopback only; every socket it opens is closed by stop().
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** VmRSS of a process in bytes, from /proc (Linux); null where /proc is absent. */
export function rssBytes(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** p-th percentile (0..100) of numbers, nearest rank. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Opens `count` connections at most `parallel` at a time; each runs `onConnect(socket)` once connected. */
async function openMany(url, count, parallel, onConnect) {
  const { hostname, port } = new URL(url);
  const sockets = [];
  let next = 0;
  const one = () =>
    new Promise((resolve) => {
      const socket = net.connect({ host: hostname, port: Number(port) });
      const entry = { socket, status: null, closed: false, error: null, head: '' };
      sockets.push(entry);
      socket.setNoDelay(true);
      socket.on('data', (d) => {
        if (entry.head.length < 64) entry.head += d.toString('latin1');
        const m = /^HTTP\/1\.1 (\d{3})/.exec(entry.head);
        if (m && entry.status === null) entry.status = Number(m[1]);
      });
      socket.on('error', (err) => {
        entry.error = err.code ?? err.message;
        resolve();
      });
      socket.on('close', () => {
        entry.closed = true;
        resolve();
      });
      socket.on('connect', () => {
        onConnect(socket, sockets.length - 1);
        resolve();
      });
    });
  const lane = async () => {
    while (next < count) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return sockets;
}

/**
 * `count` half-open requests: half send part of a request line, half a request line and some headers but never the
 * blank line that ends them. Nothing more is sent.
 */
export function openHalfOpen(url, count) {
  const host = new URL(url).host;
  return openMany(url, count, 100, (socket, i) => {
    socket.write(
      i % 2 === 0
        ? 'GET /v1/agents/me HT'
        : `POST /v1/intents HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nX-Pad: ${'p'.repeat(64)}`,
    );
  });
}

/**
 * Unfinished uploads: each sends a request head declaring `declared` bytes, then `send` bytes of body, then stalls.
 * `headers()` gives extra headers per upload (the ck-* of a forged signature). One shared buffer is written, so the
 * client side holds little memory however much it sends.
 */
export async function openStalledUploads(url, { count, method = 'POST', path, declared, send, headers = () => ({}) }) {
  const host = new URL(url).host;
  const chunk = Buffer.alloc(64 * 1024, 0x20); // spaces: a JSON-ish body nobody will ever finish
  return openMany(url, count, 50, (socket) => {
    const head = [
      `${method} ${path} HTTP/1.1`,
      `Host: ${host}`,
      'Content-Type: application/json',
      `Content-Length: ${declared}`,
      ...Object.entries(headers()).map(([k, v]) => `${k}: ${v}`),
      '',
      '',
    ].join('\r\n');
    socket.write(head);
    for (let left = send; left > 0 && !socket.destroyed; left -= chunk.length) {
      socket.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
    }
  });
}

/** What became of a group of sockets: answered statuses, closed by the server without an answer, still open. */
export function summarize(sockets) {
  const statuses = {};
  let closedSilently = 0;
  let open = 0;
  for (const s of sockets) {
    if (s.status !== null) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    else if (s.closed || s.error) closedSilently++;
    else open++;
  }
  return { total: sockets.length, statuses, closedSilently, open };
}

/** Resolves once `done(socket)` holds for every socket (or it closed or failed), or after `maxMs`: a bound, not a check. */
async function until(sockets, done, maxMs) {
  for (let waited = 0; waited < maxMs; waited += 100) {
    if (sockets.every((s) => s.closed || s.error || done(s))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every socket has an answer, or is closed (bounded by `maxMs`). */
export const answeredOrClosed = (sockets, maxMs) => until(sockets, (s) => s.status !== null, maxMs);

/** Every socket handed all it was given to the kernel, or is closed (bounded by `maxMs`). */
export const flushed = (sockets, maxMs) => until(sockets, (s) => s.socket.writableLength === 0, maxMs);

/**
 * startFlood, then waits (bounded) until the uploads' bodies have arrived or been refused and the unknown-key
 * uploads are answered, so what is measured next runs under the whole flood.
 */
export async function floodAndSettle(url, options) {
  const flood = await startFlood(url, options);
  await flushed([...flood.registrationsLarge, ...flood.forgedPushes], 20_000);
  await answeredOrClosed(flood.unknownKeyPushes, 10_000);
  return flood;
}

export function closeAll(groups) {
  for (const group of groups) for (const s of group) s.socket.destroy();
}

/**
 * The flood of must-show 5: 1,000 half-open sockets and 250 unfinished unauthenticated uploads, of four kinds:
 *  - 100 registrations (POST /v1/agents, unauthenticated) declaring 390 KiB and sending 4 KiB;
 *  - 50 registrations declaring 390 KiB and sending all but 1 KiB of it;
 *  - 50 vault pushes declaring 4 MiB and sending all but 1 KiB, with ck-* headers that name the real device's key
 *    and a fresh timestamp but carry a forged signature (they pass every header check; only the body hash could
 *    show the forgery, so the hub must read them within its budget);
 *  - 50 vault pushes declaring 4 MiB, sending 64 KiB, naming keys the hub does not know.
 * Returns the socket groups (summarize / closeAll them).
 */
export async function startFlood(url, { deviceKeyId, randomId }) {
  const forged = (keyId) => () => ({
    'ck-role': keyId.startsWith('dev_') ? 'human' : 'agent',
    'ck-key-id': keyId,
    'ck-timestamp': String(Math.floor(Date.now() / 1000)),
    'ck-nonce': randomId(16),
    'ck-signature': randomId(64),
  });
  const halfOpen = await openHalfOpen(url, 1000);
  const registrationsSmall = await openStalledUploads(url, {
    count: 100,
    path: '/v1/agents',
    declared: 390 * 1024,
    send: 4 * 1024,
  });
  const registrationsLarge = await openStalledUploads(url, {
    count: 50,
    path: '/v1/agents',
    declared: 390 * 1024,
    send: 389 * 1024,
  });
  const forgedPushes = await openStalledUploads(url, {
    count: 50,
    path: '/v1/vault',
    declared: 4 * 1024 * 1024,
    send: 4 * 1024 * 1024 - 1024,
    headers: forged(deviceKeyId),
  });
  const unknownKeyPushes = await openStalledUploads(url, {
    count: 50,
    path: '/v1/vault',
    declared: 4 * 1024 * 1024,
    send: 64 * 1024,
    headers: () => forged(`agt_${randomId(16)}`)(),
  });
  return { halfOpen, registrationsSmall, registrationsLarge, forgedPushes, unknownKeyPushes };
}

/**
 * `count` signed requests as a real agent and device make them, `lanes` at a time, each with its own `timeoutMs`:
 * the agent asks for its status (GET /v1/agents/me) and creates intents (POST /v1/intents), the device lists what
 * is pending (GET /v1/intents?status=pending). Resolves with each request's kind, outcome and milliseconds.
 */
export async function signedRequests({ agent, device }, { count, lanes = 5, tag }) {
  const kinds = ['agent.status', 'agent.createIntent', 'device.pending'];
  const results = [];
  let next = 0;
  const one = async (i) => {
    const kind = kinds[i % kinds.length];
    const t0 = performance.now();
    try {
      let ok = false;
      if (kind === 'agent.status') ok = (await agent.status()).status === 'claimed';
      else if (kind === 'agent.createIntent') {
        const intent = await agent.createIntent({
          kind: 'action.approve',
          payload: { summary: `${tag} ${i}`, risk: 'low' },
        });
        ok = intent.status === 'pending';
      } else ok = Array.isArray(await device.pendingIntents());
      results.push({ kind, ok, ms: performance.now() - t0 });
    } catch (err) {
      results.push({ kind, ok: false, ms: performance.now() - t0, error: err?.code ?? err?.name ?? String(err) });
    }
  };
  const lane = async () => {
    while (next < count) await one(next++);
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}

/**
 * Enrols a device with `enrollmentCode` and returns it with `claimedAgent()`, which registers an agent and claims it
 * from that device (what the extension signs, default policy), the way bench/hub-throughput.mjs provisions. `lib`
 * holds the product modules (loaded through tsx by the bench, imported directly by the test); `fetch` is what both
 * clients send with (the caller adds its per-request timeout there).
 */
export async function enrolledDevice(url, enrollmentCode, lib, fetch) {
  const { AgentClient, generateAgentKeys, HubClient, signClaim, deviceKeyId, encodePublicKey, claimCodeHash, ed25519 } =
    lib;
  const devicePrivate = ed25519.utils.randomSecretKey();
  const devicePublic = ed25519.getPublicKey(devicePrivate);
  const keyId = deviceKeyId(devicePublic);
  const device = new HubClient({
    hub: url,
    fetch,
    signer: { role: 'human', keyId, sign: async (m) => ed25519.sign(m, devicePrivate) },
  });
  await device.enroll(enrollmentCode, devicePublic);
  let n = 0;
  const claimedAgent = async () => {
    const agent = new AgentClient({ fetch, keys: generateAgentKeys() });
    const reg = await agent.register({
      hub: url,
      name: `flood-probe-${n++}`,
      manifest: { markdown: '# probe' },
      requestedScopes: ['action:action.approve'],
    });
    const pub = agent.publicKeys;
    await device.claim(
      signClaim(devicePrivate, {
        hub: url,
        agent_id: reg.agent_id,
        agent_signing_key: pub.signing_key,
        agent_box_key: pub.box_key,
        claim_code_hash: claimCodeHash(reg.claim_code),
        granted_scopes: ['action:action.approve'],
        policy: {
          approval_required: ['action.approve', 'message.send', 'payment.send', 'secret.request', 'shell.exec'],
          daily_limit: null,
        },
        installation_id: `ins_${Buffer.from(ed25519.utils.randomSecretKey().subarray(0, 16)).toString('base64url')}`,
        device_key: encodePublicKey(devicePublic),
        time: Date.now(),
      }),
    );
    if ((await agent.status()).status !== 'claimed') throw new Error('the probe agent was not claimed');
    return agent;
  };
  return { device, deviceKeyId: keyId, claimedAgent };
}

// Child process: the floor of a durable signed intent on this machine, for bench/hub-throughput.mjs. The same
// framework and adapter as the hub and the bare endpoint (Hono on @hono/node-server), and only the work no hub can
// skip for one intent: the request signature checked with the hub's own code (lib/protocol/request-signing.ts on
// Node's OpenSSL Ed25519, hub/ed25519-node.ts), the nonce, the intent row and a hash-chained audit row written to
// SQLite with the hub's durability (WAL, synchronous=FULL), the writes of one event-loop turn sharing one COMMIT,
// and each answer sent after that COMMIT. No middleware, scopes, budgets, validation, events or logging.
//
// The parent sends the agents' public keys ({ keys: { agentId: base64url } }) before driving it.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { importTs } from './ts.mjs';

const [signing, ed25519Node, base64url] = await importTs(
  'lib/protocol/request-signing.ts',
  'hub/ed25519-node.ts',
  'lib/protocol/base64url.ts',
);
ed25519Node.useNodeEd25519();

const dir = mkdtempSync(path.join(tmpdir(), 'clawkeep-floor-'));
const db = new Database(path.join(dir, 'floor.sqlite'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`CREATE TABLE nonces (key_id TEXT, nonce TEXT, expires_at INTEGER, PRIMARY KEY (key_id, nonce));
         CREATE TABLE intents (id TEXT PRIMARY KEY, agent TEXT, idem TEXT, payload TEXT, hash BLOB, created INTEGER,
                               UNIQUE (agent, idem));
         CREATE TABLE audit (seq INTEGER PRIMARY KEY, action TEXT, resource TEXT, prev_hash TEXT, entry_hash TEXT);`);
const insertNonce = db.prepare('INSERT OR IGNORE INTO nonces VALUES (?, ?, ?)');
const insertIntent = db.prepare('INSERT INTO intents VALUES (?, ?, ?, ?, ?, ?)');
const insertAudit = db.prepare('INSERT INTO audit VALUES (?, ?, ?, ?, ?)');
let seq = 0;
let head = '0'.repeat(64);

/**
 * The open group: its answers wait for its COMMIT, at the end of the turn that opened it. A request's nonce and its
 * intent are written in the same group (the nonce first, so a replay in the same turn is refused).
 */
let held = null;
function openGroup() {
  if (held) return held;
  db.exec('BEGIN IMMEDIATE');
  const group = (held = []);
  setImmediate(() => {
    held = null;
    db.exec('COMMIT');
    for (const settle of group) settle();
  });
  return group;
}
const committed = (group) => new Promise((resolve) => group.push(resolve));

const keys = new Map();
process.on('message', (m) => {
  if (m?.keys) {
    for (const [id, key] of Object.entries(m.keys)) keys.set(id, base64url.fromBase64Url(key));
    process.send('keys');
  }
});

const app = new Hono().post('/v1/intents', async (c) => {
  const now = Date.now();
  const checked = await signing.checkRequestHeaders({
    headers: c.req.raw.headers,
    now,
    publicKeyFor: (role, id) => (role === 'agent' ? (keys.get(id) ?? null) : null),
  });
  const body = new Uint8Array(await c.req.arrayBuffer());
  const { keyId } = await signing.verifyRequestBody(checked, {
    method: 'POST',
    path: '/v1/intents',
    body,
    hub: new URL(c.req.url).origin,
    seenNonce: (id, nonce, expiresAt, role) => {
      openGroup();
      return insertNonce.run(`${role}:${id}`, nonce, expiresAt).changes !== 1;
    },
  });
  const req = JSON.parse(new TextDecoder().decode(body));
  const hash = createHash('sha256')
    .update(JSON.stringify([req.kind, req.payload]))
    .digest();
  const id = `int_${randomBytes(16).toString('base64url')}`;
  const group = openGroup();
  insertIntent.run(id, keyId, req.idempotency_key, JSON.stringify(req.payload), hash, now);
  const entry = createHash('sha256').update(`${head}|intent.create|intent:${id}|${now}`).digest('hex');
  insertAudit.run(++seq, 'intent.create', `intent:${id}`, head, entry);
  head = entry;
  await committed(group);
  return c.json({ intent_id: id, status: 'pending', payload_hash: hash.toString('hex') }, 201);
});
app.onError((err, c) => c.json({ error: String(err?.code ?? 'error') }, 400));

// The hub's origin check needs the URL the client used: 127.0.0.1 and the port, as for the hub.
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.send({ url: `http://127.0.0.1:${info.port}` });
});
process.on('SIGTERM', () =>
  server.close(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }),
);

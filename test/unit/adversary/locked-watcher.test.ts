// @vitest-environment node
// The locked watcher's credential (issue 15, hub/routes/watch.ts) sits unencrypted in the extension's local storage:
// a local process, malware, or a hub that logs its requests can have it. Whoever holds it must learn no more than
// which intent ids wait, and must not approve, read a payload, reach a secret or the vault, register itself again,
// or outlive the device's removal. Each `it` fails when its defence is removed (docs/threat-model.md "Locked watcher").
import { describe, expect, it } from 'vitest';
import { intentEvents } from '../../../hub/events';
import { newWatchToken, watchTokenHash } from '../../../lib/protocol/watch-wire';
import { hubFixture } from '../hub/flow';

type Hub = Awaited<ReturnType<typeof hubFixture>>;

const SECRET_ASK = {
  kind: 'secret.request',
  payload: { item: 'arxiv-key', reason: 'Fetch the paper list for the weekly digest' },
  idempotency_key: 'sec-1',
  agent_nonce: 'nonce-watch-1'.padEnd(22, 'A'),
};

/** An enrolled device with a registered watch token, a claimed agent and one pending secret request. */
async function lockedSetup(hub: Hub) {
  const owner = await hub.enrolledDevice();
  const agent = await hub.claimedAgent(owner);
  const token = newWatchToken();
  const reg = await owner.send('PUT', '/v1/watch', { token_sha256: watchTokenHash(token) });
  expect(reg.status).toBe(200);
  const intent = (await agent.send('POST', '/v1/intents', SECRET_ASK)).json;
  expect(intent.status).toBe('pending');
  return { owner, agent, token, intent };
}

/** A request carrying only the watch token (as whoever stole it would send it). */
async function withToken(hub: Hub, token: string, method: string, path: string, body?: unknown) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const res = await hub.app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(text ? { 'content-type': 'application/json' } : {}) },
    body: text,
  });
  const raw = await res.text();
  return { status: res.status, raw, json: raw.startsWith('{') ? (JSON.parse(raw) as Record<string, any>) : null };
}

describe('the locked watcher can count, and nothing else', () => {
  it('GET /v1/watch answers the pending ids and their number: no agent, kind, payload or hash', async () => {
    const hub = await hubFixture();
    const { token, intent } = await lockedSetup(hub);
    const res = await withToken(hub, token, 'GET', '/v1/watch');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ pending: 1, intent_ids: [intent.intent_id] });
    for (const leak of ['arxiv-key', 'weekly digest', intent.payload_hash, intent.agent_id, 'secret.request'])
      expect(res.raw).not.toContain(leak);
  });

  it('the watch token cannot approve, deny or read an intent, nor reach the vault, installations or devices', async () => {
    const hub = await hubFixture();
    const { owner, token, intent } = await lockedSetup(hub);
    // A well-formed approval body: the attacker has everything but the device key's request signature.
    const approval = { decision: 'approve', approval: hub.approvalFor(owner, intent) };
    const tries: [string, string, unknown?][] = [
      ['POST', `/v1/intents/${intent.intent_id}/decision`, approval],
      ['GET', `/v1/intents/${intent.intent_id}`],
      ['GET', '/v1/intents?status=pending'],
      ['GET', '/v1/events'],
      ['GET', '/v1/vault?since=0'],
      ['GET', '/v1/installations'],
      ['GET', '/v1/devices'],
      ['GET', '/v1/audit'],
      ['POST', '/v1/claims/lookup', { claim_code: 'ABCD-EFGH' }],
      ['POST', '/v1/pairings/lookup', { code: 'ABCD-EFGH' }],
      // Re-registering would let a thief swap in a token of its own and keep watching after the owner rotates.
      ['PUT', '/v1/watch', { token_sha256: watchTokenHash(newWatchToken()) }],
    ];
    for (const [method, path, body] of tries) {
      const res = await withToken(hub, token, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.raw, `${method} ${path}`).not.toContain('arxiv-key');
    }
    // Nothing was decided: the intent still waits for the device.
    const still = await owner.send('GET', `/v1/intents/${intent.intent_id}`);
    expect(still.json.status).toBe('pending');
    expect(still.json.decided_at).toBeUndefined();
  });

  it('a guessed or malformed token is refused; the hub stores only the hash', async () => {
    const hub = await hubFixture();
    const { token, owner } = await lockedSetup(hub);
    expect((await withToken(hub, newWatchToken(), 'GET', '/v1/watch')).json!.error.code).toBe('auth_unknown_key');
    expect((await withToken(hub, 'short', 'GET', '/v1/watch')).json!.error.code).toBe('auth_missing');
    const res = await hub.app.request('/v1/watch');
    expect(res.status).toBe(401);
    const row = await hub.store.watchTokens.findByHash(Buffer.from(watchTokenHash(token), 'hex'));
    expect(row?.deviceKeyId).toBe(owner.keyId);
    expect(Buffer.from(row!.tokenSha256).toString('utf8')).not.toContain(token);
  });

  it('removing the device ends its watch token and its watch stream at once', async () => {
    const hub = await hubFixture();
    const owner = await hub.enrolledDevice();
    const phone = hub.newDevice();
    await hub.store.devices.create({
      deviceKeyId: phone.keyId,
      accountId: owner.keyId,
      publicKey: phone.publicKey,
      name: 'Old phone',
      statement: {},
      addedAt: hub.clock.now,
    });
    const token = newWatchToken();
    expect((await phone.send('PUT', '/v1/watch', { token_sha256: watchTokenHash(token) })).status).toBe(200);
    const stream = await hub.app.request('/v1/watch/events', { headers: { authorization: `Bearer ${token}` } });
    expect(stream.status).toBe(200);
    expect(intentEvents(hub.store).heldCount(`watch:${phone.keyId}`, 'stream')).toBe(1);
    const reader = stream.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('event: watch');

    expect((await owner.send('DELETE', `/v1/devices/${phone.keyId}`, hub.removalFor(owner, phone))).status).toBe(200);
    const ended = await Promise.race([
      (async () => {
        for (;;) if ((await reader.read()).done) return true;
      })(),
      new Promise<boolean>((r) => setTimeout(() => r(false), 2000)),
    ]);
    expect(ended).toBe(true);
    expect((await withToken(hub, token, 'GET', '/v1/watch')).status).toBe(401);
  });

  it('registering a new token retires the old one', async () => {
    const hub = await hubFixture();
    const { owner, token } = await lockedSetup(hub);
    const next = newWatchToken();
    expect((await owner.send('PUT', '/v1/watch', { token_sha256: watchTokenHash(next) })).status).toBe(200);
    expect((await withToken(hub, token, 'GET', '/v1/watch')).status).toBe(401);
    expect((await withToken(hub, next, 'GET', '/v1/watch')).json).toMatchObject({ pending: 1 });
  });
});

// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { verifyAudit } from '../../../hub/audit';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { canonicalBytes } from '../../../lib/protocol/canonical';
import { hubFixture } from './flow';
import { auditRows } from './audit-rows';

const ACTION = (n: number) => ({
  kind: 'action.approve',
  payload: { summary: `Step ${n}`, risk: 'low' },
  idempotency_key: `act-${n}`,
  agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
});
const SECRET = (n: number) => ({
  kind: 'secret.request',
  payload: { item: 'arxiv-key', reason: `run ${n}` },
  idempotency_key: `sec-${n}`,
  agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
});
const HOUR = 3600_000;

describe('claim policy', () => {
  it('a claim whose approval_required lacks secret.request is refused: the hub cannot release secrets itself', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.registeredAgent();
    // Signed over the raw bytes, the way a hostile or buggy device would (signClaim refuses such a statement).
    const good = hub.claimFor(device, agent);
    const statement = { ...good.statement, policy: { approval_required: ['action.approve'], daily_limit: null } };
    const bytes = new Uint8Array([...new TextEncoder().encode('CKCL'), 1, ...canonicalBytes(statement)]);
    const signature = toBase64Url(ed25519.sign(bytes, device.privateKey));
    const res = await device.send('POST', '/v1/claims', { claim: { statement, signature } });
    expect([res.status, res.json.error.code]).toEqual([400, 'claim_invalid']);
    expect(res.json.error.message).toContain('secret.request');
    for (const policy of [
      { approval_required: ['secret.request'] },
      { approval_required: ['secret.request'], daily_limit: 0 },
    ]) {
      const bad = await device.send('POST', '/v1/claims', {
        claim: { statement: { ...good.statement, policy }, signature: good.signature },
      });
      expect(bad.json.error.code).toBe('claim_invalid');
    }
    // The agent stays unclaimed; the valid claim still works.
    expect((await device.send('POST', '/v1/claims', { claim: good })).status).toBe(201);
  });

  it('an unchecked kind is approved at creation without a statement; secret.request still waits for the device', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device, {
      policy: { approval_required: ['payment.send', 'secret.request'], daily_limit: null },
    });
    const action = await agent.send('POST', '/v1/intents', ACTION(1));
    expect([action.status, action.json.status]).toEqual([201, 'approved']);
    expect(action.json.approval).toBeUndefined();
    const executed = await agent.send('POST', `/v1/intents/${action.json.intent_id}/execute`);
    expect([executed.json.intent.status, executed.json.approval]).toEqual(['executed', undefined]);
    const secret = await agent.send('POST', '/v1/intents', SECRET(1));
    expect(secret.json.status).toBe('pending');
    const actions = (await auditRows(hub.store)).map((r) => r.action);
    expect(actions.filter((a) => a === 'intent.auto_approve')).toHaveLength(1);
    const listed = (await device.send('GET', '/v1/installations')).json.installations[0];
    expect(listed.policy).toEqual({ approval_required: ['payment.send', 'secret.request'], daily_limit: null });
  });

  it('daily_limit: the N+1st intent in 24 hours is 429 rate_limited with Retry-After until the oldest leaves the window', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device, {
      policy: { approval_required: ['action.approve', 'secret.request'], daily_limit: 2 },
    });
    const t0 = hub.clock.now;
    expect((await agent.send('POST', '/v1/intents', ACTION(1))).status).toBe(201);
    hub.clock.now = t0 + 3 * HOUR;
    expect((await agent.send('POST', '/v1/intents', SECRET(2))).status).toBe(201);
    hub.clock.now = t0 + 5 * HOUR;
    const refused = await agent.send('POST', '/v1/intents', ACTION(3));
    expect([refused.status, refused.json.error.code]).toEqual([429, 'rate_limited']);
    expect(refused.json.error.message).toBe('daily limit of 2 requests reached');
    // The first intent (t0) leaves the window at t0 + 24 h: 19 hours from now.
    expect(refused.headers.get('retry-after')).toBe(String(19 * 3600));
    // Nothing was stored or audited for the refused request.
    expect((await hub.store.intents.countCreatedSince(agent.installationId, 0)).count).toBe(2);
    // A retry of an existing intent is not a new request: it still answers with that intent.
    const retry = await agent.send('POST', '/v1/intents', ACTION(1));
    expect(retry.status).toBe(200);

    hub.clock.now = t0 + 24 * HOUR - 1;
    expect((await agent.send('POST', '/v1/intents', ACTION(4))).headers.get('retry-after')).toBe('1');
    hub.clock.now = t0 + 24 * HOUR;
    expect((await agent.send('POST', '/v1/intents', ACTION(5))).status).toBe(201);
    const again = await agent.send('POST', '/v1/intents', ACTION(6));
    expect(again.status).toBe(429);
    expect(again.headers.get('retry-after')).toBe(String((3 * HOUR) / 1000));
    expect(await verifyAudit(hub.store)).toMatchObject({ ok: true });
  });

  it('no daily limit (null) lets requests through up to the rate limits', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device);
    for (let n = 1; n <= 5; n++) expect((await agent.send('POST', '/v1/intents', ACTION(n))).status).toBe(201);
  });
});

describe('GET /v1/audit', () => {
  async function twoAccounts() {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device, { name: 'research-bot' });
    const stranger = await hub.enrolledDevice(await hub.extraEnrollmentCode());
    const strangerAgent = await hub.claimedAgent(stranger, { name: 'other-bot' });
    const mine = (await agent.send('POST', '/v1/intents', SECRET(1))).json;
    hub.clock.now += 1000;
    await device.send('POST', `/v1/intents/${mine.intent_id}/decision`, {
      approval: hub.approvalFor(device, mine, 'deny'),
    });
    const theirs = (await strangerAgent.send('POST', '/v1/intents', ACTION(1))).json;
    await stranger.send('POST', `/v1/intents/${theirs.intent_id}/decision`, {
      approval: hub.approvalFor(stranger, theirs),
    });
    return { hub, device, agent, stranger, strangerAgent, mine, theirs };
  }

  it('lists the entries about the caller, newest first, with the chain fields, the intent and the chain head', async () => {
    const { hub, device, agent, mine, strangerAgent, theirs } = await twoAccounts();
    const res = await device.send('GET', '/v1/audit');
    expect(res.status).toBe(200);
    const { entries, head, next_before } = res.json;
    expect(entries.map((e: any) => e.action)).toEqual([
      'intent.deny',
      'intent.create',
      'installation.claim',
      'agent.register',
      'account.enroll',
    ]);
    expect(next_before).toBeNull();
    const seqs = entries.map((e: any) => e.seq);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    const stored = new Map((await auditRows(hub.store)).map((r) => [r.seq, r]));
    for (const e of entries) {
      const r = stored.get(e.seq)!;
      expect(e).toMatchObject({
        time: r.time,
        actor: r.actor,
        agent: r.agent,
        resource: r.resource,
        action: r.action,
        request_id: r.requestId,
        entry_hash: r.entryHash,
        prev_hash: r.prevHash,
      });
    }
    expect(entries[0]).toMatchObject({
      resource: `intent:${mine.intent_id}`,
      agent: agent.agentId,
      intent: { kind: 'secret.request', payload: SECRET(1).payload },
    });
    expect(entries[2].intent).toBeUndefined();
    const chainHead = (await hub.store.audit.head())!;
    expect(head).toEqual({ seq: chainHead.seq, entry_hash: chainHead.entryHash });
    // Another account's entries never appear, by agent, resource or actor.
    const text = JSON.stringify(entries);
    for (const other of [strangerAgent.agentId, strangerAgent.installationId, theirs.intent_id])
      expect(text).not.toContain(other);
  });

  it('the other account sees only its own entries; agents may not call it', async () => {
    const { stranger, strangerAgent, mine, agent } = await twoAccounts();
    const res = await stranger.send('GET', '/v1/audit');
    expect(res.json.entries.map((e: any) => e.action)).toEqual([
      'intent.approve',
      'intent.create',
      'installation.claim',
      'agent.register',
      'account.enroll',
    ]);
    const text = JSON.stringify(res.json.entries);
    for (const other of [agent.agentId, agent.installationId, mine.intent_id]) expect(text).not.toContain(other);
    expect(text).toContain(strangerAgent.agentId);
    expect((await agent.send('GET', '/v1/audit')).json.error.code).toBe('forbidden');
  });

  it('pages with limit and before; refuses malformed queries', async () => {
    const { device } = await twoAccounts();
    const first = await device.send('GET', '/v1/audit?limit=2');
    expect(first.json.entries.map((e: any) => e.action)).toEqual(['intent.deny', 'intent.create']);
    expect(first.json.next_before).toBe(first.json.entries[1].seq);
    const second = await device.send('GET', `/v1/audit?limit=2&before=${first.json.next_before}`);
    expect(second.json.entries.map((e: any) => e.action)).toEqual(['installation.claim', 'agent.register']);
    const last = await device.send('GET', `/v1/audit?limit=2&before=${second.json.next_before}`);
    expect(last.json.entries.map((e: any) => e.action)).toEqual(['account.enroll']);
    expect(last.json.next_before).toBeNull();
    for (const q of [
      'limit=0',
      'limit=201',
      'limit=x',
      'before=0',
      'before=-1',
      'limit=1&limit=2',
      'status=pending',
      'before=01',
    ]) {
      const res = await device.send('GET', `/v1/audit?${q}`);
      expect([q, res.status, res.json.error.code]).toEqual([q, 400, 'protocol_invalid']);
    }
  });
});

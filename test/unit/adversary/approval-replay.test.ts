// @vitest-environment node
// Issue 13 item 6: a hub that replays an old intent and its genuine, device-signed approval must not make one human
// click execute twice. The real AgentClient talks to the real in-process hub through MaliciousHub; the approving
// device is the extension's real HubService over a real vault (test/unit/ext/real-hub-service.ts).
import { describe, expect, it } from 'vitest';
import { AgentClient, type AgentState } from '../../../lib/agent';
import { APPROVAL_CLOCK_SKEW_MS, INTENT_LIFETIME_MS } from '../../../lib/agent/replay-guard';
import { utf8Decode } from '../../../lib/bytes';
import { approvalBytes, type ApprovalStatement } from '../../../lib/protocol/approval';
import { toBase64Url } from '../../../lib/protocol/base64url';
import type { Intent } from '../../../lib/protocol/wire';
import { MaliciousHub } from '../../adversary/malicious-hub';
import { realHubService } from '../ext/real-hub-service';
import { ORIGIN } from '../hub/flow';

const ITEM = 'deploy/token';
const VALUE = 'sk-replay-target-value';
const SENT = { kind: 'secret.request', payload: { item: ITEM, reason: 'Deploy the release' } };

async function setUp() {
  const r = await realHubService([
    { kind: 'secret', fields: { name: ITEM, value: VALUE, notes: '', tags: [], expiresAt: null, allowedHosts: [] } },
  ]);
  const evil = MaliciousHub.inProcess(r.hub.app.request);
  let saved: AgentState | undefined;
  const clock = { offset: 0 };
  const agentNow = () => r.hub.clock.now + clock.offset;
  const agent = new AgentClient({ fetch: evil.fetch, now: agentNow, onStateChange: (s) => void (saved = s) });
  const reg = await agent.register({
    hub: ORIGIN,
    name: 'replay-target',
    manifest: { markdown: '# replay target' },
    requestedScopes: [`secret:read:${ITEM}`],
  });
  await r.svc.lookupClaim(reg.claim_code);
  await r.svc.claim(reg.claim_code, [`secret:read:${ITEM}`]);
  await agent.status();
  /** The person clicks Approve in the extension (the device signs CKAP v2 and seals the secret). */
  const approve = async (intent: Intent) => {
    await r.svc.pollOnce();
    await r.svc.decide(intent.intent_id, intent.payload_hash, 'approve');
  };
  /** A statement signed by the real device key (what a hub could hold from an earlier, genuine decision). */
  const deviceSigned = async (statement: ApprovalStatement) => {
    const signer = await r.service.deviceSigner();
    return { statement, signature: toBase64Url(await signer.sign(approvalBytes(statement))) };
  };
  const hubIntent = async (id: string) => (await r.hub.store.intents.get(id))!;
  return { ...r, evil, agent, clock, approve, deviceSigned, hubIntent, saved: () => saved!, agentNow };
}

/** One honest round: ask, approve, execute. Returns the intent and the execute exchange the hub can replay. */
async function executedOnce(t: Awaited<ReturnType<typeof setUp>>) {
  const intent = await t.agent.createIntent(SENT);
  await t.approve(intent);
  const done = await t.agent.execute(intent.intent_id);
  expect(utf8Decode(done.secret!)).toBe(VALUE);
  return { intent, create: t.evil.last('POST /v1/intents')!, execute: t.evil.last('POST /v1/intents/:id/execute')! };
}

describe('a hub replaying approvals to the agent', () => {
  it('a hub that answers a new request with an old intent id and its approval gets nothing executed', async () => {
    const t = await setUp();
    const old = await executedOnce(t);
    // The next identical request: the hub answers with the old intent (pending again, and with the nonce the agent
    // just sent copied in, as a hub reading the request body can), then claims it approved and replays its execute.
    t.evil.rewriteJson(
      'POST /v1/intents',
      (_json, req) => ({ ...old.intent, status: 'pending', agent_nonce: JSON.parse(req.body!).agent_nonce }),
      1,
    );
    t.evil.rewriteJson('GET /v1/intents/:id', (json) =>
      json.intent_id === old.intent.intent_id ? { ...old.intent, status: 'approved' } : json,
    );
    t.evil.replay('POST /v1/intents/:id/execute', old.execute);
    const got = await t.agent.createIntent(SENT).then(
      async (i) => t.agent.execute(i.intent_id),
      (e) => e,
    );
    expect(got.code).toBe('approval_replayed');
    expect(got.secret).toBeUndefined();
  });

  it('a hub that issues a new intent under an old, never-executed intent id gets no approval of the old request accepted', async () => {
    const t = await setUp();
    // First request approved but never executed by the agent (e.g. it gave up waiting).
    const first = await t.agent.createIntent(SENT);
    await t.approve(first);
    // A fresh agent process with only its saved state, asking again: the hub reuses the first intent id.
    const restarted = new AgentClient({ fetch: t.evil.fetch, state: t.saved(), now: t.agentNow });
    t.evil.rewriteJson(
      'POST /v1/intents',
      (_json, req) => ({ ...first, agent_nonce: JSON.parse(req.body!).agent_nonce }),
      1,
    );
    const got = await restarted.createIntent(SENT).catch((e) => e);
    expect(got.code).toBe('approval_replayed');
  });

  it('a hub replaying the execute answer of an executed intent is refused the second time, also after a restart', async () => {
    const t = await setUp();
    const old = await executedOnce(t);
    t.evil.replay('POST /v1/intents/:id/execute', old.execute);
    const again = await t.agent.execute(old.intent.intent_id).catch((e) => e);
    expect(again.code).toBe('approval_replayed');
    // The agent restarts from the state it saved (the state file): still refused.
    const restarted = new AgentClient({ fetch: t.evil.fetch, state: t.saved(), now: t.agentNow });
    const afterRestart = await restarted.execute(old.intent.intent_id, SENT).catch((e) => e);
    expect(afterRestart.code).toBe('approval_replayed');
    expect(afterRestart.secret).toBeUndefined();
  });

  /**
   * The hub swaps in a genuine device signature over the same intent and nonce, dated `time(intent)`: e.g. signed on
   * a device whose clock the attacker set, or kept from a pre-signing trick. Returns what the agent's execute gave.
   */
  async function executeWithApprovalDated(time: (intent: Awaited<ReturnType<AgentClient['createIntent']>>) => number) {
    const t = await setUp();
    const intent = await t.agent.createIntent(SENT);
    await t.approve(intent);
    const signed = await t.deviceSigned({
      hub: ORIGIN,
      intent_id: intent.intent_id,
      payload_hash: intent.payload_hash,
      decision: 'approve',
      installation_id: intent.installation_id,
      agent_nonce: intent.agent_nonce!,
      time: time(intent),
    });
    t.evil.rewriteJson('POST /v1/intents/:id/execute', (json) => ({ ...json, approval: signed }));
    return t.agent.execute(intent.intent_id).catch((e) => e);
  }

  it('a hub relaying a device-signed approval made before the request is refused', async () => {
    const got = await executeWithApprovalDated((intent) => intent.created_at - APPROVAL_CLOCK_SKEW_MS - 60_000);
    expect(got.code).toBe('approval_replayed');
    expect(got.secret).toBeUndefined();
  });

  it('a hub relaying a device-signed approval dated after the intent expired is refused', async () => {
    const got = await executeWithApprovalDated((intent) => intent.expires_at + APPROVAL_CLOCK_SKEW_MS + 60_000);
    expect(got.code).toBe('approval_replayed');
  });

  it('a hub that still serves an approved intent past its expiry gets nothing executed', async () => {
    const t = await setUp();
    const intent = await t.agent.createIntent(SENT);
    await t.approve(intent);
    // The agent's clock is past the intent's life; the hub (clock held back) would still execute it.
    t.clock.offset = INTENT_LIFETIME_MS + 2 * APPROVAL_CLOCK_SKEW_MS;
    const got = await t.agent.execute(intent.intent_id).catch((e) => e);
    expect(got.code).toBe('intent_expired');
    expect((await t.hubIntent(intent.intent_id)).executedAt).toBeNull();
  });

  it('a hub relaying a device-signed approval for another agent nonce is refused', async () => {
    const t = await setUp();
    const intent = await t.agent.createIntent(SENT);
    await t.approve(intent);
    const otherNonce = intent.agent_nonce!.startsWith('A')
      ? `B${intent.agent_nonce!.slice(1)}`
      : `A${intent.agent_nonce!.slice(1)}`;
    const forOther = await t.deviceSigned({
      hub: ORIGIN,
      intent_id: intent.intent_id,
      payload_hash: intent.payload_hash,
      decision: 'approve',
      installation_id: intent.installation_id,
      agent_nonce: otherNonce,
      time: t.hub.clock.now,
    });
    t.evil.rewriteJson('POST /v1/intents/:id/execute', (json) => ({
      ...json,
      approval: forOther,
      intent: { ...json.intent, agent_nonce: otherNonce },
    }));
    const got = await t.agent.execute(intent.intent_id).catch((e) => e);
    expect(got.code).toBe('approval_replayed');
    expect(got.secret).toBeUndefined();
  });
});

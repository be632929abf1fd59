// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { StandingApprover } from '../../../lib/ext/approvals/hub-decision';
import { httpRuleFor, withHttpRule } from '../../../lib/ext/approvals/http-rules';
import type { HubCore } from '../../../lib/ext/hub/hub-core';
import { RULE_WINDOW_MS } from '../../../lib/hub-client/http-rule-scope';
import type { Intent } from '../../../lib/protocol/wire';
import { realHubService } from './real-hub-service';

const HOST = 'api.example.com';
const TOKEN = 'tok-standing-rule-test-value';

/**
 * The real pieces (in-process hub, real vault, the extension's HubService with its subscription, an SDK agent granted
 * http:HOST). Only the approver's `send` is replaced, by one that records: the call path that turns an approved
 * http.request into a call and a sealed response is built elsewhere (issue 18), so what is checked here is which
 * intents a rule answers without a card and how it counts them.
 */
async function setUp() {
  const r = await realHubService([
    // The secret may be sent to HOST (its allowed hosts: a request to another host is refused unasked).
    {
      kind: 'secret',
      fields: { name: 'Token', value: TOKEN, notes: '', tags: [], expiresAt: null, allowedHosts: [HOST] },
    },
  ]);
  const { agent, installation_id } = await r.claimAgent('research-bot', [`http:${HOST}`]);
  const core = (r.svc as unknown as { core: HubCore }).core;
  const sent: string[] = [];
  const recordSend = async (i: Intent) => {
    // Let another update of the pending list run while this answer "travels".
    await new Promise((res) => setTimeout(res, 5));
    sent.push(i.intent_id);
  };
  // The service's own approver (private to it: reached here only to swap its sender).
  const approver = (r.svc as unknown as { pending: { approver: StandingApprover } }).pending.approver;
  Object.defineProperty(approver, 'send', { value: recordSend });
  const call = (path: string, method = 'GET') =>
    agent.createIntent({
      kind: 'http.request',
      payload: { method, url: `https://${HOST}${path}`, headers: [['authorization', 'Bearer {{secret:Token}}']] },
    });
  /** The hub's list reaches the service (the live stream may bring it first); the ids shown as cards. */
  const cards = async () => {
    await r.svc.pollOnce();
    return (await r.svc.state()).pending.map((p) => p.intent.intent_id);
  };
  /**
   * Stores the rule "Don't ask again" would store on `seed` (decide needs the call path to succeed), once the seed
   * is shown as a card (a rule answers only requests not shown yet).
   */
  const addRule = async (seed: Intent, choice: { path_prefix?: string; limit_per_day?: number }) => {
    expect(await cards()).toContain(seed.intent_id);
    const rule = httpRuleFor(core.hub, seed, choice, core.ports.now(), globalThis.crypto.randomUUID());
    await core.standing.update(r.service, (list) => ({ next: withHttpRule(list, rule), value: null }));
    return rule;
  };
  return { ...r, agent, installation_id, core, approver, sent, recordSend, call, addRule, cards };
}

const ids = (list: Intent[]) => list.map((i) => i.intent_id);

/** Waits until `done()` (bounded), then a little longer, so an answer still travelling would show up. */
async function settled(done: () => boolean) {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((res) => setTimeout(res, 10));
  await new Promise((res) => setTimeout(res, 50));
}

describe('standing rules for http.request', () => {
  it('answers 3 matching requests without a prompt, asks for another path, stops at the limit, asks once revoked', async () => {
    const t = await setUp();
    const seed = await t.call('/v1/items?page=0');
    const rule = await t.addRule(seed, { path_prefix: '/v1', limit_per_day: 3 });

    const matching = [await t.call('/v1/items?page=1'), await t.call('/v1/items/7'), await t.call('/v1')];
    const otherPath = await t.call('/v10/items');
    const otherMethod = await t.call('/v1/items', 'DELETE');
    await settled(() => t.sent.length >= 3);
    // The three matching ones are answered without a card or a notice; the others wait for the person.
    expect((await t.cards()).sort()).toEqual(ids([seed, otherPath, otherMethod]).sort());
    expect(t.sent.sort()).toEqual(ids(matching).sort());
    expect(t.notices.map((n) => n.intent_id).sort()).toEqual(ids([seed, otherPath, otherMethod]).sort());

    let state = await t.svc.state();
    expect(state.httpRules).toEqual([
      expect.objectContaining({
        id: rule.id,
        agentName: 'research-bot',
        call: `GET https://${HOST}/v1/…`,
        using: 'using your “Token” in the Authorization header',
        limit_per_day: 3,
        usedToday: 3,
        uses: 3,
        secrets: ['Token'],
      }),
    ]);
    expect(state.standingApprovals).toEqual([]);
    expect(JSON.stringify(state)).not.toContain(TOKEN);

    // The limit is reached: a fourth matching request is shown to the person.
    const fourth = await t.call('/v1/items?page=4');
    expect(await t.cards()).toContain(fourth.intent_id);
    // Answered ones are never answered twice, however often a lagging list brings them back.
    expect((await t.approver.approve(matching)).size).toBe(0);
    expect(t.approver.isApproving(matching[0]!.intent_id)).toBe(true);
    expect(t.sent).toHaveLength(3);

    // A day later the window has room again (the waiting ones expired meanwhile).
    t.hub.clock.now += RULE_WINDOW_MS;
    const nextDay = await t.call('/v1/items?page=5');
    await settled(() => t.sent.length >= 4);
    expect(await t.cards()).not.toContain(nextDay.intent_id);
    expect(t.sent).toContain(nextDay.intent_id);

    // Revoked (the Agents tab's Revoke): the next matching request asks.
    state = await t.svc.revokeStandingApproval(rule.id);
    expect(state.httpRules).toEqual([]);
    const afterRevoke = await t.call('/v1/items?page=6');
    expect(await t.cards()).toContain(afterRevoke.intent_id);
    expect(t.sent).toHaveLength(4);
  });

  it('holds a limit of one when two updates of the pending list bring two matching requests at once', async () => {
    const t = await setUp();
    const seed = await t.call('/v1/a');
    await t.addRule(seed, { path_prefix: '/v1', limit_per_day: 1 });
    const a = await t.call('/v1/a');
    const b = await t.call('/v1/b');
    // Two approvers on one core (the stored rule is what counts), the same approver twice with both intents, and
    // the service's own list update, all at once.
    const other = new StandingApprover(t.core, t.recordSend);
    await Promise.all([
      t.approver.approve([a, b]),
      t.approver.approve([b, a]),
      other.approve([b]),
      other.approve([a]),
      t.svc.pollOnce(),
    ]);
    // The live stream may have brought them too: its answer may still be on its way.
    await settled(() => t.sent.length > 0);
    expect(t.sent).toHaveLength(1);
    // The one not answered is the person's to decide.
    expect((await t.cards()).sort()).toEqual(
      ids([seed, a, b])
        .filter((id) => id !== t.sent[0])
        .sort(),
    );
    expect((await t.svc.state()).httpRules[0]).toMatchObject({ usedToday: 1, uses: 1 });
  });

  it('refuses a rule that does not fit the request before anything is signed', async () => {
    const t = await setUp();
    const req = await t.call('/v1/items');
    await t.svc.pollOnce();
    for (const rule of [{ path_prefix: '/v' }, { path_prefix: '/v2' }, { limit_per_day: 0 }])
      await expect(t.svc.decide(req.intent_id, req.payload_hash, 'approve', true, rule)).rejects.toMatchObject({
        code: 'standing_rule_invalid',
      });
    // A rule without "Don't ask again", or on a denial, is refused too.
    await expect(t.svc.decide(req.intent_id, req.payload_hash, 'approve', false, {})).rejects.toMatchObject({
      code: 'protocol_invalid',
    });
    expect((await t.agent.getIntent(req.intent_id)).status).toBe('pending');
    expect((await t.svc.state()).httpRules).toEqual([]);
    const view = (await t.svc.state()).pending.find((p) => p.intent.intent_id === req.intent_id)!;
    expect(view.canAlwaysApprove).toBe(true);
  });

  it('is dropped with the agent when the agent is revoked', async () => {
    const t = await setUp();
    await t.addRule(await t.call('/v1/items'), {});
    expect((await t.svc.state()).httpRules).toHaveLength(1);
    expect((await t.svc.revoke(t.installation_id)).httpRules).toEqual([]);
  });
});

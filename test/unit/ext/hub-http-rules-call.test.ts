// @vitest-environment node
import { afterEach, describe, expect, it, vi } from 'vitest';
import { realHubService } from './real-hub-service';

// Issue 18 must-show 4 on the real call path (no browser): the person approves one call with "Don't ask again" and a
// rule, the background then makes the matching calls itself without a card, within the rule's limit. The browser's
// host permission is taken as granted (it is asked in the Approve click, which a unit test has no browser for), and
// the target is a fetch stub that records what it received, standing in for the HTTPS test server of the e2e.
vi.mock('../../../lib/ext/hub/host-access', async (original) => ({
  ...(await original<typeof import('../../../lib/ext/hub/host-access')>()),
  mayCallHost: async () => true,
}));

const HOST = 'api.example.com';
const TOKEN = 'tok-rule-call-path-value';

afterEach(() => vi.unstubAllGlobals());

describe('standing rule on the real call path', () => {
  it('answers 3 matching calls without a card, asks for another path and past the limit, asks once revoked', async () => {
    const received: { path: string; authorization: string | null }[] = [];
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.host !== HOST) throw new TypeError('unexpected host');
      received.push({ path: url.pathname, authorization: new Headers(init?.headers).get('authorization') });
      return Response.json({ ok: true, path: url.pathname });
    });
    const t = await realHubService([
      {
        kind: 'secret',
        fields: { name: 'Token', value: TOKEN, notes: '', tags: [], expiresAt: null, allowedHosts: [HOST] },
      },
    ]);
    const { agent } = await t.claimAgent('research-bot', [`http:${HOST}`]);
    const call = (path: string) =>
      agent.createIntent({
        kind: 'http.request',
        payload: {
          method: 'GET',
          url: `https://${HOST}${path}`,
          headers: [['authorization', 'Bearer {{secret:Token}}']],
        },
      });
    const cards = async () => {
      await t.svc.pollOnce();
      return (await t.svc.state()).pending.map((p) => p.intent.intent_id);
    };
    const statusOf = async (id: string, want: string) => {
      for (let i = 0; i < 100 && (await agent.getIntent(id)).status !== want; i++)
        await new Promise((res) => setTimeout(res, 20));
      return (await agent.getIntent(id)).status;
    };

    // The person approves the first call with "Don't ask again" for /v1, 3 a day (their own approval is not one of
    // the rule's uses).
    const first = await call('/v1/items?page=0');
    expect(await cards()).toEqual([first.intent_id]);
    const state = await t.svc.decide(first.intent_id, first.payload_hash, 'approve', true, {
      path_prefix: '/v1',
      limit_per_day: 3,
    });
    expect(await statusOf(first.intent_id, 'approved')).toBe('approved');
    expect(state.httpRules).toEqual([
      expect.objectContaining({ path_prefix: '/v1', limit_per_day: 3, usedToday: 0, secrets: ['Token'] }),
    ]);

    // Three matching calls: made and answered with no card.
    const matching = [await call('/v1/items?page=1'), await call('/v1/items/2'), await call('/v1')];
    for (const m of matching) expect(await statusOf(m.intent_id, 'approved')).toBe('approved');
    expect(await cards()).toEqual([]);
    expect(received.map((r) => r.path)).toEqual(['/v1/items', '/v1/items', '/v1/items/2', '/v1']);
    expect(received.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(t.notices.map((n) => n.intent_id)).toEqual([first.intent_id]);

    // Another path asks; a fourth matching call is past the limit and asks too. Nothing more reached the target.
    const otherPath = await call('/v2/items');
    const fourth = await call('/v1/items?page=4');
    expect((await cards()).sort()).toEqual([otherPath.intent_id, fourth.intent_id].sort());
    expect(received).toHaveLength(4);
    const rule = (await t.svc.state()).httpRules[0]!;
    expect(rule).toMatchObject({ usedToday: 3, uses: 3 });
    expect(JSON.stringify(await t.svc.state())).not.toContain(TOKEN);

    // Revoked: the next call that the rule would have covered (a fresh day's room aside) asks.
    await t.svc.revokeStandingApproval(rule.id);
    const afterRevoke = await call('/v1/items?page=5');
    expect(await cards()).toContain(afterRevoke.intent_id);
    expect((await agent.getIntent(afterRevoke.intent_id)).status).toBe('pending');
    expect(received).toHaveLength(4);
  });
});

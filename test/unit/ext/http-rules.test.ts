// @vitest-environment node
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  httpRuleFor,
  matchesHttpRule,
  parseHttpRule,
  takeHttpRuleUse,
  usesInWindow,
  withHttpRule,
  withUse,
  type HttpRule,
} from '../../../lib/ext/approvals/http-rules';
import {
  parseStandingApprovals,
  StandingApprovalStore,
  withApproval,
  type StandingApproval,
} from '../../../lib/ext/approvals/hub-standing-approvals';
import {
  httpRuleScope,
  httpRuleWords,
  pathPrefixProblem,
  pathWithin,
  RULE_WINDOW_MS,
} from '../../../lib/hub-client/http-rule-scope';
import type { Intent } from '../../../lib/protocol/wire';
import { createdVault } from '../vault/helpers';

const HUB = 'https://hub.example';
const NOW = 1_800_000_000_000;
const AUTH: [string, string] = ['authorization', 'Bearer {{secret:Token}}'];

/** An http.request intent as the hub lists it; only the fields a rule looks at matter here. */
function intent(payload: Record<string, unknown>, over: Partial<Intent> = {}): Intent {
  return {
    intent_id: `in_${Math.random().toString(36).slice(2)}`,
    installation_id: 'inst_1',
    agent_id: 'agent_1',
    kind: 'http.request',
    payload,
    payload_hash: 'unused-here',
    status: 'pending',
    created_at: NOW,
    expires_at: NOW + 300_000,
    ...over,
  } as Intent;
}

const get = (url: string, headers: [string, string][] = [AUTH]) => intent({ method: 'GET', url, headers });

/** The rule "Don't ask again" makes on `seed` with the person's choice. */
const ruleOn = (seed: Intent, choice: { path_prefix?: string; limit_per_day?: number } = {}) =>
  httpRuleFor(HUB, seed, choice, NOW, 'rule-1');

describe('http.request rule scope', () => {
  it('takes the path without the query, and the places each secret goes', () => {
    const s = httpRuleScope({
      method: 'POST',
      url: 'https://api.example.com:8443/v1/items?key={{secret:Key}}&page=2',
      headers: [AUTH, ['x-extra', '{{secret:Key}}']],
      body: { text: '{"t":"{{secret:Token}}"}' },
    });
    expect(s).toMatchObject({
      method: 'POST',
      host: 'api.example.com:8443',
      path: '/v1/items',
      secrets: ['Key', 'Token'],
    });
    expect(s.places).toEqual([
      { secret: 'Token', in: 'body' },
      { secret: 'Token', in: 'header', header: 'authorization' },
      { secret: 'Key', in: 'header', header: 'x-extra' },
      { secret: 'Key', in: 'query', parameter: 'key' },
    ]);
  });

  it('covers a path under the prefix only at a segment boundary', () => {
    expect(pathWithin('/v1', '/v1')).toBe(true);
    expect(pathWithin('/v1', '/v1/items')).toBe(true);
    expect(pathWithin('/v1', '/v10')).toBe(false);
    expect(pathWithin('/v1', '/v10/items')).toBe(false);
    expect(pathWithin('/v1/', '/v1/items')).toBe(true);
    expect(pathWithin('/v1/', '/v1')).toBe(false);
    expect(pathWithin('/', '/anything/at/all')).toBe(true);
    // An encoded slash is not a boundary (a server that decodes it must not walk out of the prefix).
    expect(pathWithin('/v1', '/v1%2F..%2Fadmin')).toBe(false);
    // Case-sensitive, like the paths themselves.
    expect(pathWithin('/v1', '/V1/items')).toBe(false);
  });

  it('says why a chosen prefix does not fit, in words', () => {
    expect(pathPrefixProblem('/v1', '/v1/items')).toBeNull();
    expect(pathPrefixProblem('/', '/v1/items')).toBeNull();
    expect(pathPrefixProblem('v1', '/v1/items')).toBe('The path prefix must start with "/".');
    expect(pathPrefixProblem('/v', '/v1/items')).toBe(
      "The path prefix must be the start of this request's path (/v1/items), ending where a path segment ends.",
    );
    expect(pathPrefixProblem('/v2', '/v1/items')).not.toBeNull();
  });

  it('words a rule as the card and the Agents tab show it', () => {
    const rule = ruleOn(get('https://api.example.com/v1/items?page=1'), { path_prefix: '/v1' });
    expect(httpRuleWords(rule)).toBe('GET https://api.example.com/v1/… using your “Token” in the Authorization header');
    expect(httpRuleWords({ ...rule, path_prefix: '/', places: [] })).toBe(
      'GET https://api.example.com/… without a secret',
    );
  });
});

describe('httpRuleFor', () => {
  const seed = get('https://api.example.com/v1/items?page=1');

  it('defaults to the request path and 100 a day', () => {
    expect(ruleOn(seed)).toMatchObject({
      rule: 'http.request/1',
      hub: HUB,
      installation_id: 'inst_1',
      agent_id: 'agent_1',
      method: 'GET',
      host: 'api.example.com',
      path_prefix: '/v1/items',
      secrets: ['Token'],
      limit_per_day: 100,
      used_at: [],
      uses: 0,
    });
  });

  it('refuses a prefix that is not a segment prefix of the path, and a limit out of 1..10000', () => {
    for (const choice of [
      { path_prefix: '/v' },
      { path_prefix: '/v2' },
      { path_prefix: 'v1' },
      { limit_per_day: 0 },
      { limit_per_day: 10_001 },
      { limit_per_day: 1.5 },
      { limit_per_day: Number.NaN },
    ])
      expect(() => ruleOn(seed, choice)).toThrow(expect.objectContaining({ code: 'standing_rule_invalid' }));
    expect(ruleOn(seed, { path_prefix: '/', limit_per_day: 10_000 }).limit_per_day).toBe(10_000);
  });

  it('refuses a request that is not a valid http.request', () => {
    expect(() => ruleOn(intent({ method: 'GET', url: 'http://api.example.com/' }))).toThrow(
      expect.objectContaining({ code: 'protocol_invalid' }),
    );
  });
});

describe('matchesHttpRule', () => {
  const rule = ruleOn(get('https://api.example.com/v1/items?page=1'), { path_prefix: '/v1', limit_per_day: 3 });
  const matches = (i: Intent, r: HttpRule = rule, now = NOW) => matchesHttpRule(r, HUB, i, now);

  it('answers the same method and host under the prefix, whatever the query', () => {
    expect(matches(get('https://api.example.com/v1/items?page=2'))).toBe(true);
    expect(matches(get('https://api.example.com/v1'))).toBe(true);
    expect(matches(get('https://api.example.com/v1/other/deep?x=1'))).toBe(true);
  });

  it('asks again for another path, method, host, port, agent, installation or hub', () => {
    expect(matches(get('https://api.example.com/v10/items'))).toBe(false);
    expect(matches(get('https://api.example.com/v2/items'))).toBe(false);
    expect(matches(get('https://api.example.com/'))).toBe(false);
    expect(matches(intent({ method: 'DELETE', url: 'https://api.example.com/v1/items', headers: [AUTH] }))).toBe(false);
    expect(matches(get('https://evil.example.com/v1/items'))).toBe(false);
    expect(matches(get('https://api.example.com:8443/v1/items'))).toBe(false);
    expect(matches(get('https://api.example.com/v1/items', [AUTH]), { ...rule, agent_id: 'agent_2' })).toBe(false);
    expect(matches(get('https://api.example.com/v1/items', [AUTH]), { ...rule, installation_id: 'inst_2' })).toBe(
      false,
    );
    expect(matchesHttpRule(rule, 'https://other-hub.example', get('https://api.example.com/v1/items'), NOW)).toBe(
      false,
    );
    // Another kind never matches, even with a payload that reads like a call.
    expect(matches({ ...get('https://api.example.com/v1/items'), kind: 'secret.request' })).toBe(false);
  });

  it("answers requests using the rule's secrets or fewer, only where the rule lets them go", () => {
    expect(matches(get('https://api.example.com/v1/items', []))).toBe(true);
    expect(matches(get('https://api.example.com/v1/items', [AUTH, ['accept', 'application/json']]))).toBe(true);
    // Another secret.
    expect(matches(get('https://api.example.com/v1/items', [['authorization', 'Bearer {{secret:Other}}']]))).toBe(
      false,
    );
    expect(matches(get('https://api.example.com/v1/items', [AUTH, ['x-two', '{{secret:Other}}']]))).toBe(false);
    // The rule's secret in another place: another header, a query parameter, the body.
    expect(matches(get('https://api.example.com/v1/items', [['x-token', '{{secret:Token}}']]))).toBe(false);
    expect(matches(get('https://api.example.com/v1/items?t={{secret:Token}}', []))).toBe(false);
    const post = ruleOn(intent({ method: 'POST', url: 'https://api.example.com/v1/x', headers: [AUTH] }));
    expect(
      matchesHttpRule(
        post,
        HUB,
        intent({ method: 'POST', url: 'https://api.example.com/v1/x', headers: [AUTH], body: { text: 'any body' } }),
        NOW,
      ),
    ).toBe(true);
    expect(
      matchesHttpRule(
        post,
        HUB,
        intent({ method: 'POST', url: 'https://api.example.com/v1/x', body: { text: '{{secret:Token}}' } }),
        NOW,
      ),
    ).toBe(false);
  });

  it('stops at the limit within a rolling 24 hours', () => {
    const i = get('https://api.example.com/v1/items');
    let r = rule;
    for (let n = 0; n < 3; n++) {
      expect(matches(i, r, NOW + n)).toBe(true);
      r = withUse(r, NOW + n);
    }
    expect(usesInWindow(r, NOW + 3)).toBe(3);
    expect(matches(i, r, NOW + 3)).toBe(false);
    // Still full a moment before the first use is 24 hours old; one free as it leaves the window.
    expect(matches(i, r, NOW + RULE_WINDOW_MS - 1)).toBe(false);
    expect(matches(i, r, NOW + RULE_WINDOW_MS)).toBe(true);
    expect(usesInWindow(r, NOW + RULE_WINDOW_MS + 2)).toBe(0);
    // A use dropped from the window is dropped from the record at the next use; the count keeps it.
    const later = withUse(r, NOW + RULE_WINDOW_MS + 1);
    expect(later.used_at).toEqual([NOW + 2, NOW + RULE_WINDOW_MS + 1]);
    expect(later.uses).toBe(4);
    // A use stamped ahead of this clock (another device's) counts: the limit errs on asking.
    expect(matches(i, { ...rule, limit_per_day: 1, used_at: [NOW + 60_000] }, NOW)).toBe(false);
  });
});

describe('stored standing records', () => {
  const exact: StandingApproval = {
    id: 'a-1',
    hub: HUB,
    installation_id: 'inst_1',
    agent_id: 'agent_1',
    kind: 'secret.request',
    payload_hash: 'h1',
    item: 'mock/apiKey',
    reason: 'config reload',
    created_at: NOW - 1000,
    last_used_at: null,
    uses: 2,
  };
  const rule = ruleOn(get('https://api.example.com/v1/items'), { path_prefix: '/v1', limit_per_day: 5 });

  it('reads a list stored before rules existed exactly as before', () => {
    // As an earlier Clawkeep wrote it: version 1, exact approvals only, no `rule` field.
    const old = JSON.stringify({ version: 1, approvals: [exact, { ...exact, id: 'a-2', last_used_at: NOW, uses: 9 }] });
    expect(parseStandingApprovals(old)).toEqual([exact, { ...exact, id: 'a-2', last_used_at: NOW, uses: 9 }]);
  });

  it('keeps exact approvals and rules side by side, and round-trips a rule', () => {
    const used = withUse(rule, NOW);
    const text = JSON.stringify({ version: 1, approvals: [exact, used] });
    expect(parseStandingApprovals(text)).toEqual([exact, used]);
    expect(parseHttpRule(JSON.parse(JSON.stringify(used)))).toEqual(used);
  });

  it('drops a rule of an unknown format or out of shape, and nothing else', () => {
    const bad: unknown[] = [
      { ...rule, rule: 'http.request/2' },
      { ...rule, limit_per_day: 0 },
      { ...rule, limit_per_day: 20_000 },
      { ...rule, path_prefix: 'v1' },
      { ...rule, method: 'TRACE' },
      { ...rule, host: 'API.example.com' },
      { ...rule, secrets: ['Token', 'Unplaced'] },
      { ...rule, places: [{ secret: 'Token', in: 'cookie' }] },
      { ...rule, used_at: ['yesterday'] },
      // An exact approval with a `rule` field is not read as an exact approval.
      { ...exact, rule: 'exact/1' },
    ];
    const text = JSON.stringify({ version: 1, approvals: [exact, ...bad, rule] });
    expect(parseStandingApprovals(text)).toEqual([exact, rule]);
  });

  it('replaces a rule of the same scope, keeping its uses; adds exact approvals beside rules', () => {
    const used = withUse(withUse(rule, NOW), NOW + 1);
    const again = { ...rule, id: 'rule-2', limit_per_day: 50, created_at: NOW + 2 };
    const list = withHttpRule([exact, used], again);
    expect(list).toEqual([exact, { ...again, id: rule.id, used_at: used.used_at, uses: 2, last_used_at: NOW + 1 }]);
    const narrower = { ...rule, id: 'rule-3', path_prefix: '/v1/items' };
    expect(withHttpRule(list, narrower)).toHaveLength(3);
    expect(withApproval([used], exact)).toEqual([used, exact]);
  });

  it('lets two intents arriving together take no more uses than the limit', async () => {
    const { service } = await createdVault('pw', () => NOW);
    const store = new StandingApprovalStore();
    await store.update(service, () => ({ next: [exact, { ...rule, limit_per_day: 1 }], value: null }));
    const a = get('https://api.example.com/v1/a');
    const b = get('https://api.example.com/v1/b');
    const taken = await Promise.all([
      takeHttpRuleUse(store, service, HUB, a, NOW),
      takeHttpRuleUse(store, service, HUB, b, NOW),
    ]);
    expect(taken.filter((t) => t !== null)).toEqual([rule.id]);
    const stored = await store.update(service, (l) => ({ next: null, value: l }));
    expect(stored).toEqual([exact, { ...rule, limit_per_day: 1, used_at: [NOW], uses: 1, last_used_at: NOW }]);
    // Outside the rule: nothing taken, nothing written.
    expect(await takeHttpRuleUse(store, service, HUB, get('https://api.example.com/v2/a'), NOW + RULE_WINDOW_MS)).toBe(
      null,
    );
  });
});

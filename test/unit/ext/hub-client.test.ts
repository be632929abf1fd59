import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../../lib/bytes';
import { HubClient, normalizeHubUrl, parseIntentsEvent } from '../../../lib/hub-client/client';
import { HubClientError } from '../../../lib/hub-client/errors';
import { SSE_MAX_EVENT, SseParser, type SseEvent } from '../../../lib/hub-client/sse';
import { displayRisk, formatAmount, summarizeIntent } from '../../../lib/hub-client/summary';
import { badgeText, BADGE_COLOR, showPendingCount } from '../../../lib/ext/approvals/hub-badge';
import { buildDecision, type LocalInstallation } from '../../../lib/ext/approvals/hub-approval';
import { openResponseDelivery } from '../../../lib/protocol/sealed-response';
import { signKeyBinding } from '../../../lib/protocol/key-binding';
import { verifyApproval } from '../../../lib/protocol/approval';
import { fromBase64Url } from '../../../lib/protocol/base64url';
import { payloadHash } from '../../../lib/protocol/intent-hash';
import { deviceKeyId, encodePublicKey } from '../../../lib/protocol/keys';
import { verifyRequest } from '../../../lib/protocol/request-signing';
import { openSealedSecret } from '../../../lib/protocol/sealed-secret';
import type { Intent } from '../../../lib/protocol/wire';

const HUB = 'http://127.0.0.1:8787';

function device() {
  const privateKey = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    keyId: deviceKeyId(publicKey),
    sign: async (m: Uint8Array) => ed25519.sign(m, privateKey),
  };
}

/** A fetch that records what was sent and answers with `reply`. */
function recordingFetch(reply: () => Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return reply();
  }) as unknown as typeof fetch;
  return { calls, fetchImpl };
}

describe('hub client: signed fetch', () => {
  it('signs method, exact path + query, body and hub; the headers verify with verifyRequest', async () => {
    const d = device();
    const { calls, fetchImpl } = recordingFetch(() => Response.json({ intents: [] }));
    const now = Date.parse('2026-11-23T12:00:00Z');
    const client = new HubClient({
      hub: HUB,
      signer: { role: 'human', keyId: d.keyId, sign: d.sign },
      fetch: fetchImpl,
      now: () => now,
    });
    await client.pendingIntents();
    await client.lookupClaim('BCDF-GHJK').catch(() => {});
    expect(calls[0]!.url).toBe(`${HUB}/v1/intents?status=pending&limit=500`);
    expect(calls[0]!.init.redirect).toBe('error');
    expect(calls[0]!.init.credentials).toBe('omit');
    for (const [i, call] of calls.entries()) {
      const url = new URL(call.url);
      const seen = new Set<string>();
      const who = await verifyRequest({
        headers: call.init.headers as Record<string, string>,
        method: call.init.method!,
        path: url.pathname + url.search,
        body: call.init.body as Uint8Array | undefined,
        hub: HUB,
        now,
        publicKeyFor: (role, id) => (role === 'human' && id === d.keyId ? d.publicKey : null),
        seenNonce: (_k, n) => (seen.has(n) ? true : (seen.add(n), false)),
      });
      expect(who).toEqual({ role: 'human', keyId: d.keyId });
      if (i === 1)
        expect(JSON.parse(new TextDecoder().decode(call.init.body as Uint8Array))).toEqual({ claim_code: 'BCDF-GHJK' });
    }
    // Signed for another hub: refused.
    const url = new URL(calls[0]!.url);
    await expect(
      verifyRequest({
        headers: calls[0]!.init.headers as Record<string, string>,
        method: 'GET',
        path: url.pathname + url.search,
        hub: 'http://127.0.0.1:9999',
        now,
        publicKeyFor: () => d.publicKey,
        seenNonce: () => false,
      }),
    ).rejects.toMatchObject({ code: 'auth_bad_signature' });
  });

  it('turns hub error bodies into typed errors, and malformed answers into hub_bad_response', async () => {
    const d = device();
    const signer = { role: 'human' as const, keyId: d.keyId, sign: d.sign };
    const err = new HubClient({
      hub: HUB,
      signer,
      fetch: recordingFetch(() =>
        Response.json(
          { error: { code: 'intent_expired', message: 'The intent expired.', request_id: 'r1' } },
          { status: 410 },
        ),
      ).fetchImpl,
    });
    await expect(err.getIntent('int_1')).rejects.toMatchObject({
      code: 'intent_expired',
      status: 410,
      requestId: 'r1',
    });
    const bad = new HubClient({
      hub: HUB,
      signer,
      fetch: recordingFetch(() => Response.json({ intents: 'nope' })).fetchImpl,
    });
    await expect(bad.pendingIntents()).rejects.toMatchObject({ code: 'hub_bad_response' });
    const down = new HubClient({
      hub: HUB,
      signer,
      fetch: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    await expect(down.pendingIntents()).rejects.toBeInstanceOf(HubClientError);
    await expect(down.pendingIntents()).rejects.toMatchObject({ code: 'hub_unreachable' });
  });

  it('normalizes hub URLs to an origin and refuses paths, credentials and remote http', () => {
    expect(normalizeHubUrl(' http://127.0.0.1:8787/ ')).toBe('http://127.0.0.1:8787');
    expect(normalizeHubUrl('https://hub.example.com')).toBe('https://hub.example.com');
    for (const bad of [
      'http://hub.example.com',
      'http://127.0.0.1:8787/v1',
      'https://u:p@hub.example.com',
      'https://hub.example.com/?code=1',
      'ftp://x',
      'nope',
    ]) {
      expect(() => normalizeHubUrl(bad), bad).toThrow(HubClientError);
    }
  });
});

describe('SSE parser', () => {
  const collect = (chunks: string[]) => {
    const events: SseEvent[] = [];
    const p = new SseParser((e) => events.push(e));
    for (const c of chunks) p.push(c);
    p.end();
    return { events, p };
  };

  it('parses events split anywhere, CRLF/CR/LF, comments, multi-line data, BOM and retry', () => {
    const text =
      '\ufeff: ping\r\n\r\nevent: intents\r\ndata: {"intents":\r\ndata: []}\r\n\r\nid: 7\nretry: 2500\ndata:x\n\nevent: other\rdata: y\r\r';
    for (const size of [1, 2, 3, 7, text.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const { events, p } = collect(chunks);
      expect(events).toEqual([
        { event: 'intents', data: '{"intents":\n[]}', id: '' },
        { event: 'message', data: 'x', id: '7' },
        { event: 'other', data: 'y', id: '7' },
      ]);
      expect(p.retry).toBe(2500);
    }
  });

  it('drops an unterminated last event and refuses an endless line', () => {
    expect(collect(['data: partial']).events).toEqual([]);
    const p = new SseParser(() => {});
    expect(() => p.push('x'.repeat(SSE_MAX_EVENT + 1))).toThrow(HubClientError);
  });

  it('reads the intents event as the pending list (object or bare array), refusing junk', () => {
    expect(parseIntentsEvent('{"intents":[]}')).toEqual([]);
    expect(parseIntentsEvent('[]')).toEqual([]);
    expect(() => parseIntentsEvent('{"intents":[{"intent_id":1}]}')).toThrow(HubClientError);
    expect(() => parseIntentsEvent('not json')).toThrow(HubClientError);
  });
});

describe('badge', () => {
  it('shows the count, 9+ above nine, nothing for none', () => {
    expect([0, 1, 9, 10, 250, -1, Number.NaN].map(badgeText)).toEqual(['', '1', '9', '9+', '9+', '', '']);
  });

  it('sets MetaMask blue with a count and clears the text when empty', async () => {
    const calls: unknown[] = [];
    const action = {
      setBadgeText: (d: unknown) => void calls.push(['text', d]),
      setBadgeBackgroundColor: (d: unknown) => void calls.push(['color', d]),
    };
    await showPendingCount(action, 3);
    await showPendingCount(action, 0);
    await showPendingCount(undefined, 3);
    expect(calls).toEqual([
      ['color', { color: BADGE_COLOR }],
      ['text', { text: '3' }],
      ['text', { text: '' }],
    ]);
    expect(BADGE_COLOR).toBe('#0376C9');
  });
});

describe('payload summaries', () => {
  it('says what each kind asks for, from the payload alone', () => {
    expect(summarizeIntent('secret.request', { item: 'arxiv-key', reason: 'fetch papers' })).toEqual({
      asks: 'Read one vault secret',
      headline: 'the secret arxiv-key',
      details: [{ field: 'reason', label: 'Reason', value: 'fetch papers' }],
      fields: ['item', 'reason'],
      risk: 'medium',
      valid: true,
      problem: null,
    });
    expect(summarizeIntent('action.approve', { summary: 'Merge PR 12', risk: 'high' })).toMatchObject({
      headline: 'Merge PR 12',
      risk: 'high',
      valid: true,
    });
    expect(
      summarizeIntent('payment.send', { summary: 'Pay invoice', amount_minor: 123456, currency: 'EUR', payee: 'ACME' })
        .details,
    ).toEqual([
      { field: 'amount_minor', label: 'Amount', value: 'EUR 1,234.56' },
      { field: 'currency', label: 'Currency', value: 'EUR' },
      { field: 'payee', label: 'Payee', value: 'ACME' },
    ]);
    expect(summarizeIntent('shell.exec', { summary: 'List files', command: 'ls -la', cwd: '/tmp' })).toMatchObject({
      risk: 'high',
      details: [
        { label: 'Command', value: 'ls -la', mono: true },
        { label: 'Working directory', value: '/tmp', mono: true },
      ],
    });
    expect(
      summarizeIntent('message.send', { summary: 'Reply', channel: 'email', to: 'a@b.c', body: 'hi' }).details.map(
        (d) => d.label,
      ),
    ).toEqual(['Channel', 'To', 'Message']);
  });

  it('marks unknown kinds and malformed payloads invalid and high risk', () => {
    expect(summarizeIntent('future.kind', { summary: 'Do a thing' })).toMatchObject({
      headline: 'Do a thing',
      risk: 'high',
      valid: false,
    });
    expect(summarizeIntent('secret.request', { item: 'x', reason: 'y', extra: 1 })).toMatchObject({
      valid: false,
      risk: 'high',
    });
  });

  it("formats minor units in the currency's decimals; the hub may raise risk but never lower it", () => {
    expect(formatAmount(1999, 'USD')).toBe('USD 19.99');
    expect(formatAmount(500, 'JPY')).toBe('JPY 500');
    expect(formatAmount(5, 'EUR')).toBe('EUR 0.05');
    expect(displayRisk('medium', 'low')).toBe('medium');
    expect(displayRisk('medium', 'high')).toBe('high');
    expect(displayRisk('low', 'bogus')).toBe('low');
  });
});

describe('approval builder', () => {
  const agentBox = x25519.utils.randomSecretKey();
  const agentSeed = ed25519.utils.randomSecretKey();
  const agentSigning = ed25519.getPublicKey(agentSeed);
  const boxKeyText = encodePublicKey(x25519.getPublicKey(agentBox));
  const installation: LocalInstallation = {
    hub: HUB,
    installation_id: 'ins_1',
    agent_id: 'agt_1',
    name: 'research-bot',
    signing_key: encodePublicKey(agentSigning),
    box_key: boxKeyText,
    key_binding: signKeyBinding(agentSeed, {
      hub: HUB,
      role: 'agent',
      signing_key: encodePublicKey(agentSigning),
      box_key: boxKeyText,
      name: 'research-bot',
      time: 1,
    }),
    granted_scopes: ['secret:read:arxiv-key'],
    policy: { approval_required: ['secret.request'], daily_limit: null },
    claimed_at: 1,
  };
  const payload = { item: 'arxiv-key', reason: 'fetch papers' };
  const intent: Intent = {
    intent_id: 'int_1',
    agent_id: 'agt_1',
    installation_id: 'ins_1',
    kind: 'secret.request',
    payload,
    payload_hash: payloadHash('secret.request', payload),
    status: 'pending',
    risk: 'medium',
    created_at: 1,
    expires_at: 2,
    agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
  };

  it('signs the approval over the locally computed hash and seals the secret to the claimed box key', async () => {
    const d = device();
    const body = await buildDecision({
      hub: HUB,
      intent,
      decision: 'approve',
      installation,
      sign: d.sign,
      now: 42,
      readSecret: async (n) => (n === 'arxiv-key' ? 'sekret' : null),
    });
    const st = verifyApproval(d.publicKey, body.approval, {
      hub: HUB,
      intent_id: 'int_1',
      payload_hash: intent.payload_hash,
      installation_id: 'ins_1',
      agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
    });
    expect(st).toMatchObject({ decision: 'approve', time: 42 });
    const opened = openSealedSecret(agentBox, fromBase64Url(body.sealed_secret!), {
      intent_id: 'int_1',
      payload_hash: intent.payload_hash,
      agent_id: 'agt_1',
    });
    expect(new TextDecoder().decode(opened)).toBe('sekret');
  });

  it("refuses, signing nothing, when the hub's payload hash differs from the payload shown", async () => {
    let signed = 0;
    const sign = async (m: Uint8Array) => (signed++, ed25519.sign(m, ed25519.utils.randomSecretKey()));
    const tampered = {
      ...intent,
      payload_hash: payloadHash('secret.request', { item: 'other-key', reason: 'fetch papers' }),
    };
    for (const decision of ['approve', 'deny'] as const) {
      await expect(
        buildDecision({
          hub: HUB,
          intent: tampered,
          decision,
          installation,
          sign,
          now: 1,
          readSecret: async () => 'x',
        }),
      ).rejects.toMatchObject({ code: 'payload_hash_mismatch' });
    }
    expect(signed).toBe(0);
  });

  it('approves only what the device can back: known installation, granted scope, existing secret; deny needs no secret', async () => {
    const d = device();
    const base = { hub: HUB, intent, sign: d.sign, now: 1 };
    await expect(buildDecision({ ...base, decision: 'approve', installation: null })).rejects.toMatchObject({
      code: 'installation_unknown',
    });
    await expect(
      buildDecision({ ...base, decision: 'approve', installation: { ...installation, granted_scopes: [] } }),
    ).rejects.toMatchObject({ code: 'scope_not_granted' });
    await expect(
      buildDecision({ ...base, decision: 'approve', installation, readSecret: async () => null }),
    ).rejects.toMatchObject({ code: 'secret_missing' });
    await expect(
      buildDecision({ ...base, decision: 'approve', installation: { ...installation, agent_id: 'agt_2' } }),
    ).rejects.toMatchObject({ code: 'installation_unknown' });
    const deny = await buildDecision({ ...base, decision: 'deny', installation });
    expect(deny.sealed_secret).toBeUndefined();
    expect(deny.approval.statement.decision).toBe('deny');
    expect(utf8Encode(JSON.stringify(deny))).toBeInstanceOf(Uint8Array);
  });

  describe('http.request (issue 18)', () => {
    const callPayload = {
      method: 'GET',
      url: 'https://api.example.com/v1/me',
      headers: [['authorization', 'Bearer {{secret:arxiv-key}}']],
    };
    const call: Intent = {
      ...intent,
      kind: 'http.request',
      payload: callPayload,
      payload_hash: payloadHash('http.request', callPayload),
    };
    const httpInstallation = { ...installation, granted_scopes: ['http:api.example.com'] };
    const context = {
      hub: HUB,
      agent_id: 'agt_1',
      installation_id: 'ins_1',
      intent_id: 'int_1',
      payload_hash: call.payload_hash,
    };
    const answer = {
      outcome: 'response' as const,
      status: 200,
      headers: [['content-type', 'application/json']] as [string, string][],
      body: btoa('{"login":"octo"}'),
      redacted: [],
      withheld: false,
      redirect: null,
    };

    it('approving carries the outcome sealed to the agent and signed by the device, for this intent and payload', async () => {
      const d = device();
      const body = await buildDecision({
        hub: HUB,
        intent: call,
        decision: 'approve',
        installation: httpInstallation,
        sign: d.sign,
        now: 7,
        httpOutcome: answer,
      });
      expect(body.sealed_secret).toBeUndefined();
      const opened = openResponseDelivery(d.publicKey, agentBox, body.http_response, context);
      expect(opened.outcome).toEqual(answer);
      // Another device's key, or another intent, does not verify.
      expect(() => openResponseDelivery(device().publicKey, agentBox, body.http_response, context)).toThrow();
      expect(() =>
        openResponseDelivery(d.publicKey, agentBox, body.http_response, { ...context, intent_id: 'int_2' }),
      ).toThrow();
    });

    it('needs the http:HOST scope and an outcome to approve; a refusal only with a denial', async () => {
      const d = device();
      const base = { hub: HUB, intent: call, sign: d.sign, now: 1 };
      await expect(
        buildDecision({ ...base, decision: 'approve', installation, httpOutcome: answer }),
      ).rejects.toMatchObject({ code: 'scope_not_granted' });
      await expect(
        buildDecision({ ...base, decision: 'approve', installation: httpInstallation }),
      ).rejects.toMatchObject({ code: 'payload_invalid' });
      const refused = { outcome: 'refused' as const, code: 'http_host_not_allowed', message: 'Not to that host.' };
      await expect(
        buildDecision({ ...base, decision: 'approve', installation: httpInstallation, httpOutcome: refused }),
      ).rejects.toMatchObject({ code: 'payload_invalid' });
      const deny = await buildDecision({
        ...base,
        decision: 'deny',
        installation: httpInstallation,
        httpOutcome: refused,
      });
      expect(deny.approval.statement.decision).toBe('deny');
      expect(openResponseDelivery(d.publicKey, agentBox, deny.http_response, context).outcome).toEqual(refused);
      // A plain denial carries nothing.
      expect((await buildDecision({ ...base, decision: 'deny', installation })).http_response).toBeUndefined();
    });
  });
});

// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { API_ERRORS, apiErrorStatus, isApiErrorCode } from '../../../lib/protocol/api-errors';
import {
  AgentMeResponseSchema,
  ClaimRequestSchema,
  CreateIntentRequestSchema,
  DecisionRequestSchema,
  ErrorBodySchema,
  IntentSchema,
  parseWire,
  RegisterAgentRequestSchema,
} from '../../../lib/protocol/wire';
import intentVectors from '../../vectors/protocol-intent-hash.json';
import sealed from '../../vectors/protocol-sealed-secret.json';
import statements from '../../vectors/protocol-statements.json';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { fromHex } from '../../../lib/bytes';
import { expectCode } from './helpers';

const { keys } = statements;
const register = {
  name: 'Build bot',
  signing_key: keys.agent.public,
  box_key: keys.agentBox.public,
  manifest: { markdown: '# Build bot\nOpens pull requests.' },
  requested_scopes: ['secret:read:GitHub token', 'action:action.approve'],
};

describe('v1 wire schemas', () => {
  it('register: accepts a valid body, refuses bad names, keys, manifests, scopes and unknown fields', async () => {
    expect(parseWire(RegisterAgentRequestSchema, register)).toEqual(register);
    expect(
      parseWire(RegisterAgentRequestSchema, { ...register, manifest: { url: 'https://example.com/bot.md' } }).manifest,
    ).toEqual({ url: 'https://example.com/bot.md' });
    const bad = [
      { ...register, name: '' },
      { ...register, name: 'x'.repeat(81) },
      { ...register, name: 'a\u0007b' },
      { ...register, signing_key: toBase64Url(new Uint8Array(32)) },
      { ...register, box_key: 'AAAA' },
      { ...register, manifest: { markdown: 'é'.repeat(32 * 1024 + 1) } },
      { ...register, manifest: { url: 'http://example.com/x' } },
      { ...register, manifest: { url: 'https://user@example.com/x' } },
      { ...register, manifest: { markdown: 'a', url: 'https://a.example' } },
      { ...register, requested_scopes: ['secret:read:a', 'secret:read:a'] },
      { ...register, requested_scopes: ['admin'] },
      { ...register, extra: 1 },
    ];
    for (const body of bad) await expectCode(() => parseWire(RegisterAgentRequestSchema, body), 'protocol_invalid');
  });

  it('intents: each kind vector is a valid request; payloads are checked per kind', async () => {
    const N = 'AAECAwQFBgcICQoLDA0ODw';
    for (const v of intentVectors.vectors) {
      expect(
        parseWire(CreateIntentRequestSchema, {
          kind: v.kind,
          payload: v.payload,
          idempotency_key: 'k1',
          agent_nonce: N,
        }),
      ).toMatchObject({ kind: v.kind });
    }
    const bad = [
      // agent_nonce: missing (an agent from before CKAP v2), too short, not canonical base64url.
      { kind: 'shell.exec', payload: { summary: 's', command: 'ls' }, idempotency_key: 'k1' },
      {
        kind: 'shell.exec',
        payload: { summary: 's', command: 'ls' },
        idempotency_key: 'k1',
        agent_nonce: 'AAECAwQFBgcICQoLDA0O',
      },
      {
        kind: 'shell.exec',
        payload: { summary: 's', command: 'ls' },
        idempotency_key: 'k1',
        agent_nonce: 'AAECAwQFBgcICQoLDA0ODx',
      },
      { kind: 'secret.request', payload: { item: 'x' }, idempotency_key: 'k1', agent_nonce: N },
      { kind: 'secret.request', payload: { item: 'x', reason: 'r', extra: 1 }, idempotency_key: 'k1', agent_nonce: N },
      { kind: 'action.approve', payload: { summary: 's', risk: 'extreme' }, idempotency_key: 'k1', agent_nonce: N },
      {
        kind: 'payment.send',
        payload: { summary: 's', amount_minor: 19.99, currency: 'EUR', payee: 'p' },
        idempotency_key: 'k1',
        agent_nonce: N,
      },
      {
        kind: 'payment.send',
        payload: { summary: 's', amount_minor: 1999, currency: 'eur', payee: 'p' },
        idempotency_key: 'k1',
        agent_nonce: N,
      },
      { kind: 'unknown.kind', payload: {}, idempotency_key: 'k1', agent_nonce: N },
      { kind: 'shell.exec', payload: { summary: 's', command: 'ls' }, idempotency_key: 'bad key', agent_nonce: N },
    ];
    for (const body of bad) await expectCode(() => parseWire(CreateIntentRequestSchema, body), 'protocol_invalid');
  });

  it('claims and decisions carry signed statements, validated field by field', async () => {
    const claim = statements.claims[0]!;
    expect(
      parseWire(ClaimRequestSchema, { claim: { statement: claim.statement, signature: claim.signature } }).claim
        .statement,
    ).toEqual(claim.statement);
    await expectCode(
      () =>
        parseWire(ClaimRequestSchema, {
          claim: { statement: { ...claim.statement, hub: 'x' }, signature: claim.signature },
        }),
      'protocol_invalid',
    );
    const a = statements.approvals[0]!;
    const sealedSecret = toBase64Url(fromHex(sealed.vectors[0]!.bytes));
    expect(
      parseWire(DecisionRequestSchema, {
        approval: { statement: a.statement, signature: a.signature },
        sealed_secret: sealedSecret,
      }).sealed_secret,
    ).toBe(sealedSecret);
    await expectCode(
      () =>
        parseWire(DecisionRequestSchema, {
          approval: { statement: a.statement, signature: a.signature },
          sealed_secret: 'AAAA',
        }),
      'protocol_invalid',
    );
    await expectCode(
      () => parseWire(DecisionRequestSchema, { approval: { statement: a.statement, signature: 'short' } }),
      'protocol_invalid',
    );
  });

  it('responses drop unknown fields (forward compatible) but still check known ones', async () => {
    const intent = {
      intent_id: 'in_1',
      agent_id: 'ag_1',
      installation_id: 'inst_1',
      kind: 'shell.exec',
      payload: { summary: 's', command: 'ls' },
      payload_hash: '00'.repeat(32),
      status: 'pending',
      risk: 'high',
      created_at: 1,
      expires_at: 2,
      future_field: true,
    };
    expect(parseWire(IntentSchema, intent)).not.toHaveProperty('future_field');
    await expectCode(() => parseWire(IntentSchema, { ...intent, status: 'maybe' }), 'protocol_invalid');
    expect(parseWire(AgentMeResponseSchema, { agent_id: 'ag_1', status: 'unclaimed' })).toEqual({
      agent_id: 'ag_1',
      status: 'unclaimed',
    });
    expect(
      parseWire(ErrorBodySchema, { error: { code: 'auth_stale', message: 'm', request_id: 'r' } }).error.code,
    ).toBe('auth_stale');
  });

  it('error messages name the field, never echo the value', () => {
    let message = '';
    try {
      parseWire(RegisterAgentRequestSchema, { ...register, name: 'sup3r-s3cret\u0007' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('name');
    expect(message).not.toContain('sup3r');
  });

  it('every API error code has an HTTP status; the protocol codes map to 400/401', () => {
    for (const code of Object.keys(API_ERRORS)) expect(isApiErrorCode(code)).toBe(true);
    expect(apiErrorStatus('auth_replayed')).toBe(401);
    expect(apiErrorStatus('intent_already_executed')).toBe(409);
    expect(isApiErrorCode('constructor')).toBe(false);
  });
});

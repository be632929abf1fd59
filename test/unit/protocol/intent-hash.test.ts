// @vitest-environment node
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../lib/bytes';
import {
  claimCodeHash,
  CLAIM_CODE_ALPHABET,
  generateClaimCode,
  normalizeClaimCode,
} from '../../../lib/protocol/claim-code';
import { intentHashInput, payloadHash } from '../../../lib/protocol/intent-hash';
import { defaultApprovalRequired, INTENT_KINDS, intentRisk, isIntentKind } from '../../../lib/protocol/intent-kinds';
import { isCanonicalScopeList, normalizeScopes, parseScope, requiredScope } from '../../../lib/protocol/scopes';
import vectors from '../../vectors/protocol-intent-hash.json';
import { expectCode } from './helpers';

describe('intent payload hash', () => {
  it.each(vectors.vectors)('$kind matches the vector and an independent SHA-256', (v) => {
    expect(toHex(intentHashInput(v.kind, v.payload))).toBe(v.input);
    expect(payloadHash(v.kind, v.payload)).toBe(v.payload_hash);
    const independent = createHash('sha256').update(vectors.domain, 'utf8').update(v.canonical, 'utf8').digest('hex');
    expect(independent).toBe(v.payload_hash);
  });

  it('binds the kind and every payload byte', () => {
    const v = vectors.vectors[0]!;
    expect(payloadHash('action.approve', v.payload)).not.toBe(v.payload_hash);
    expect(payloadHash(v.kind, { ...v.payload, reason: v.payload.reason + ' ' })).not.toBe(v.payload_hash);
    // Key order in the source object does not matter: the hash is over canonical bytes.
    expect(payloadHash(v.kind, { reason: v.payload.reason, item: v.payload.item })).toBe(v.payload_hash);
  });

  it('rejects malformed kinds and non-object or non-canonical payloads', async () => {
    for (const kind of [
      '',
      'secret',
      'Secret.request',
      'secret..request',
      '.x',
      'x.',
      'a.b-c',
      'a.' + 'b'.repeat(63),
    ]) {
      await expectCode(() => payloadHash(kind, {}), 'protocol_invalid');
    }
    for (const payload of [null, [], 'x', 1, { amount: 1.5 }, { x: undefined }]) {
      await expectCode(() => payloadHash('action.approve', payload), 'protocol_invalid');
    }
  });
});

describe('intent kinds registry', () => {
  it('lists the six kinds; the high-risk ones and http.request need approval by default', () => {
    expect(Object.keys(INTENT_KINDS).sort()).toEqual([
      'action.approve',
      'http.request',
      'message.send',
      'payment.send',
      'secret.request',
      'shell.exec',
    ]);
    for (const k of ['payment.send', 'shell.exec', 'message.send'] as const) {
      expect(INTENT_KINDS[k]).toMatchObject({ riskFloor: 'high', approvalRequiredByDefault: true });
    }
    // One click approves it (no high-risk confirmation): the card names the host, the secret and where it goes.
    expect(INTENT_KINDS['http.request']).toMatchObject({ riskFloor: 'medium', approvalRequiredByDefault: true });
    expect(defaultApprovalRequired()).toEqual([...defaultApprovalRequired()].sort());
    expect(isIntentKind('secret.request')).toBe(true);
    expect(isIntentKind('toString')).toBe(false);
  });

  it("an agent's risk claim raises the kind's floor, never lowers it", () => {
    expect(intentRisk('action.approve', { summary: 's', risk: 'high' })).toBe('high');
    expect(intentRisk('action.approve', { summary: 's', risk: 'extreme' })).toBe('medium');
    expect(intentRisk('action.approve', { summary: 's', risk: 'low' })).toBe('medium');
    expect(INTENT_KINDS['action.approve'].riskFloor).toBe('medium');
    expect(intentRisk('shell.exec', { risk: 'low' })).toBe('high');
    for (const k of Object.keys(INTENT_KINDS) as (keyof typeof INTENT_KINDS)[]) {
      for (const claimed of ['low', 'medium', 'high']) {
        const shown = intentRisk(k, { risk: claimed });
        expect(['low', 'medium', 'high'].indexOf(shown)).toBeGreaterThanOrEqual(
          ['low', 'medium', 'high'].indexOf(INTENT_KINDS[k].riskFloor),
        );
      }
    }
  });
});

describe('scopes', () => {
  it('parses the grammar', () => {
    expect(parseScope('secret:read:GitHub token')).toEqual({ type: 'secret', item: 'GitHub token' });
    expect(parseScope('secret:read:a:b')).toEqual({ type: 'secret', item: 'a:b' });
    expect(parseScope('action:payment.send')).toEqual({ type: 'action', kind: 'payment.send' });
    for (const bad of [
      'secret:read:',
      'secret:write:x',
      'secret:read:a\nb',
      'action:Pay',
      'action:pay',
      'action:',
      '*',
      'secret:read:' + 'x'.repeat(129),
      7,
    ]) {
      expect(parseScope(bad)).toBeUndefined();
    }
  });

  it('maps intents to the scope they need', async () => {
    expect(requiredScope('secret.request', { item: 'Stripe key', reason: '' })).toBe('secret:read:Stripe key');
    expect(requiredScope('shell.exec', {})).toBe('action:shell.exec');
    await expectCode(() => requiredScope('secret.request', { item: '' }), 'protocol_invalid');
    await expectCode(() => requiredScope('Bad', {}), 'protocol_invalid');
  });

  it('canonical scope lists are sorted and unique', () => {
    const list = normalizeScopes(['secret:read:b', 'action:shell.exec', 'secret:read:b']);
    expect(list).toEqual(['action:shell.exec', 'secret:read:b']);
    expect(isCanonicalScopeList(list)).toBe(true);
    expect(isCanonicalScopeList([...list].reverse())).toBe(false);
    expect(isCanonicalScopeList(['action:shell.exec', 'action:shell.exec'])).toBe(false);
    expect(isCanonicalScopeList(['nope'])).toBe(false);
  });
});

describe('claim codes', () => {
  it('generates XXXX-XXXX from the consonant alphabet', () => {
    for (let i = 0; i < 50; i++) {
      const code = generateClaimCode();
      expect(code).toMatch(new RegExp(`^[${CLAIM_CODE_ALPHABET}]{4}-[${CLAIM_CODE_ALPHABET}]{4}$`));
    }
  });

  it('normalizes what a person types and hashes with a domain string', async () => {
    expect(normalizeClaimCode(' bcdf-ghjk ')).toBe('BCDFGHJK');
    expect(claimCodeHash('bcdf ghjk')).toBe(claimCodeHash('BCDF-GHJK'));
    expect(claimCodeHash('BCDF-GHJK')).toBe(
      createHash('sha256').update('clawkeep/v1/claim-code\0BCDFGHJK').digest('hex'),
    );
    for (const bad of ['BCDF-GHJ', 'BCDF-GHJKL', 'ABCD-EFGH', 'BCDF-GHJ1'])
      await expectCode(() => normalizeClaimCode(bad), 'protocol_invalid');
  });
});

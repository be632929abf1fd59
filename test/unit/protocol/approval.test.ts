// @vitest-environment node
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../lib/bytes';
import {
  approvalBytes,
  claimBytes,
  defaultPolicy,
  makePolicy,
  signApproval,
  signClaim,
  verifyApproval,
  verifyClaim,
  type ApprovalStatement,
  type ClaimStatement,
} from '../../../lib/protocol/approval';
import { fromBase64Url, toBase64Url } from '../../../lib/protocol/base64url';
import { canonicalize } from '../../../lib/protocol/canonical';
import { claimCodeHash } from '../../../lib/protocol/claim-code';
import { decodePublicKey } from '../../../lib/protocol/keys';
import vectors from '../../vectors/protocol-statements.json';
import { bitFlips, expectCode } from './helpers';

const deviceSeed = fromHex(vectors.keys.device.seed);
const devicePublic = decodePublicKey(vectors.keys.device.public, 'ed25519');
const nodePublic = createPublicKey({
  key: { kty: 'OKP', crv: 'Ed25519', x: vectors.keys.device.public },
  format: 'jwk',
});
const nodePrivate = createPrivateKey({
  key: { kty: 'OKP', crv: 'Ed25519', x: vectors.keys.device.public, d: toBase64Url(deviceSeed) },
  format: 'jwk',
});
const approvals = vectors.approvals as { statement: ApprovalStatement; bytes: string; signature: string }[];
const claims = vectors.claims as { statement: ClaimStatement; bytes: string; signature: string }[];
const expectedOf = (s: ApprovalStatement) => ({
  hub: s.hub,
  intent_id: s.intent_id,
  payload_hash: s.payload_hash,
  installation_id: s.installation_id,
  agent_nonce: s.agent_nonce,
});

describe('CKAP approval statements', () => {
  it.each(approvals)(
    'fixed statement -> fixed bytes and signature ($statement.decision), checked by node:crypto',
    (v) => {
      expect(toHex(approvalBytes(v.statement))).toBe(v.bytes);
      expect(v.bytes.startsWith('434b415002')).toBe(true); // "CKAP" | 0x02
      expect(signApproval(deviceSeed, v.statement)).toEqual({ statement: v.statement, signature: v.signature });
      expect(nodeVerify(null, fromHex(v.bytes), nodePublic, fromBase64Url(v.signature))).toBe(true);
      expect(toBase64Url(nodeSign(null, fromHex(v.bytes), nodePrivate))).toBe(v.signature);
      expect(
        verifyApproval(devicePublic, { statement: v.statement, signature: v.signature }, expectedOf(v.statement)),
      ).toEqual(v.statement);
    },
  );

  const v = approvals[0]!;
  const signed = { statement: v.statement, signature: v.signature };
  const expected = expectedOf(v.statement);

  it('refuses a statement for another hub, intent, payload, installation or agent nonce', async () => {
    for (const [k, other] of Object.entries({
      hub: 'https://evil.example',
      intent_id: 'in_other',
      payload_hash: 'ab'.repeat(32),
      installation_id: 'inst_other',
      agent_nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
    })) {
      await expectCode(() => verifyApproval(devicePublic, signed, { ...expected, [k]: other }), 'approval_invalid');
    }
  });

  it('refuses changed fields, a flipped signature bit and another key', async () => {
    await expectCode(
      () => verifyApproval(devicePublic, { ...signed, statement: { ...v.statement, decision: 'deny' } }, expected),
      'approval_invalid',
    );
    await expectCode(
      () =>
        verifyApproval(
          devicePublic,
          { ...signed, statement: { ...v.statement, time: v.statement.time + 1 } },
          expected,
        ),
      'approval_invalid',
    );
    for (const sig of bitFlips(fromBase64Url(v.signature))) {
      await expectCode(
        () => verifyApproval(devicePublic, { ...signed, signature: toBase64Url(sig) }, expected),
        'approval_invalid',
      );
    }
    const other = ed25519.getPublicKey(new Uint8Array(32).fill(9));
    await expectCode(() => verifyApproval(other, signed, expected), 'approval_invalid');
  });

  it('refuses malformed statements and signatures', async () => {
    const bad: unknown[] = [
      null,
      'x',
      { statement: v.statement },
      { ...signed, signature: v.signature + 'A' },
      { ...signed, signature: 7 },
      { ...signed, statement: { ...v.statement, extra: 1 } },
      { ...signed, statement: { ...v.statement, decision: 'maybe' } },
      { ...signed, statement: { ...v.statement, hub: 'http://hub.example' } },
      { ...signed, statement: { ...v.statement, hub: 'https://hub.clawkeep.example/' } },
      { ...signed, statement: { ...v.statement, payload_hash: v.statement.payload_hash.toUpperCase() } },
      { ...signed, statement: { ...v.statement, time: 1.5 } },
      { ...signed, statement: { ...v.statement, intent_id: 'has space' } },
      // agent_nonce: missing (the v1 shape), not 16 bytes, not canonical base64url (non-zero trailing bits), padded.
      { ...signed, statement: (({ agent_nonce: _n, ...rest }) => rest)(v.statement) },
      { ...signed, statement: { ...v.statement, agent_nonce: 'AAECAwQFBgcICQoLDA0O' } },
      { ...signed, statement: { ...v.statement, agent_nonce: 'AAECAwQFBgcICQoLDA0ODx' } },
      { ...signed, statement: { ...v.statement, agent_nonce: 'AAECAwQFBgcICQoLDA0ODw==' } },
      { ...signed, statement: { ...v.statement, agent_nonce: 7 } },
    ];
    for (const s of bad) await expectCode(() => verifyApproval(devicePublic, s, expected), 'approval_invalid');
    await expectCode(
      () => signApproval(deviceSeed, { ...v.statement, decision: 'maybe' as 'deny' }),
      'approval_invalid',
    );
    await expectCode(() => verifyApproval(new Uint8Array(32), signed, expected), 'approval_invalid'); // small-order key
    expect(() => signApproval(new Uint8Array(31), v.statement)).toThrow(RangeError);
  });

  it('refuses the retired CKAP v1: a v1 statement, and v2 fields signed under the 0x01 version byte', async () => {
    const { agent_nonce: _n, ...v1 } = v.statement;
    const v1Bytes = new Uint8Array([...fromHex('434b415001'), ...new TextEncoder().encode(canonicalize(v1))]);
    await expectCode(
      () =>
        verifyApproval(
          devicePublic,
          { statement: v1, signature: toBase64Url(ed25519.sign(v1Bytes, deviceSeed)) },
          expected,
        ),
      'approval_invalid',
    );
    const v2Under1 = new Uint8Array([...fromHex('434b415001'), ...fromHex(v.bytes).subarray(5)]);
    await expectCode(
      () =>
        verifyApproval(
          devicePublic,
          { statement: v.statement, signature: toBase64Url(ed25519.sign(v2Under1, deviceSeed)) },
          expected,
        ),
      'approval_invalid',
    );
  });
});

describe('CKCL claim statements', () => {
  const c = claims[0]!;
  const signed = { statement: c.statement, signature: c.signature };
  const expected = { hub: c.statement.hub, agent_id: c.statement.agent_id };

  it.each(claims)(
    'fixed claim -> fixed bytes and signature (daily_limit $statement.policy.daily_limit), checked by node:crypto',
    (c) => {
      expect(toHex(claimBytes(c.statement))).toBe(c.bytes);
      expect(c.bytes.startsWith('434b434c01')).toBe(true); // "CKCL" | 0x01
      expect(c.statement.claim_code_hash).toBe(claimCodeHash(vectors.claimCode));
      expect(signClaim(deviceSeed, c.statement).signature).toBe(c.signature);
      expect(nodeVerify(null, fromHex(c.bytes), nodePublic, fromBase64Url(c.signature))).toBe(true);
      expect(verifyClaim({ statement: c.statement, signature: c.signature }, expected)).toEqual(c.statement);
    },
  );

  it('the vectors cover the default policy and a picked one', () => {
    // The default policy when the vectors were made (before http.request, which a fresh claim now lists too).
    expect(claims[0]!.statement.policy).toEqual({
      approval_required: defaultPolicy().approval_required.filter((k) => k !== 'http.request'),
      daily_limit: null,
    });
    expect(defaultPolicy().approval_required).toContain('http.request');
    expect(claims[1]!.statement.policy).toEqual({
      approval_required: ['payment.send', 'secret.request'],
      daily_limit: 50,
    });
  });

  it('policy: sorted unique kinds that include secret.request, daily_limit an integer 1..10000 or null, nothing else', async () => {
    const withPolicy = (policy: unknown) => ({ ...c.statement, policy }) as ClaimStatement;
    for (const policy of [
      { approval_required: ['secret.request'], daily_limit: null },
      { approval_required: ['secret.request'], daily_limit: 1 },
      { approval_required: ['action.approve', 'secret.request'], daily_limit: 10_000 },
    ]) {
      expect(verifyClaim(signClaim(deviceSeed, withPolicy(policy)), expected).policy).toEqual(policy);
    }
    for (const policy of [
      { approval_required: ['action.approve'], daily_limit: null }, // the hub cannot release secrets itself
      { approval_required: [], daily_limit: null },
      { approval_required: ['secret.request'] }, // daily_limit is required (null for none)
      { approval_required: ['secret.request'], daily_limit: 0 },
      { approval_required: ['secret.request'], daily_limit: 10_001 },
      { approval_required: ['secret.request'], daily_limit: 2.5 },
      { approval_required: ['secret.request'], daily_limit: '5' },
      { approval_required: ['secret.request', 'secret.request'], daily_limit: null },
      { approval_required: ['secret.request', 'action.approve'], daily_limit: null },
      { approval_required: ['secret.request'], daily_limit: null, extra: 1 },
    ]) {
      await expectCode(() => signClaim(deviceSeed, withPolicy(policy)), 'claim_invalid');
    }
  });

  it('makePolicy sorts, de-duplicates and always keeps secret.request', async () => {
    expect(makePolicy(['shell.exec', 'action.approve', 'shell.exec'], 3)).toEqual({
      approval_required: ['action.approve', 'secret.request', 'shell.exec'],
      daily_limit: 3,
    });
    expect(makePolicy([], null)).toEqual({ approval_required: ['secret.request'], daily_limit: null });
    await expectCode(() => makePolicy(['Bad Kind'], null), 'claim_invalid');
    await expectCode(() => makePolicy([], 0), 'claim_invalid');
    await expectCode(() => makePolicy([], 10_001), 'claim_invalid');
  });

  it('verifies against the device key it names, plus every expected field', async () => {
    const full = {
      ...expected,
      agent_signing_key: c.statement.agent_signing_key,
      agent_box_key: c.statement.agent_box_key,
      claim_code_hash: c.statement.claim_code_hash,
      installation_id: c.statement.installation_id,
      device_key: c.statement.device_key,
    };
    expect(verifyClaim(signed, full)).toEqual(c.statement);
    for (const [k, other] of Object.entries({
      hub: 'https://other.example',
      agent_id: 'ag_other',
      agent_box_key: vectors.keys.agent.public,
      claim_code_hash: '00'.repeat(32),
      device_key: vectors.keys.agent.public,
    })) {
      await expectCode(() => verifyClaim(signed, { ...full, [k]: other }), 'claim_invalid');
    }
  });

  it('an approval signature never verifies as a claim (tags separate the domains)', async () => {
    const a = approvals[0]!;
    await expectCode(() => verifyClaim({ statement: c.statement, signature: a.signature }, expected), 'claim_invalid');
  });

  it('refuses a substituted device key, changed grants and malformed claims', async () => {
    const attacker = new Uint8Array(32).fill(7);
    const attackerKey = toBase64Url(ed25519.getPublicKey(attacker));
    // Re-pointing device_key at another key breaks the signature.
    await expectCode(
      () => verifyClaim({ ...signed, statement: { ...c.statement, device_key: attackerKey } }, expected),
      'claim_invalid',
    );
    await expectCode(
      () =>
        verifyClaim(
          { ...signed, statement: { ...c.statement, granted_scopes: ['action:action.approve', 'secret:read:Bank'] } },
          expected,
        ),
      'claim_invalid',
    );
    const malformed = [
      { ...c.statement, granted_scopes: [...c.statement.granted_scopes].reverse() },
      { ...c.statement, granted_scopes: ['bogus'] },
      { ...c.statement, policy: { approval_required: ['shell.exec', 'payment.send'], daily_limit: null } },
      { ...c.statement, policy: { approval_required: ['secret.request'], daily_limit: null, extra: true } },
      { ...c.statement, agent_box_key: 'short' },
      { ...c.statement, device_key: toBase64Url(new Uint8Array(32)) },
    ];
    for (const statement of malformed)
      await expectCode(() => verifyClaim({ ...signed, statement }, expected), 'claim_invalid');
    await expectCode(() => verifyClaim(null, expected), 'claim_invalid');
    // Signing with a key that is not device_key is caught before the claim leaves the device.
    await expectCode(() => signClaim(attacker, c.statement), 'claim_invalid');
  });
});

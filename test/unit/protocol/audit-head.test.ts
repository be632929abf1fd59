// @vitest-environment node
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../lib/bytes';
import { canonicalize } from '../../../lib/protocol/canonical';
import { checkAuditHead, signAuditHead, verifyAuditHead, type AuditHead } from '../../../lib/protocol/audit-head';
import { auditConsistencyProof, auditTreeRoot, verifyAuditConsistency } from '../../../lib/protocol/audit-tree';
import { fromBase64Url } from '../../../lib/protocol/base64url';
import { signHubChallenge, verifyHubChallenge } from '../../../lib/protocol/hub-identity';
import { signStatement } from '../../../lib/protocol/signed-statement';
import { APPROVAL_FORMAT } from '../../../lib/protocol/approval';
import {
  decodeIdentityFile,
  encodeIdentityFile,
  generateHubIdentity,
  hubIdentityFromSeed,
} from '../../../hub/identity';
import { expectCode } from './helpers';

const V = JSON.parse(readFileSync(new URL('../../vectors/protocol-hub-identity.json', import.meta.url), 'utf8'));
const identity = hubIdentityFromSeed(fromHex(V.seed));
const HUB = 'http://127.0.0.1:8787';

/** Ed25519 verification by node:crypto (an implementation independent of `@noble`). */
function nodeVerifies(publicKeyB64: string, message: Uint8Array, signatureB64: string): boolean {
  const spki = Buffer.concat([
    Buffer.from('302a300506032b6570032100', 'hex'),
    Buffer.from(fromBase64Url(publicKeyB64)),
  ]);
  return nodeVerify(
    null,
    message,
    createPublicKey({ key: spki, format: 'der', type: 'spki' }),
    Buffer.from(fromBase64Url(signatureB64)),
  );
}
const expectedBytes = (tag: string, statement: unknown) =>
  Buffer.concat([Buffer.from(tag, 'ascii'), Buffer.from([1]), Buffer.from(canonicalize(statement), 'utf8')]).toString(
    'hex',
  );

/** MTH written directly from RFC 9162 §2.1.1 with node:crypto, to check audit-tree.ts against. */
function naiveRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(naiveRoot(leaves.slice(0, k)))
    .update(naiveRoot(leaves.slice(k)))
    .digest();
}

describe('hub identity known answers (CKHI, CKAH, audit tree)', () => {
  it('the key, the challenge proof and the audit head match the vectors and verify under node:crypto', () => {
    expect(identity.hubKey).toBe(V.hub_key);
    for (const [tag, v] of [
      ['CKHI', V.challenge_proof],
      ['CKAH', V.audit_head],
    ] as const) {
      expect(v.bytes).toBe(expectedBytes(tag, v.statement));
      expect(nodeVerifies(V.hub_key, fromHex(v.bytes), v.signature)).toBe(true);
    }
    expect(signHubChallenge(identity.privateKey, HUB, V.challenge_proof.statement.challenge)).toEqual({
      statement: V.challenge_proof.statement,
      signature: V.challenge_proof.signature,
    });
    expect(signAuditHead(identity.privateKey, V.audit_head.statement)).toEqual({
      statement: V.audit_head.statement,
      signature: V.audit_head.signature,
    });
  });

  it('tree roots match a direct RFC 9162 implementation, and every vector proof verifies', () => {
    const leaves = (V.tree.leaves as string[]).map((h) => fromHex(h));
    for (let n = 1; n <= leaves.length; n++) {
      const root = toHex(auditTreeRoot(leaves.slice(0, n)));
      expect(root).toBe(V.tree.roots[n - 1]);
      expect(root).toBe(naiveRoot(leaves.slice(0, n).map((l) => Buffer.from(l))).toString('hex'));
    }
    for (const [m, byN] of Object.entries(V.tree.consistency as Record<string, Record<string, string[]>>)) {
      for (const [n, proof] of Object.entries(byN)) {
        expect(auditConsistencyProof(+m, leaves.slice(0, +n)).map((p) => toHex(p))).toEqual(proof);
        expect(
          verifyAuditConsistency(
            +m,
            +n,
            fromHex(V.tree.roots[+m - 1]),
            fromHex(V.tree.roots[+n - 1]),
            proof.map((p) => fromHex(p)),
          ),
        ).toBe(true);
      }
    }
  });

  it('every (m, n) up to 33 leaves proves and verifies; a changed leaf or proof hash never does', () => {
    const leaves = Array.from({ length: 33 }, (_, i) => createHash('sha256').update(`x${i}`).digest()).map(
      (b) => new Uint8Array(b),
    );
    for (let n = 1; n <= leaves.length; n++) {
      const newRoot = auditTreeRoot(leaves.slice(0, n));
      for (let m = 1; m <= n; m++) {
        const oldRoot = auditTreeRoot(leaves.slice(0, m));
        const proof = auditConsistencyProof(m, leaves.slice(0, n));
        expect(verifyAuditConsistency(m, n, oldRoot, newRoot, proof), `${m}→${n}`).toBe(true);
        if (m < n) {
          // The old tree with one entry changed (history rewritten) is not a prefix of the new one.
          const rewritten = leaves.slice(0, m).map((l, i) => (i === m - 1 ? new Uint8Array(32).fill(7) : l));
          expect(verifyAuditConsistency(m, n, auditTreeRoot(rewritten), newRoot, proof)).toBe(false);
          const bad = proof.map((p, i) => (i === 0 ? p.map((b, j) => (j === 0 ? b ^ 1 : b)) : p));
          expect(verifyAuditConsistency(m, n, oldRoot, newRoot, bad)).toBe(false);
          expect(verifyAuditConsistency(m, n, oldRoot, newRoot, proof.slice(1))).toBe(false);
        }
      }
    }
    expect(verifyAuditConsistency(2, 1, leaves[0]!, leaves[0]!, [])).toBe(false);
    expect(verifyAuditConsistency(0, 1, leaves[0]!, leaves[0]!, [])).toBe(false);
  });

  it('regression: an honest proof from 2^32 + 1 to 2^32 + 2 entries verifies (found by test/unit/property/hashes)', () => {
    // The old power-of-two test `m & (m - 1)` wrapped at 32 bits and took 2^32 + 1 for a power of two, so honest
    // extensions of logs past 2^32 entries were refused as forks. Leaves all equal L, so with Pk = MTH(2^k leaves):
    // MTH(2^32 + 1) = node(P32, L), MTH(2^32 + 2) = node(P32, node(L, L)), PROOF = [L, L, P32] (RFC 9162 §2.1.4.1).
    const node = (l: Uint8Array, r: Uint8Array) =>
      new Uint8Array(
        createHash('sha256')
          .update(Buffer.from([1]))
          .update(l)
          .update(r)
          .digest(),
      );
    const L = new Uint8Array(32);
    let p = L;
    for (let k = 0; k < 32; k++) p = node(p, p);
    const m = 2 ** 32 + 1;
    expect(verifyAuditConsistency(m, m + 1, node(p, L), node(p, node(L, L)), [L, L, p])).toBe(true);
    expect(verifyAuditConsistency(m, m + 1, node(p, L), node(p, node(L, L)), [L, node(L, L), p])).toBe(false);
  });
});

describe('CKAH and CKHI negative cases', () => {
  const head: AuditHead = V.audit_head.statement;
  const signed = { statement: head, signature: V.audit_head.signature };

  it('refuses a head for another hub, another key, with a changed field, an extra or missing field', async () => {
    expect(verifyAuditHead(signed, { hub: HUB, hubKey: V.hub_key })).toEqual(head);
    await expectCode(
      () => verifyAuditHead(signed, { hub: 'https://hub.example', hubKey: V.hub_key }),
      'audit_head_invalid',
    );
    await expectCode(
      () => verifyAuditHead(signed, { hub: HUB, hubKey: generateHubIdentity().hubKey }),
      'audit_head_invalid',
    );
    await expectCode(
      () => verifyAuditHead({ ...signed, statement: { ...head, seq: 6 } }, { hub: HUB, hubKey: V.hub_key }),
      'audit_head_invalid',
    );
    await expectCode(
      () => verifyAuditHead({ ...signed, statement: { ...head, extra: 1 } }, { hub: HUB, hubKey: V.hub_key }),
      'audit_head_invalid',
    );
    const { time: _t, ...missing } = head;
    await expectCode(
      () => verifyAuditHead({ ...signed, statement: missing }, { hub: HUB, hubKey: V.hub_key }),
      'audit_head_invalid',
    );
    await expectCode(
      () => verifyAuditHead({ ...signed, statement: { ...head, seq: 0 } }, { hub: HUB, hubKey: V.hub_key }),
      'audit_head_invalid',
    );
    await expectCode(
      () =>
        verifyAuditHead(
          { ...signed, statement: { ...head, tree_root: head.tree_root.toUpperCase() } },
          { hub: HUB, hubKey: V.hub_key },
        ),
      'audit_head_invalid',
    );
  });

  it('the tag and version separate formats: the same fields signed as another statement type do not verify', async () => {
    // The CKHI bytes of the proof are not CKAH bytes, and a signature over CKAP-tagged bytes is not a head.
    const asApproval = signStatement(
      { ...APPROVAL_FORMAT, validate: (x: unknown) => x as never },
      identity.privateKey,
      head as never,
    );
    await expectCode(
      () => verifyAuditHead({ statement: head, signature: asApproval.signature }, { hub: HUB, hubKey: V.hub_key }),
      'audit_head_invalid',
    );
    const asProof = { statement: V.challenge_proof.statement, signature: V.challenge_proof.signature };
    await expectCode(() => verifyAuditHead(asProof, { hub: HUB, hubKey: V.hub_key }), 'audit_head_invalid');
    const version2 = Buffer.from(V.audit_head.bytes, 'hex');
    version2[4] = 2;
    expect(nodeVerifies(V.hub_key, version2, V.audit_head.signature)).toBe(false);
  });

  it('checkAuditHead: rollback, fork and missing proof are told apart and never throw', () => {
    const keys = { hub: HUB, hubKey: V.hub_key };
    const leaves = (V.tree.leaves as string[]).map((h) => fromHex(h));
    const at = (n: number, over: Partial<AuditHead> = {}) =>
      signAuditHead(identity.privateKey, {
        ...head,
        seq: n,
        head_hash: V.tree.leaves[n - 1],
        tree_root: V.tree.roots[n - 1],
        ...over,
      });
    const five = at(5).statement;
    expect(
      checkAuditHead(
        five,
        at(7),
        auditConsistencyProof(5, leaves).map((p) => toHex(p)),
        keys,
      ),
    ).toMatchObject({ ok: true });
    expect(checkAuditHead(five, at(4), null, keys)).toMatchObject({ ok: false, problem: 'rollback' });
    expect(checkAuditHead(five, at(5, { tree_root: 'f'.repeat(64) }), null, keys)).toMatchObject({
      ok: false,
      problem: 'fork',
    });
    expect(checkAuditHead(five, at(7), null, keys)).toMatchObject({ ok: false, problem: 'no_proof' });
    expect(checkAuditHead(five, at(7), ['0'.repeat(64)], keys)).toMatchObject({ ok: false, problem: 'fork' });
    expect(checkAuditHead(five, { nonsense: true }, null, keys)).toMatchObject({ ok: false, problem: 'signature' });
    expect(checkAuditHead(null, at(3), null, keys)).toMatchObject({ ok: true });
  });

  it('CKHI: a proof for another challenge, hub or key is refused; a different key says so', async () => {
    const challenge = V.challenge_proof.statement.challenge;
    const proof = signHubChallenge(identity.privateKey, HUB, challenge);
    expect(verifyHubChallenge(proof, { hub: HUB, challenge, pinnedKey: V.hub_key }).hub_key).toBe(V.hub_key);
    await expectCode(
      () => verifyHubChallenge(proof, { hub: HUB, challenge: 'B'.repeat(43).slice(0, 42) + 'A', pinnedKey: V.hub_key }),
      'hub_identity_invalid',
    );
    await expectCode(
      () => verifyHubChallenge(proof, { hub: 'http://localhost:8787', challenge, pinnedKey: V.hub_key }),
      'hub_identity_invalid',
    );
    const other = generateHubIdentity();
    await expectCode(
      () =>
        verifyHubChallenge(signHubChallenge(other.privateKey, HUB, challenge), {
          hub: HUB,
          challenge,
          pinnedKey: V.hub_key,
        }),
      'hub_identity_invalid',
    );
    // A squatter naming the pinned key but signing with its own.
    const forged = {
      statement: { ...proof.statement },
      signature: signHubChallenge(other.privateKey, HUB, challenge).signature,
    };
    await expectCode(
      () => verifyHubChallenge(forged, { hub: HUB, challenge, pinnedKey: V.hub_key }),
      'hub_identity_invalid',
    );
  });

  it('the identity file is CKHK v1 + seed, parsed strictly', () => {
    const bytes = encodeIdentityFile(identity);
    expect(Buffer.from(bytes.subarray(0, 5)).toString('hex')).toBe(
      Buffer.concat([Buffer.from('CKHK'), Buffer.from([1])]).toString('hex'),
    );
    expect(decodeIdentityFile(bytes).hubKey).toBe(V.hub_key);
    const v2 = bytes.slice();
    v2[4] = 2;
    expect(() => decodeIdentityFile(v2)).toThrow(/unsupported version 2/);
    expect(() => decodeIdentityFile(bytes.subarray(0, 36))).toThrow(/37 bytes/);
    const tag = bytes.slice();
    tag[0] = 0x58;
    expect(() => decodeIdentityFile(tag)).toThrow(/wrong tag/);
  });
});

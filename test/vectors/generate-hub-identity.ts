/**
 * Regenerates test/vectors/protocol-hub-identity.json (the hub identity proof CKHI, the signed audit head CKAH and
 * the RFC 9162 audit tree). Run by hand (`npx tsx test/vectors/generate-hub-identity.ts`) only when one of these
 * formats deliberately changes. Inputs are fixed (seed, challenge, leaves); Ed25519 is deterministic.
 */
import { writeFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8Encode } from '../../lib/bytes';
import { AUDIT_HEAD_FORMAT, signAuditHead, type AuditHead } from '../../lib/protocol/audit-head';
import { auditConsistencyProof, auditTreeRoot } from '../../lib/protocol/audit-tree';
import { HUB_CHALLENGE_FORMAT, signHubChallenge } from '../../lib/protocol/hub-identity';
import { statementBytes } from '../../lib/protocol/signed-statement';
import { toBase64Url } from '../../lib/protocol/base64url';
import { hubIdentityFromSeed } from '../../hub/identity';

const seed = Uint8Array.from({ length: 32 }, (_, i) => (0x40 + i) & 0xff);
const identity = hubIdentityFromSeed(seed);
const hub = 'http://127.0.0.1:8787';
const challenge = toBase64Url(Uint8Array.from({ length: 32 }, (_, i) => i));
const proof = signHubChallenge(identity.privateKey, hub, challenge);
const leaves = Array.from({ length: 7 }, (_, i) => sha256(utf8Encode(`leaf ${i + 1}`)));
const head: AuditHead = { hub, hub_key: identity.hubKey, seq: 7, head_hash: toHex(leaves[6]!), tree_root: toHex(auditTreeRoot(leaves)), time: 1_764_000_000_000 };
const signedHead = signAuditHead(identity.privateKey, head);

writeFileSync(
  new URL('protocol-hub-identity.json', import.meta.url),
  JSON.stringify(
    {
      description: 'Hub identity (docs/protocol.md §11). seed = the hub Ed25519 seed; bytes = tag | version | canonical statement, hex; signature base64url. tree: leaves are hex SHA-256 values; roots[n-1] = MTH of the first n leaves; consistency[m][n] = PROOF(m, D[n]).',
      seed: toHex(seed),
      hub_key: identity.hubKey,
      challenge_proof: { statement: proof.statement, bytes: toHex(statementBytes(HUB_CHALLENGE_FORMAT, proof.statement)), signature: proof.signature },
      audit_head: { statement: signedHead.statement, bytes: toHex(statementBytes(AUDIT_HEAD_FORMAT, signedHead.statement)), signature: signedHead.signature },
      tree: {
        leaves: leaves.map((l) => toHex(l)),
        roots: leaves.map((_, i) => toHex(auditTreeRoot(leaves.slice(0, i + 1)))),
        consistency: Object.fromEntries(
          [1, 2, 3, 4, 6].map((m) => [m, Object.fromEntries([m, 5, 7].filter((n) => n >= m).map((n) => [n, auditConsistencyProof(m, leaves.slice(0, n)).map((p) => toHex(p))]))]),
        ),
      },
    },
    null,
    2,
  ) + '\n',
);

// @vitest-environment node
/**
 * Property tests for every signed statement of docs/protocol.md §0: CKAP approval, CKCL claim, CKKB key binding,
 * CKDA device-add, CKDR device removal, CKIR installation revocation, CKHI hub identity proof, CKAH audit head,
 * CKHD vault head, CKCD config delivery. Each is `tag[4] | version u8 | canonicalBytes(statement)` signed with
 * Ed25519 (signed-statement.ts). For generated valid statements: the bytes parse back to the statement and the
 * statement re-encodes to the same bytes; sign then verify gives the statement back. For a statement a hub bent (a
 * field replaced, removed or added), a junk signature or any value at all: only the format's own typed error.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { canonicalize, parseCanonical } from '../../../lib/protocol/canonical';
import { ProtocolError } from '../../../lib/protocol/errors';
import {
  APPROVAL_FORMAT,
  approvalBytes,
  CLAIM_FORMAT,
  claimBytes,
  verifyApproval,
  verifyClaim,
  type ApprovalStatement,
  type ClaimStatement,
} from '../../../lib/protocol/approval';
import { AUDIT_HEAD_FORMAT, verifyAuditHead, type AuditHead } from '../../../lib/protocol/audit-head';
import {
  DEVICE_ADD_FORMAT,
  deviceAddBytes,
  devicesVouchedBy,
  verifyDeviceAdd,
  verifyDeviceChain,
  type DeviceAddStatement,
  type DeviceListEntry,
} from '../../../lib/protocol/device-pairing';
import { HUB_CHALLENGE_FORMAT, verifyHubChallenge, type HubChallengeProof } from '../../../lib/protocol/hub-identity';
import {
  KEY_BINDING_FORMAT,
  keyBindingBytes,
  verifyKeyBinding,
  type KeyBindingStatement,
} from '../../../lib/protocol/key-binding';
import { deviceKeyId } from '../../../lib/protocol/keys';
import {
  DEVICE_REMOVAL_FORMAT,
  deviceRemovalBytes,
  INSTALLATION_REVOCATION_FORMAT,
  installationRevocationBytes,
  verifyDeviceRemoval,
  verifyInstallationRevocation,
  type DeviceRemovalStatement,
  type InstallationRevocationStatement,
} from '../../../lib/protocol/revocation';
import {
  CONFIG_STATEMENT_FORMAT,
  configStatementBytes,
  type ConfigStatement,
} from '../../../lib/protocol/sealed-config';
import { statementBytes, verifyStatement, type StatementFormat } from '../../../lib/protocol/signed-statement';
import { SyncError } from '../../../lib/protocol/sync-errors';
import { VAULT_HEAD_FORMAT, verifyVaultHead, type VaultHead } from '../../../lib/protocol/vault-head';
import {
  bentObject,
  bytes,
  check,
  ed25519PublicKey,
  ed25519PublicKeyText,
  epoch,
  id,
  kind,
  nonce16,
  origin,
  scopeList,
  sha256Hex,
  signer,
  SIGNERS,
  typedOnly,
  unicodeString,
  x25519PublicKeyText,
  type ErrorFamily,
  type SigningPair,
} from './arbitraries';

// ---- one table row per statement format ------------------------------------------------------------------------

interface Row<T extends object> {
  name: string;
  format: StatementFormat<T>;
  /** A valid statement and the key that signs it (named inside the statement where the format says so). */
  arb: fc.Arbitrary<{ statement: T; by: SigningPair }>;
  /** The module's own "bytes this signature covers" helper, where it has one. */
  bytesOf?: (s: T) => Uint8Array;
  /** The module's verifier with what an honest verifier expects. */
  verify: (signed: unknown, s: T, by: SigningPair) => T;
  family: ErrorFamily;
  code: string;
}

const withSigner = <T extends object>(make: (by: SigningPair) => fc.Arbitrary<T>) =>
  signer.chain((by) => make(by).map((statement) => ({ statement, by })));

const approvalRequired = fc
  .uniqueArray(kind, { maxLength: 63 })
  .map((ks) => [...new Set([...ks, 'secret.request'])].sort());
const bindingName = fc.option(
  unicodeString({ minLength: 1, maxLength: 80 }).filter((s) => s.length <= 80 && !/[\p{Cc}\p{Cs}]/u.test(s)),
  { nil: null },
);
const positive = fc.oneof(
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(1, Number.MAX_SAFE_INTEGER),
);

const rows: Row<object>[] = [
  {
    name: 'CKAP v2 approval',
    format: APPROVAL_FORMAT,
    bytesOf: approvalBytes,
    family: ProtocolError,
    code: 'approval_invalid',
    arb: withSigner(() =>
      fc.record<ApprovalStatement>({
        hub: origin,
        intent_id: id,
        payload_hash: sha256Hex,
        decision: fc.constantFrom('approve', 'deny'),
        installation_id: id,
        agent_nonce: nonce16,
        time: epoch,
      }),
    ),
    verify: (signed, s: ApprovalStatement, by) => verifyApproval(by.pub, signed, s),
  } satisfies Row<ApprovalStatement>,
  {
    name: 'CKCL claim',
    format: CLAIM_FORMAT,
    bytesOf: claimBytes,
    family: ProtocolError,
    code: 'claim_invalid',
    arb: withSigner((by) =>
      fc.record<ClaimStatement>({
        hub: origin,
        agent_id: id,
        agent_signing_key: ed25519PublicKeyText,
        agent_box_key: x25519PublicKeyText,
        claim_code_hash: sha256Hex,
        granted_scopes: scopeList as fc.Arbitrary<ClaimStatement['granted_scopes']>,
        policy: fc.record({
          approval_required: approvalRequired,
          daily_limit: fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: null }),
        }),
        installation_id: id,
        device_key: fc.constant(by.text),
        time: epoch,
      }),
    ),
    verify: (signed, s: ClaimStatement) => {
      const { hub, agent_id, agent_signing_key, agent_box_key, claim_code_hash, installation_id, device_key } = s;
      return verifyClaim(signed, {
        hub,
        agent_id,
        agent_signing_key,
        agent_box_key,
        claim_code_hash,
        installation_id,
        device_key,
      });
    },
  } satisfies Row<ClaimStatement>,
  {
    name: 'CKKB key binding',
    format: KEY_BINDING_FORMAT,
    bytesOf: keyBindingBytes,
    family: ProtocolError,
    code: 'key_binding_invalid',
    arb: withSigner((by) =>
      fc.record<KeyBindingStatement>({
        hub: origin,
        role: fc.constantFrom('agent', 'device'),
        signing_key: fc.constant(by.text),
        box_key: x25519PublicKeyText,
        name: bindingName,
        time: epoch,
      }),
    ),
    verify: (signed, s: KeyBindingStatement) => verifyKeyBinding(signed, s),
  } satisfies Row<KeyBindingStatement>,
  {
    name: 'CKDA device-add',
    format: DEVICE_ADD_FORMAT,
    bytesOf: deviceAddBytes,
    family: ProtocolError,
    code: 'device_statement_invalid',
    arb: withSigner((by) =>
      fc.record<DeviceAddStatement>({
        hub: origin,
        account_id: id,
        device_key: ed25519PublicKeyText.filter((k) => k !== by.text),
        box_key: x25519PublicKeyText,
        added_by: fc.constant(by.text),
        pairing_id: id,
        sealed_sha256: sha256Hex,
        time: epoch,
      }),
    ),
    verify: (signed, s: DeviceAddStatement) => verifyDeviceAdd(signed, s),
  } satisfies Row<DeviceAddStatement>,
  {
    name: 'CKDR device removal',
    format: DEVICE_REMOVAL_FORMAT,
    bytesOf: deviceRemovalBytes,
    family: ProtocolError,
    code: 'revocation_invalid',
    arb: withSigner((by) =>
      fc.record({ hub: origin, account_id: id, device: ed25519PublicKey, time: epoch }).map(({ device, ...r }) => ({
        ...r,
        device_key_id: deviceKeyId(device),
        device_key: toBase64Url(device),
        removed_by: by.text,
      })),
    ),
    verify: (signed, s: DeviceRemovalStatement) => verifyDeviceRemoval(signed, s),
  } satisfies Row<DeviceRemovalStatement>,
  {
    name: 'CKIR installation revocation',
    format: INSTALLATION_REVOCATION_FORMAT,
    bytesOf: installationRevocationBytes,
    family: ProtocolError,
    code: 'revocation_invalid',
    arb: withSigner((by) =>
      fc.record<InstallationRevocationStatement>({
        hub: origin,
        installation_id: id,
        agent_signing_key: ed25519PublicKeyText.filter((k) => k !== by.text),
        revoked_by: fc.constant(by.text),
        time: epoch,
      }),
    ),
    verify: (signed, s: InstallationRevocationStatement) => verifyInstallationRevocation(signed, s),
  } satisfies Row<InstallationRevocationStatement>,
  {
    name: 'CKHI hub identity proof',
    format: HUB_CHALLENGE_FORMAT,
    family: ProtocolError,
    code: 'hub_identity_invalid',
    arb: withSigner((by) =>
      fc.record<HubChallengeProof>({
        hub: origin,
        hub_key: fc.constant(by.text),
        challenge: bytes(32).map(toBase64Url),
      }),
    ),
    verify: (signed, s: HubChallengeProof, by) =>
      verifyHubChallenge(signed, { hub: s.hub, challenge: s.challenge, pinnedKey: by.text }),
  } satisfies Row<HubChallengeProof>,
  {
    name: 'CKAH audit head',
    format: AUDIT_HEAD_FORMAT,
    family: ProtocolError,
    code: 'audit_head_invalid',
    arb: withSigner((by) =>
      fc.record<AuditHead>({
        hub: origin,
        hub_key: fc.constant(by.text),
        seq: positive,
        head_hash: sha256Hex,
        tree_root: sha256Hex,
        time: epoch,
      }),
    ),
    verify: (signed, s: AuditHead, by) => verifyAuditHead(signed, { hub: s.hub, hubKey: by.text }),
  } satisfies Row<AuditHead>,
  {
    // CKHD names no origin grammar: hub and account are any non-empty well-formed text the sync client passes.
    name: 'CKHD vault head',
    format: VAULT_HEAD_FORMAT,
    family: SyncError,
    code: 'sync_head_invalid',
    arb: withSigner((by) =>
      fc.record<VaultHead>({
        hub: unicodeString({ maxLength: 40 }),
        account_id: unicodeString({ minLength: 1, maxLength: 40 }),
        counter: positive,
        items_hash: sha256Hex,
        device_key: fc.constant(by.text),
        time: epoch,
      }),
    ),
    verify: (signed, s: VaultHead, by) =>
      verifyVaultHead(signed, { hub: s.hub, accountId: s.account_id, deviceKeys: [by.pub] }),
  } satisfies Row<VaultHead>,
  {
    name: 'CKCD config delivery',
    format: CONFIG_STATEMENT_FORMAT,
    bytesOf: configStatementBytes,
    family: ProtocolError,
    code: 'sealed_invalid',
    arb: withSigner(() =>
      fc.record<ConfigStatement>({
        hub: origin,
        agent_id: id,
        installation_id: id,
        config_id: id,
        revision: positive,
        sealed_sha256: sha256Hex,
        time: epoch,
      }),
    ),
    verify: (signed, s: ConfigStatement, by) =>
      verifyStatement(CONFIG_STATEMENT_FORMAT, by.pub, signed, {
        hub: s.hub,
        agent_id: s.agent_id,
        installation_id: s.installation_id,
      }),
  } satisfies Row<ConfigStatement>,
] as unknown as Row<object>[];

const ascii = (b: Uint8Array) => String.fromCharCode(...b);

/** The test's reading of signed bytes: tag and version, then the canonical statement through the format's validator. */
function parseStatementBytes<T>(format: StatementFormat<T>, b: Uint8Array): T {
  expect(ascii(b.subarray(0, 4))).toBe(format.tag);
  expect(b[4]).toBe(format.version);
  return format.validate(parseCanonical(b.subarray(5)));
}

const sign = (format: StatementFormat<object>, statement: object, by: SigningPair) => ({
  statement,
  signature: toBase64Url(ed25519.sign(statementBytes(format, statement), by.priv)),
});

describe.each(rows.map((r) => [r.name, r] as const))('%s', (_name, row) => {
  it('validate(x) = x; the signed bytes parse back to x and x re-encodes to the same bytes', () => {
    check(
      row.arb,
      ({ statement }) => {
        const clean = row.format.validate(statement);
        expect(clean).toEqual(statement);
        expect(clean).not.toBe(statement); // a fresh copy: the caller's object can change later without changing what was checked
        const b = statementBytes(row.format, statement);
        if (row.bytesOf) expect(row.bytesOf(statement)).toEqual(b);
        const parsed = parseStatementBytes(row.format, b);
        expect(parsed).toEqual(statement);
        expect(statementBytes(row.format, parsed)).toEqual(b);
        // Key order of the input does not matter: the signed bytes are canonical.
        const reversed = Object.fromEntries(Object.entries(statement).reverse());
        expect(statementBytes(row.format, row.format.validate(reversed))).toEqual(b);
      },
      100,
    );
  });

  it('sign then verify gives the statement back', () => {
    check(
      row.arb,
      ({ statement, by }) => {
        expect(row.verify(sign(row.format, statement, by), statement, by)).toEqual(statement);
      },
      40,
    );
  });

  it("a bent statement under the original signature: the format's typed error only, never accepted", () => {
    const bent = row.arb.chain(({ statement, by }) =>
      bentObject(fc.constant(statement as Record<string, unknown>)).map((b) => ({ statement, by, b })),
    );
    check(
      bent,
      ({ statement, by, b }) => {
        const signed = sign(row.format, statement, by);
        const code = typedOnly(
          () => row.verify({ statement: b, signature: signed.signature }, statement, by),
          row.family,
          [row.code],
        );
        if (code === 'ok') expect(canonicalize(b)).toBe(canonicalize(statement));
      },
      80,
    );
  });

  it("junk where the signed statement or its signature should be: the format's typed error only", () => {
    const junk = row.arb.chain(({ statement, by }) =>
      fc
        .oneof(
          fc.anything(),
          fc.record({ statement: fc.anything(), signature: fc.anything() }),
          fc.record({
            statement: fc.constant(statement),
            signature: fc.oneof(fc.anything(), fc.string({ maxLength: 90 }), bytes(64).map(toBase64Url)),
          }),
        )
        .map((signed) => ({ statement, by, signed })),
    );
    check(
      junk,
      ({ statement, by, signed }) => {
        expect(typedOnly(() => row.verify(signed, statement, by), row.family, [row.code])).not.toBe('ok');
      },
      80,
    );
  });
});

// ---- chains of CKDA statements (device-pairing.ts verifyDeviceChain, devicesVouchedBy) -----------------------------

describe('CKDA chains: the device list a hub serves', () => {
  /** An account of 1..6 pool keys: the first enrols, each later one is added by a device before it. */
  const account = fc
    .tuple(
      fc.shuffledSubarray([...SIGNERS], { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
      origin,
      epoch,
      fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
    )
    .map(([keys, parents, hub, time, order]) => {
      const accountId = deviceKeyId(keys[0]!.pub);
      const entries: DeviceListEntry[] = keys.map((k, i) => {
        const base = {
          device_key_id: deviceKeyId(k.pub),
          device_key: k.text,
          name: null,
          added_at: time,
          revoked_at: null,
        };
        if (i === 0) return { ...base, statement: null };
        const by = keys[parents[i]! % i]!;
        const statement: DeviceAddStatement = {
          hub,
          account_id: accountId,
          device_key: k.text,
          box_key: toBase64Url(new Uint8Array(32).fill(i)),
          added_by: by.text,
          pairing_id: `p${i}`,
          sealed_sha256: '0'.repeat(64),
          time,
        };
        return { ...base, statement: sign(DEVICE_ADD_FORMAT, statement, by) as DeviceListEntry['statement'] };
      });
      // The hub may list devices in any order.
      const listed = entries
        .map((e, i) => [order[i]!, e] as const)
        .sort((a, b) => a[0] - b[0])
        .map(([, e]) => e);
      return { hub, accountId, keys, listed };
    });

  it('an honest chain in any order verifies to exactly its devices; every device vouches for its descendants', () => {
    check(
      account,
      ({ hub, accountId, keys, listed }) => {
        const chain = verifyDeviceChain(listed, { hub, accountId });
        expect(new Map([...chain].sort())).toEqual(
          new Map(keys.map((k) => [deviceKeyId(k.pub), k.text] as [string, string]).sort()),
        );
        const vouched = devicesVouchedBy(keys[0]!.pub, listed, hub).map(toBase64Url).sort();
        expect(vouched).toEqual(keys.map((k) => k.text).sort());
      },
      40,
    );
  });

  it('a bent entry or statement: device_statement_invalid only; devicesVouchedBy never throws', () => {
    const bent = account.chain((a) =>
      fc.tuple(
        fc.constant(a),
        fc.nat(),
        bentObject(fc.constant({ x: 1 })),
        fc.constantFrom('statement', 'inner', 'entry'),
      ),
    );
    check(
      bent,
      ([{ hub, accountId, keys, listed }, at, junk, where]) => {
        const list = listed.map((e) => ({ ...e }));
        const i = at % list.length;
        const e = list[i]! as unknown as Record<string, unknown>;
        if (where === 'statement') e.statement = junk;
        else if (where === 'inner' && e.statement) e.statement = { ...e.statement, statement: junk };
        else e[['device_key', 'device_key_id', 'statement'][at % 3]!] = junk;
        typedOnly(() => verifyDeviceChain(list, { hub, accountId }), ProtocolError, [
          'device_statement_invalid',
          'protocol_invalid',
        ]);
        devicesVouchedBy(keys[0]!.pub, list, hub);
      },
      80,
    );
  });
});

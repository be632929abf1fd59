// @vitest-environment node
/**
 * Property tests for every versioned binary vault format in lib/format (README "Formats"): the binary helpers, the
 * KDF block, CKVH vault header, CKIE item envelope, CKRW recovery wrap, CKBK backup file, and the versioned payload
 * inside a backup (lib/vault/backup.ts). For generated valid values: parse(encode(x)) = x, and bytes laid out by
 * hand from the format comment parse and re-encode to exactly those bytes. For random and mutated bytes: only a
 * ClawkeepError escapes, and a mutated encoding never opens.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../lib/bytes';
import { aeadEncrypt, NONCE_LENGTH, TAG_LENGTH } from '../../../lib/crypto/aead';
import { KDF_LIMITS, type KdfParams } from '../../../lib/crypto/kdf-params';
import { ClawkeepError, DecryptError, FormatError, KdfParamsError } from '../../../lib/errors';
import { BACKUP_TAG, decodeBackupFile, openBackupFile, sealBackupFile } from '../../../lib/format/backup-file';
import { ByteReader, ByteWriter, readTagAndVersion, writeTagAndVersion } from '../../../lib/format/binary';
import {
  decodeItemEnvelope,
  ITEM_ENVELOPE_TAG,
  ITEM_KIND_IDS,
  openItem,
  sealItem,
  type EnvelopeKind,
} from '../../../lib/format/item-envelope';
import { readKdfBlock, writeKdfBlock } from '../../../lib/format/kdf-block';
import {
  decodeRecoveryWrap,
  encodeRecoveryWrap,
  openRecoveryWrap,
  RECOVERY_WRAP_TAG,
  sealRecoveryWrap,
} from '../../../lib/format/recovery-wrap';
import {
  decodeVaultHeader,
  encodeVaultHeader,
  openVaultHeader,
  sealVaultHeader,
  VAULT_HEADER_TAG,
} from '../../../lib/format/vault-header';
import { exportItemsToBackup, readItemsFromBackup } from '../../../lib/vault/backup';
import type { VaultItem } from '../../../lib/vault/types';
import {
  bytes,
  check,
  expectBytes,
  httpHost,
  mutations,
  mutate,
  typedOnly,
  unchanged,
  unicodeString,
} from './arbitraries';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const u32be = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
const u64be = (v: number) => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(v));
  return out;
};

// ---- arbitraries ---------------------------------------------------------------------------------------------

const range = (r: { min: number; max: number }) => fc.oneof(fc.integer(r), fc.constantFrom(r.min, r.max));
/** Every KDF parameter set the parsers accept: both algorithms, every value between floor and ceiling. */
const kdfParams: fc.Arbitrary<KdfParams> = fc.oneof(
  fc.record({
    algorithm: fc.constant('argon2id' as const),
    memoryKiB: range(KDF_LIMITS.argon2id.memoryKiB),
    iterations: range(KDF_LIMITS.argon2id.iterations),
    parallelism: range(KDF_LIMITS.argon2id.parallelism),
  }),
  fc.record({
    algorithm: fc.constant('pbkdf2-sha256' as const),
    iterations: range(KDF_LIMITS['pbkdf2-sha256'].iterations),
  }),
);

/** The KDF block laid out by hand from kdf-block.ts's comment (not with the module's writer). */
function kdfBlockBytes(kdf: KdfParams, salt: Uint8Array): Uint8Array {
  const params =
    kdf.algorithm === 'argon2id'
      ? concatBytes(Uint8Array.of(1), u32be(kdf.memoryKiB), u32be(kdf.iterations), Uint8Array.of(kdf.parallelism))
      : concatBytes(Uint8Array.of(2), u32be(kdf.iterations));
  return concatBytes(params, Uint8Array.of(salt.length), salt);
}

const key = bytes(32);
// Mostly small, sometimes a few KiB: the sizes vary, the AEAD cost stays bounded.
const plaintext = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 5 },
  { arbitrary: fc.uint8Array({ minLength: 1000, maxLength: 3000 }), weight: 1 },
);
const itemId = fc.stringMatching(/^[A-Za-z0-9-]{1,64}$/);
const envelopeKind = fc.constantFrom(...(Object.keys(ITEM_KIND_IDS) as EnvelopeKind[]));
/** Random bytes, and random bytes behind the right tag and version so the parser gets past its first check. */
const hostile = (tag: string) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 160 }),
    fc.uint8Array({ maxLength: 160 }).map((b) => concatBytes(ascii(tag), Uint8Array.of(1), b)),
  );

const header = fc.record({
  vaultId: bytes(16),
  kdf: kdfParams,
  salt: bytes(16),
  nonce: bytes(NONCE_LENGTH),
  wrappedKey: bytes(32 + TAG_LENGTH),
});
const wrap = fc.record({
  vaultId: bytes(16),
  kitId: bytes(16),
  createdAt: fc.oneof(fc.maxSafeNat(), fc.constantFrom(0, Number.MAX_SAFE_INTEGER)),
  salt: bytes(16),
  nonce: bytes(NONCE_LENGTH),
  wrappedKey: bytes(32 + TAG_LENGTH),
});

// ---- binary helpers and KDF block ------------------------------------------------------------------------------

describe('binary helpers (lib/format/binary.ts)', () => {
  it('u8 / u32 / bytes written by ByteWriter read back in order, and end() accepts exactly the written length', () => {
    const field = fc.oneof(
      fc.record({ t: fc.constant('u8' as const), v: fc.integer({ min: 0, max: 0xff }) }),
      fc.record({
        t: fc.constant('u32' as const),
        v: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 0x80000000, 0xffffffff)),
      }),
      fc.record({ t: fc.constant('bytes' as const), v: fc.uint8Array({ maxLength: 40 }) }),
    );
    check(
      fc.array(field, { maxLength: 20 }),
      (fields) => {
        const w = new ByteWriter();
        for (const f of fields) {
          if (f.t === 'u8') w.u8(f.v);
          else if (f.t === 'u32') w.u32(f.v);
          else w.bytes(f.v);
        }
        const out = w.finish();
        const r = new ByteReader(out, 'test');
        for (const f of fields) {
          if (f.t === 'u8') expect(r.u8()).toBe(f.v);
          else if (f.t === 'u32') expect(r.u32()).toBe(f.v);
          else expect(r.take(f.v.length)).toEqual(f.v);
        }
        r.end();
        expect(r.consumed()).toEqual(out);
      },
      300,
    );
  });

  it('reading past the end is a FormatError, never a RangeError or undefined', () => {
    const op = fc.oneof(
      fc.constant('u8' as const),
      fc.constant('u32' as const),
      fc.constant('rest' as const),
      fc.integer({ min: 0, max: 64 }),
    );
    check(
      fc.tuple(fc.uint8Array({ maxLength: 32 }), fc.array(op, { maxLength: 12 })),
      ([buf, ops]) => {
        const r = new ByteReader(buf, 'test');
        typedOnly(
          () => {
            for (const o of ops) {
              if (o === 'u8') r.u8();
              else if (o === 'u32') r.u32();
              else if (o === 'rest') r.rest();
              else r.take(o);
            }
            r.end();
          },
          FormatError,
          ['format_invalid'],
        );
      },
      300,
    );
  });

  it('readTagAndVersion accepts exactly its tag and version', () => {
    check(
      fc.tuple(fc.stringMatching(/^[A-Z]{4}$/), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 8 })),
      ([tag, version, junk]) => {
        const w = new ByteWriter();
        writeTagAndVersion(w, tag, version);
        const good = w.finish();
        expect(good).toEqual(concatBytes(ascii(tag), Uint8Array.of(version)));
        readTagAndVersion(new ByteReader(good, 't'), tag, version, 't');
        const code = typedOnly(() => readTagAndVersion(new ByteReader(junk, 't'), tag, version, 't'), FormatError);
        if (code === 'ok') expect(junk.subarray(0, 5)).toEqual(good);
      },
      300,
    );
  });
});

describe('KDF block (lib/format/kdf-block.ts)', () => {
  it('parse(encode(x)) = x, and the hand-laid bytes are exactly what the writer produces', () => {
    check(
      fc.tuple(kdfParams, bytes(16)),
      ([kdf, salt]) => {
        const w = new ByteWriter();
        writeKdfBlock(w, kdf, salt);
        const out = w.finish();
        expect(out).toEqual(kdfBlockBytes(kdf, salt));
        const r = new ByteReader(out, 'kdf');
        expect(readKdfBlock(r, 'kdf')).toEqual({ kdf, salt });
        r.end();
      },
      400,
    );
  });

  it('parameters outside floor and ceiling are refused with kdf_params_out_of_range before any work', () => {
    const outside = fc.oneof(
      fc.record({
        algorithm: fc.constant('argon2id' as const),
        memoryKiB: fc.integer({ min: 0, max: 0xffffffff }),
        iterations: fc.integer({ min: 0, max: 0xffffffff }),
        parallelism: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({
        algorithm: fc.constant('pbkdf2-sha256' as const),
        iterations: fc.integer({ min: 0, max: 0xffffffff }),
      }),
    );
    check(
      fc.tuple(outside, bytes(16)),
      ([kdf, salt]) => {
        const code = typedOnly(
          () => readKdfBlock(new ByteReader(kdfBlockBytes(kdf, salt), 'kdf'), 'kdf'),
          KdfParamsError,
          ['kdf_params_out_of_range'],
        );
        const l = KDF_LIMITS;
        const inside =
          kdf.algorithm === 'argon2id'
            ? (['memoryKiB', 'iterations', 'parallelism'] as const).every(
                (k) => kdf[k] >= l.argon2id[k].min && kdf[k] <= l.argon2id[k].max,
              )
            : kdf.iterations >= l['pbkdf2-sha256'].iterations.min &&
              kdf.iterations <= l['pbkdf2-sha256'].iterations.max;
        expect(code === 'ok').toBe(inside);
      },
      400,
    );
  });

  it('random bytes: FormatError or KdfParamsError only', () => {
    check(
      fc.uint8Array({ maxLength: 40 }),
      (b) => {
        typedOnly(() => readKdfBlock(new ByteReader(b, 'kdf'), 'kdf'), ClawkeepError, [
          'format_invalid',
          'kdf_params_out_of_range',
        ]);
      },
      400,
    );
  });
});

// ---- CKVH ------------------------------------------------------------------------------------------------------

describe('CKVH vault header (lib/format/vault-header.ts)', () => {
  it('parse(encode(x)) = x and encode(parse(b)) = b, b laid out by hand from the format comment', () => {
    check(
      header,
      (h) => {
        const b = concatBytes(
          ascii(VAULT_HEADER_TAG),
          Uint8Array.of(1),
          h.vaultId,
          kdfBlockBytes(h.kdf, h.salt),
          h.nonce,
          h.wrappedKey,
        );
        expect(encodeVaultHeader(h)).toEqual(b);
        expect(decodeVaultHeader(b)).toEqual(h);
        expect(encodeVaultHeader(decodeVaultHeader(b))).toEqual(b);
      },
      400,
    );
  });

  it('seal then open gives back the vault key; the wrong KEK is wrong_passphrase', () => {
    check(
      fc.record({ vaultId: bytes(16), kdf: kdfParams, salt: bytes(16), kek: key, other: key, vaultKey: key }),
      (a) => {
        fc.pre(!unchanged(a.kek, a.other));
        const sealed = sealVaultHeader(a);
        const b = encodeVaultHeader(sealed);
        expect(openVaultHeader(decodeVaultHeader(b), a.kek)).toEqual(a.vaultKey);
        expect(typedOnly(() => openVaultHeader(decodeVaultHeader(b), a.other), ClawkeepError)).toBe('wrong_passphrase');
      },
      200,
    );
  });

  it('random and mutated bytes: ClawkeepError only, and a changed header never opens', () => {
    const sealed = fc
      .record({ vaultId: bytes(16), kdf: kdfParams, salt: bytes(16), kek: key, vaultKey: key })
      .map((a) => ({ kek: a.kek, b: encodeVaultHeader(sealVaultHeader(a)) }));
    check(
      fc.tuple(sealed, mutations),
      ([{ kek, b }, edits]) => {
        const m = mutate(b, edits);
        if (typedOnly(() => openVaultHeader(decodeVaultHeader(m), kek), ClawkeepError) === 'ok') expect(m).toEqual(b);
      },
      400,
    );
    check(
      hostile(VAULT_HEADER_TAG),
      (b) =>
        void typedOnly(() => decodeVaultHeader(b), ClawkeepError, [
          'format_invalid',
          'format_unsupported_version',
          'kdf_params_out_of_range',
        ]),
      400,
    );
  });
});

// ---- CKIE ------------------------------------------------------------------------------------------------------

describe('CKIE item envelope (lib/format/item-envelope.ts)', () => {
  const ctx = fc.record({ vaultId: bytes(16), id: itemId, kind: envelopeKind });

  it('encode(parse(b)) = b, and sealItem / openItem round-trip every plaintext size', () => {
    check(
      fc.record({ key, ctx, plaintext, nonce: bytes(NONCE_LENGTH) }),
      (a) => {
        const b = sealItem(a.key, a.ctx, a.plaintext, a.nonce);
        const { nonce, ciphertext } = decodeItemEnvelope(b);
        expect(nonce).toEqual(a.nonce);
        expect(ciphertext.length).toBe(a.plaintext.length + TAG_LENGTH);
        expectBytes(concatBytes(ascii(ITEM_ENVELOPE_TAG), Uint8Array.of(1), nonce, ciphertext), b);
        expectBytes(openItem(a.key, a.ctx, b), a.plaintext);
      },
      200,
    );
  });

  it('an envelope opens only as the very item (vault, id, kind) it was sealed for', () => {
    check(
      fc.record({ key, ctx, other: ctx, plaintext }),
      (a) => {
        const same =
          unchanged(a.ctx.vaultId, a.other.vaultId) && a.ctx.id === a.other.id && a.ctx.kind === a.other.kind;
        fc.pre(!same);
        const b = sealItem(a.key, a.ctx, a.plaintext);
        expect(() => openItem(a.key, a.other, b)).toThrow(DecryptError);
      },
      200,
    );
  });

  it('random and mutated bytes: ClawkeepError only, and a changed envelope never opens', () => {
    check(
      fc.tuple(fc.record({ key, ctx, plaintext: fc.uint8Array({ maxLength: 64 }) }), mutations),
      ([a, edits]) => {
        const b = sealItem(a.key, a.ctx, a.plaintext);
        const m = mutate(b, edits);
        if (
          typedOnly(() => openItem(a.key, a.ctx, m), ClawkeepError, [
            'format_invalid',
            'format_unsupported_version',
            'decrypt_failed',
          ]) === 'ok'
        )
          expect(m).toEqual(b);
      },
      400,
    );
    check(
      hostile(ITEM_ENVELOPE_TAG),
      (b) =>
        void typedOnly(() => decodeItemEnvelope(b), ClawkeepError, ['format_invalid', 'format_unsupported_version']),
      400,
    );
  });
});

// ---- CKRW ------------------------------------------------------------------------------------------------------

describe('CKRW recovery wrap (lib/format/recovery-wrap.ts)', () => {
  it('parse(encode(x)) = x and encode(parse(b)) = b, b laid out by hand (createdAt as u64 big-endian)', () => {
    check(
      wrap,
      (w) => {
        const b = concatBytes(
          ascii(RECOVERY_WRAP_TAG),
          Uint8Array.of(1),
          w.vaultId,
          w.kitId,
          u64be(w.createdAt),
          w.salt,
          w.nonce,
          w.wrappedKey,
        );
        expect(encodeRecoveryWrap(w)).toEqual(b);
        expect(decodeRecoveryWrap(b)).toEqual(w);
        expect(encodeRecoveryWrap(decodeRecoveryWrap(b))).toEqual(b);
      },
      400,
    );
  });

  it('a creation time above 2^53 - 1 is a FormatError, not a lossy number', () => {
    check(
      fc.tuple(wrap, fc.bigInt({ min: BigInt(Number.MAX_SAFE_INTEGER) + 1n, max: 2n ** 64n - 1n })),
      ([w, t]) => {
        const b = encodeRecoveryWrap(w);
        new DataView(b.buffer, b.byteOffset).setBigUint64(5 + 32, t);
        expect(typedOnly(() => decodeRecoveryWrap(b), FormatError)).toBe('format_invalid');
      },
      200,
    );
  });

  it('seal then open gives back the vault key; other words are recovery_words_wrong; mutations never open', () => {
    const args = fc.record({
      vaultId: bytes(16),
      kitId: bytes(16),
      createdAt: fc.maxSafeNat(),
      salt: bytes(16),
      kek: key,
      vaultKey: key,
    });
    check(
      fc.tuple(args, key, mutations),
      ([a, other, edits]) => {
        const b = encodeRecoveryWrap(sealRecoveryWrap(a));
        expect(openRecoveryWrap(decodeRecoveryWrap(b), a.kek)).toEqual(a.vaultKey);
        if (!unchanged(other, a.kek))
          expect(typedOnly(() => openRecoveryWrap(decodeRecoveryWrap(b), other), ClawkeepError)).toBe(
            'recovery_words_wrong',
          );
        const m = mutate(b, edits);
        if (typedOnly(() => openRecoveryWrap(decodeRecoveryWrap(m), a.kek), ClawkeepError) === 'ok')
          expect(m).toEqual(b);
      },
      300,
    );
    check(
      hostile(RECOVERY_WRAP_TAG),
      (b) =>
        void typedOnly(() => decodeRecoveryWrap(b), ClawkeepError, ['format_invalid', 'format_unsupported_version']),
      400,
    );
  });
});

// ---- CKBK ------------------------------------------------------------------------------------------------------

describe('CKBK backup file (lib/format/backup-file.ts)', () => {
  it('encode(parse(b)) = b: prefix ‖ nonce ‖ ciphertext, the prefix laid out by hand; open gives the plaintext', () => {
    check(
      fc.record({ kdf: kdfParams, salt: bytes(16), kek: key, plaintext, nonce: bytes(NONCE_LENGTH) }),
      (a) => {
        const b = sealBackupFile(a);
        const file = decodeBackupFile(b);
        expect(file.prefix).toEqual(concatBytes(ascii(BACKUP_TAG), Uint8Array.of(1), kdfBlockBytes(a.kdf, a.salt)));
        expect({ kdf: file.kdf, salt: file.salt, nonce: file.nonce }).toEqual({
          kdf: a.kdf,
          salt: a.salt,
          nonce: a.nonce,
        });
        expectBytes(concatBytes(file.prefix, file.nonce, file.ciphertext), b);
        expectBytes(openBackupFile(file, a.kek), a.plaintext);
        // The AEAD is over exactly the prefix: an independent seal of the same inputs gives the same bytes.
        expectBytes(
          concatBytes(file.prefix, a.nonce, aeadEncrypt(a.kek, a.plaintext, file.prefix, a.nonce).ciphertext),
          b,
        );
      },
      200,
    );
  });

  it('random and mutated bytes: ClawkeepError only, and a changed file never opens', () => {
    const sealed = fc
      .record({ kdf: kdfParams, salt: bytes(16), kek: key, plaintext: fc.uint8Array({ maxLength: 64 }) })
      .map((a) => ({ kek: a.kek, b: sealBackupFile(a) }));
    check(
      fc.tuple(sealed, mutations),
      ([{ kek, b }, edits]) => {
        const m = mutate(b, edits);
        if (typedOnly(() => openBackupFile(decodeBackupFile(m), kek), ClawkeepError) === 'ok') expect(m).toEqual(b);
      },
      400,
    );
    check(
      hostile(BACKUP_TAG),
      (b) =>
        void typedOnly(() => decodeBackupFile(b), ClawkeepError, [
          'format_invalid',
          'format_unsupported_version',
          'backup_invalid',
          'kdf_params_out_of_range',
        ]),
      400,
    );
  });
});

// ---- the versioned payload inside CKBK ---------------------------------------------------------------------------

describe('backup payload "clawkeep-backup-items" v1 (lib/vault/backup.ts)', () => {
  const envKey = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/);
  const pairs = fc.uniqueArray(fc.record({ key: envKey, value: unicodeString({ maxLength: 40 }) }), {
    selector: (p) => p.key,
    maxLength: 5,
  });
  // Normalized fields (what the vault stores): names trimmed and non-empty, tags trimmed, unique and non-empty.
  const name = unicodeString({ minLength: 1, maxLength: 40 })
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const meta = {
    id: itemId,
    revision: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    createdAt: fc.maxSafeNat(),
    updatedAt: fc.maxSafeNat(),
  };
  const secret = fc.record({
    ...meta,
    kind: fc.constant('secret' as const),
    fields: fc.record({
      name,
      value: unicodeString({ maxLength: 60 }),
      notes: unicodeString({ maxLength: 60 }),
      tags: fc.uniqueArray(name, { maxLength: 4 }),
      expiresAt: fc.option(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        { nil: null },
      ),
      allowedHosts: fc.uniqueArray(httpHost, { maxLength: 3 }),
    }),
  });
  const agentConfig = fc.record({
    ...meta,
    kind: fc.constant('agentConfig' as const),
    fields: fc.record({
      name,
      model: name,
      providerKeys: pairs,
      env: pairs,
      json: fc.oneof(fc.constant(''), fc.json()),
    }),
  });
  const items: fc.Arbitrary<VaultItem[]> = fc.uniqueArray(fc.oneof(secret, agentConfig), {
    selector: (i) => i.id,
    maxLength: 6,
  });
  const kdf: KdfParams = { algorithm: 'pbkdf2-sha256', iterations: 600_000 };

  it('read(export(items)) = items for every normalized item set', () => {
    check(
      fc.tuple(
        items,
        key,
        bytes(16),
        fc.maxSafeNat().filter((t) => t <= 8.64e15),
      ),
      ([list, kek, salt, exportedAt]) => {
        expect(readItemsFromBackup(exportItemsToBackup(list, { kdf, salt, kek, exportedAt }), kek)).toEqual(list);
      },
      200,
    );
  });

  it('any JSON sealed as a backup: items or a ClawkeepError, nothing else', () => {
    const doc = fc.oneof(
      fc.jsonValue(),
      fc.record({
        format: fc.constant('clawkeep-backup-items'),
        version: fc.constant(1),
        items: fc.array(fc.jsonValue(), { maxLength: 4 }),
      }),
      fc.record({
        format: fc.constant('clawkeep-backup-items'),
        version: fc.constant(1),
        items: fc.array(
          fc.dictionary(fc.constantFrom('id', 'kind', 'revision', 'createdAt', 'updatedAt', 'fields'), fc.jsonValue()),
          { maxLength: 4 },
        ),
      }),
    );
    check(
      fc.tuple(doc, key, bytes(16)),
      ([value, kek, salt]) => {
        const plain = new TextEncoder().encode(JSON.stringify(value) ?? 'null');
        typedOnly(() => readItemsFromBackup(sealBackupFile({ kdf, salt, kek, plaintext: plain }), kek), ClawkeepError, [
          'backup_invalid',
          'item_invalid',
        ]);
      },
      300,
    );
  });
});

// @vitest-environment node
/**
 * Property tests for the sealed formats and the other byte-level protocol encodings of docs/protocol.md §0:
 * CKSS sealed secret, CKSC sealed config (with its CKCD delivery), CKPV paired vault key (with its CKDA approval),
 * the config payload inside CKSC, CKRQ request signing, the intent payload hash and claim / pairing codes.
 * Sealed blobs are compared with an independent model of their construction (X25519, HKDF-SHA256 from
 * \@noble/hashes, XChaCha20-Poly1305) laid out from the format comment; any change to a blob, any other context and
 * any random bytes give the one opaque `sealed_invalid`, never another error and never a plaintext.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8Encode } from '../../../lib/bytes';
import { aeadEncrypt, NONCE_LENGTH } from '../../../lib/crypto/aead';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { canonicalBytes, parseCanonical } from '../../../lib/protocol/canonical';
import { CLAIM_CODE_ALPHABET, claimCodeHash, normalizeClaimCode } from '../../../lib/protocol/claim-code';
import {
  decodeConfigPayload,
  encodeConfigPayload,
  type AgentConfigPayload,
} from '../../../lib/protocol/config-payload';
import {
  buildPairingApproval,
  openPairedKey,
  openPairingApproval,
  pairedKeyAssociatedData,
  PAIRED_KEY_INFO,
  pairingCodeHash,
  normalizePairingCode,
  sealPairedKey,
  type PairingContext,
} from '../../../lib/protocol/device-pairing';
import { ProtocolError } from '../../../lib/protocol/errors';
import { INTENT_HASH_DOMAIN, intentHashInput, payloadHash } from '../../../lib/protocol/intent-hash';
import {
  requestSigningBytes,
  signRequest,
  verifyRequest,
  type RequestFields,
  isNormalPath,
} from '../../../lib/protocol/request-signing';
import {
  buildConfigDelivery,
  openConfigDelivery,
  openSealedConfig,
  sealConfig,
  sealedConfigAssociatedData,
  SEALED_CONFIG_INFO,
  SEALED_CONFIG_MAX_PLAINTEXT,
  type ConfigContext,
} from '../../../lib/protocol/sealed-config';
import {
  openSealedSecret,
  sealedSecretAssociatedData,
  sealSecret,
  SEALED_SECRET_INFO,
  type SealContext,
} from '../../../lib/protocol/sealed-secret';
import {
  bentObject,
  bytes,
  check,
  checkAsync,
  ed25519PublicKeyText,
  epoch,
  id,
  kind,
  mutations,
  mutate,
  nonce16,
  origin,
  sha256Hex,
  signer,
  signerPair,
  expectBytes,
  typedOnly,
  typedOnlyAsync,
  unicodeString,
  x25519KeyPair,
} from './arbitraries';

const SEALED = ['sealed_invalid'];
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
// Mostly small, sometimes a few KiB, and the empty secret.
const plaintext = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 5 },
  { arbitrary: fc.uint8Array({ minLength: 1000, maxLength: 4000 }), weight: 1 },
);

/** The ECIES construction of docs/protocol.md §6, written out independently of lib/protocol/box-kdf.ts. */
function modelSeal(
  tag: string,
  info: string,
  recipient: Uint8Array,
  ephPriv: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  pt: Uint8Array,
): Uint8Array {
  const ephPub = x25519.getPublicKey(ephPriv);
  const key = hkdf(
    sha256,
    x25519.getSharedSecret(ephPriv, recipient),
    concatBytes(ephPub, recipient),
    utf8Encode(info),
    32,
  );
  return concatBytes(ascii(tag), Uint8Array.of(1), ephPub, nonce, aeadEncrypt(key, pt, ad, nonce).ciphertext);
}

/** The test's reading of a sealed blob by the layout: head, ephemeral key, nonce, ciphertext; re-encoded, the same bytes. */
function splitSealed(b: Uint8Array) {
  const parts = {
    head: b.subarray(0, 5),
    eph: b.subarray(5, 37),
    nonce: b.subarray(37, 37 + NONCE_LENGTH),
    ct: b.subarray(37 + NONCE_LENGTH),
  };
  expectBytes(concatBytes(parts.head, parts.eph, parts.nonce, parts.ct), b);
  return parts;
}

// ---- CKSS ------------------------------------------------------------------------------------------------------

describe('CKSS sealed secret (sealed-secret.ts)', () => {
  const ctx = fc.record<SealContext>({ intent_id: id, payload_hash: sha256Hex, agent_id: id });
  const sealed = fc.record({ r: x25519KeyPair, eph: bytes(32), nonce: bytes(NONCE_LENGTH), ctx, pt: plaintext });

  it('the blob is exactly the model construction; it opens to the plaintext; AD is "CKSS"|1|canonical(context)', () => {
    check(
      sealed,
      ({ r, eph, nonce, ctx, pt }) => {
        const ad = sealedSecretAssociatedData(ctx);
        expect(ad).toEqual(
          concatBytes(
            ascii('CKSS'),
            Uint8Array.of(1),
            canonicalBytes({ intent_id: ctx.intent_id, payload_hash: ctx.payload_hash, agent_id: ctx.agent_id }),
          ),
        );
        const b = sealSecret(r.pub, pt, ctx, { ephemeralPrivate: eph, nonce });
        expectBytes(b, modelSeal('CKSS', SEALED_SECRET_INFO, r.pub, eph, nonce, ad, pt));
        expect(splitSealed(b).nonce).toEqual(nonce);
        expectBytes(openSealedSecret(r.priv, b, ctx), pt);
      },
      80,
    );
  });

  it('mutated blobs, other contexts and random bytes: sealed_invalid only, never a plaintext', () => {
    check(
      fc.tuple(sealed, mutations, ctx),
      ([{ r, ctx, pt }, edits, other]) => {
        const b = sealSecret(r.pub, pt, ctx);
        const m = mutate(b, edits);
        if (typedOnly(() => openSealedSecret(r.priv, m, ctx), ProtocolError, SEALED) === 'ok') expectBytes(m, b);
        const same =
          other.intent_id === ctx.intent_id &&
          other.payload_hash === ctx.payload_hash &&
          other.agent_id === ctx.agent_id;
        if (!same)
          expect(typedOnly(() => openSealedSecret(r.priv, b, other), ProtocolError, SEALED)).toBe('sealed_invalid');
      },
      100,
    );
    check(
      fc.tuple(
        x25519KeyPair,
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.uint8Array({ maxLength: 200 }).map((t) => concatBytes(ascii('CKSS'), Uint8Array.of(1), t)),
        ),
        ctx,
      ),
      ([r, b, c]) => {
        expect(typedOnly(() => openSealedSecret(r.priv, b, c), ProtocolError, SEALED)).toBe('sealed_invalid');
      },
      120,
    );
  });
});

// ---- CKSC + CKCD -----------------------------------------------------------------------------------------------

describe('CKSC sealed config and its CKCD delivery (sealed-config.ts)', () => {
  const ctx = fc.record<ConfigContext>({
    hub: origin,
    agent_id: id,
    installation_id: id,
    config_id: id,
    revision: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  });
  const pt = fc.oneof(
    { arbitrary: plaintext, weight: 12 },
    { arbitrary: fc.constant(new Uint8Array(SEALED_CONFIG_MAX_PLAINTEXT)), weight: 1 },
  );

  it('the blob is exactly the model construction and opens to the plaintext, up to the 32 KiB ceiling', () => {
    check(
      fc.record({ r: x25519KeyPair, eph: bytes(32), nonce: bytes(NONCE_LENGTH), ctx, pt }),
      ({ r, eph, nonce, ctx, pt }) => {
        const ad = sealedConfigAssociatedData(ctx);
        expect(parseCanonical(ad.subarray(5))).toEqual(ctx);
        const b = sealConfig(r.pub, pt, ctx, { ephemeralPrivate: eph, nonce });
        expectBytes(b, modelSeal('CKSC', SEALED_CONFIG_INFO, r.pub, eph, nonce, ad, pt));
        splitSealed(b);
        expectBytes(openSealedConfig(r.priv, b, ctx), pt);
      },
      60,
    );
  });

  it('buildConfigDelivery then openConfigDelivery gives the statement and plaintext back; a bent delivery is sealed_invalid only', async () => {
    const arb = fc.record({
      r: x25519KeyPair,
      by: signer,
      ctx,
      pt: plaintext,
      now: epoch,
      edits: mutations,
      bend: fc.nat({ max: 3 }),
    });
    await checkAsync(
      arb,
      async ({ r, by, ctx, pt, now, edits, bend }) => {
        const { ed25519 } = await import('@noble/curves/ed25519.js');
        const delivery = await buildConfigDelivery({
          ...ctx,
          boxKey: r.pub,
          plaintext: pt,
          now,
          sign: async (m) => ed25519.sign(m, by.priv),
        });
        const expected = { hub: ctx.hub, agent_id: ctx.agent_id, installation_id: ctx.installation_id };
        const opened = openConfigDelivery(by.pub, r.priv, delivery, expected);
        expectBytes(opened.plaintext, pt);
        expect(opened.statement).toEqual({ ...ctx, sealed_sha256: opened.statement.sealed_sha256, time: now });
        // Bend one part: the sealed bytes, the statement's signature, or the whole thing.
        const sealedBytes = Uint8Array.from(Buffer.from(delivery.sealed_config, 'base64url'));
        const bent =
          bend === 0
            ? { ...delivery, sealed_config: toBase64Url(mutate(sealedBytes, edits)) }
            : bend === 1
              ? {
                  ...delivery,
                  config: {
                    ...delivery.config,
                    signature: toBase64Url(
                      mutate(Uint8Array.from(Buffer.from(delivery.config.signature, 'base64url')), edits),
                    ),
                  },
                }
              : bend === 2
                ? { ...delivery, sealed_config: `${delivery.sealed_config}=` }
                : null;
        const code = typedOnly(() => openConfigDelivery(by.pub, r.priv, bent, expected), ProtocolError, SEALED);
        if (code === 'ok') expect(bent).toEqual(delivery);
      },
      60,
    );
  });

  it('random bytes and any value as a delivery: sealed_invalid only', () => {
    check(
      fc.tuple(
        x25519KeyPair,
        fc.uint8Array({ maxLength: 200 }).map((t) => concatBytes(ascii('CKSC'), Uint8Array.of(1), t)),
        ctx,
      ),
      ([r, b, c]) => {
        expect(typedOnly(() => openSealedConfig(r.priv, b, c), ProtocolError, SEALED)).toBe('sealed_invalid');
      },
      120,
    );
    check(
      fc.tuple(
        x25519KeyPair,
        signer,
        fc.oneof(
          fc.anything(),
          fc.record({ config: fc.anything(), sealed_config: fc.oneof(fc.string(), bytes(120).map(toBase64Url)) }),
        ),
      ),
      ([r, by, d]) => {
        expect(
          typedOnly(
            () =>
              openConfigDelivery(by.pub, r.priv, d, {
                hub: 'https://hub.example',
                agent_id: 'a',
                installation_id: 'i',
              }),
            ProtocolError,
            SEALED,
          ),
        ).not.toBe('ok');
      },
      120,
    );
  });
});

// ---- CKPV + CKDA approval ------------------------------------------------------------------------------------------

describe('CKPV paired vault key and the pairing approval (device-pairing.ts)', () => {
  const ctx = (deviceKey: fc.Arbitrary<string>) =>
    fc.record<PairingContext>({ hub: origin, account_id: id, pairing_id: id, device_key: deviceKey });
  const vault = fc.record({ vaultId: bytes(16), vaultKey: bytes(32) });

  it('the blob is exactly the model construction and opens to vault id and key', () => {
    check(
      fc.record({
        r: x25519KeyPair,
        eph: bytes(32),
        nonce: bytes(NONCE_LENGTH),
        ctx: ctx(ed25519PublicKeyText),
        vault,
      }),
      ({ r, eph, nonce, ctx, vault }) => {
        const ad = pairedKeyAssociatedData(ctx);
        expect(parseCanonical(ad.subarray(5))).toEqual(ctx);
        const b = sealPairedKey(r.pub, vault, ctx, { ephemeralPrivate: eph, nonce });
        expectBytes(
          b,
          modelSeal('CKPV', PAIRED_KEY_INFO, r.pub, eph, nonce, ad, concatBytes(vault.vaultId, vault.vaultKey)),
        );
        splitSealed(b);
        expect(openPairedKey(r.priv, b, ctx)).toEqual(vault);
      },
      60,
    );
  });

  it('buildPairingApproval then openPairingApproval round-trips; mutated blobs and junk approvals give typed errors only', async () => {
    const arb = fc.record({
      r: x25519KeyPair,
      keys: signerPair,
      ctx: ctx(fc.constant('')),
      vault,
      now: epoch,
      edits: mutations,
      junk: fc.anything(),
    });
    await checkAsync(
      arb,
      async ({ r, keys: [approver, device], ctx, vault, now, edits, junk }) => {
        const { ed25519 } = await import('@noble/curves/ed25519.js');
        const approval = await buildPairingApproval({
          hub: ctx.hub,
          accountId: ctx.account_id,
          pairingId: ctx.pairing_id,
          deviceKey: device.pub,
          boxKey: r.pub,
          now,
          signer: { publicKey: approver.pub, sign: async (m) => ed25519.sign(m, approver.priv) },
          seal: async (boxKey, c) => sealPairedKey(boxKey, vault, c),
        });
        const expected = { hub: ctx.hub, pairingId: ctx.pairing_id, deviceKey: device.pub, boxPrivate: r.priv };
        const opened = openPairingApproval(approval, expected);
        expect({ vaultId: opened.vaultId, vaultKey: opened.vaultKey }).toEqual(vault);
        expect(opened.statement.sealed_sha256).toBe(
          toHex(sha256(Uint8Array.from(Buffer.from(approval.sealed_vault_key, 'base64url')))),
        );
        const sealedBytes = Uint8Array.from(Buffer.from(approval.sealed_vault_key, 'base64url'));
        const bent = { ...approval, sealed_vault_key: toBase64Url(mutate(sealedBytes, edits)) };
        if (
          typedOnly(() => openPairingApproval(bent, expected), ProtocolError, [
            'sealed_invalid',
            'device_statement_invalid',
          ]) === 'ok'
        )
          expect(bent).toEqual(approval);
        expect(
          typedOnly(() => openPairingApproval(junk, expected), ProtocolError, [
            'sealed_invalid',
            'device_statement_invalid',
          ]),
        ).not.toBe('ok');
      },
      60,
    );
  });

  it('random bytes: sealed_invalid only', () => {
    check(
      fc.tuple(
        x25519KeyPair,
        fc.uint8Array({ maxLength: 140 }).map((t) => concatBytes(ascii('CKPV'), Uint8Array.of(1), t)),
        ctx(ed25519PublicKeyText),
      ),
      ([r, b, c]) => {
        expect(typedOnly(() => openPairedKey(r.priv, b, c), ProtocolError, SEALED)).toBe('sealed_invalid');
      },
      100,
    );
  });
});

// ---- the config payload inside CKSC --------------------------------------------------------------------------------

describe('config payload (config-payload.ts)', () => {
  const entries = fc.array(
    fc.record({ key: unicodeString({ maxLength: 20 }), value: unicodeString({ maxLength: 40 }) }),
    { maxLength: 6 },
  );
  const payload = fc.record<AgentConfigPayload>({
    name: unicodeString({ maxLength: 30 }),
    model: unicodeString({ maxLength: 30 }),
    provider_keys: entries,
    env: entries,
    json: unicodeString({ maxLength: 60 }),
  });

  it('decode(encode(x)) = x and encode(decode(b)) = b', () => {
    check(
      payload,
      (x) => {
        const b = encodeConfigPayload(x);
        expect(decodeConfigPayload(b)).toEqual(x);
        expect(encodeConfigPayload(decodeConfigPayload(b))).toEqual(b);
      },
      300,
    );
  });

  it('random bytes and bent payloads: protocol_invalid only', () => {
    check(
      fc.oneof(
        fc.uint8Array({ maxLength: 80 }),
        bentObject(payload as fc.Arbitrary<Record<string, unknown>>).map((v) => utf8Encode(JSON.stringify(v) ?? '')),
      ),
      (b) => {
        typedOnly(() => decodeConfigPayload(b), ProtocolError, ['protocol_invalid']);
      },
      400,
    );
  });
});

// ---- CKRQ ---------------------------------------------------------------------------------------------------------

describe('CKRQ signed requests (request-signing.ts)', () => {
  const method = fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), fc.stringMatching(/^[A-Z]{1,16}$/));
  // Any target the signer accepts: paths with `//`, `.` or `..` segments are refused by design (isNormalPath).
  const path = fc.stringMatching(/^\/[!"$-~]{0,80}$/).filter((p) => isNormalPath(p));
  const fields = fc.record<RequestFields>({
    role: fc.constantFrom('human', 'agent'),
    key_id: id,
    method,
    path,
    body_sha256: sha256Hex,
    timestamp: epoch,
    nonce: nonce16,
    hub: origin,
  });

  it('the signed bytes are "CKRQ"|1|canonical(fields): they parse back and re-encode to the same bytes', () => {
    check(
      fields,
      (f) => {
        const b = requestSigningBytes(f);
        expect(b.subarray(0, 5)).toEqual(concatBytes(ascii('CKRQ'), Uint8Array.of(1)));
        const parsed = parseCanonical(b.subarray(5)) as unknown as RequestFields;
        expect(parsed).toEqual(f);
        expect(requestSigningBytes(parsed)).toEqual(b);
      },
      300,
    );
  });

  it('sign then verify names the signer; a replay is auth_replayed; any other method, path, body or hub is auth_bad_signature', async () => {
    const arb = fc.record({
      by: signer,
      role: fc.constantFrom('human' as const, 'agent' as const),
      keyId: id,
      method,
      path,
      body: fc.oneof(fc.constant(null), unicodeString({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 })),
      hub: origin,
      now: fc.integer({ min: 0, max: 4_000_000_000_000 }),
      nonce: bytes(16),
      change: fc.constantFrom('method', 'path', 'body', 'hub'),
    });
    await checkAsync(
      arb,
      async (a) => {
        const headers = signRequest({
          role: a.role,
          keyId: a.keyId,
          privateKey: a.by.priv,
          method: a.method,
          path: a.path,
          body: a.body,
          hub: a.hub,
          now: a.now,
          nonce: a.nonce,
        });
        const seen = new Set<string>();
        const input = {
          headers: headers as unknown as Record<string, string>,
          method: a.method,
          path: a.path,
          body: a.body,
          hub: a.hub,
          now: a.now,
          publicKeyFor: (role: string, keyId: string) => (role === a.role && keyId === a.keyId ? a.by.pub : null),
          seenNonce: (keyId: string, n: string) => seen.has(`${keyId}/${n}`) || (seen.add(`${keyId}/${n}`), false),
        };
        expect(await verifyRequest(input)).toEqual({ role: a.role, keyId: a.keyId });
        expect(await typedOnlyAsync(() => verifyRequest(input), ProtocolError)).toBe('auth_replayed');
        const other =
          a.change === 'method'
            ? { method: a.method === 'GET' ? 'POST' : 'GET' }
            : a.change === 'path'
              ? { path: `${a.path}x` }
              : a.change === 'body'
                ? { body: `${typeof a.body === 'string' ? a.body : ''}!` }
                : { hub: a.hub.startsWith('https://') ? 'http://localhost' : 'https://hub.example' };
        expect(await typedOnlyAsync(() => verifyRequest({ ...input, ...other }), ProtocolError)).toBe(
          'auth_bad_signature',
        );
      },
      60,
    );
  });

  it('any headers: an auth_* error only, never a crash', async () => {
    const header = fc.option(
      fc.oneof(fc.string({ maxLength: 30 }), id, nonce16, fc.nat().map(String), bytes(64).map(toBase64Url)),
      { nil: undefined },
    );
    const headers = fc.record({
      'ck-key-id': header,
      'ck-role': fc.option(fc.constantFrom('human', 'agent', 'x'), { nil: undefined }),
      'ck-timestamp': header,
      'ck-nonce': header,
      'ck-signature': header,
    });
    await checkAsync(
      fc.tuple(headers, signer),
      async ([h, by]) => {
        await typedOnlyAsync(
          () =>
            verifyRequest({
              headers: h,
              method: 'GET',
              path: '/v1/x',
              hub: 'https://hub.example',
              now: Number(h['ck-timestamp'] ?? 0) * 1000 || 0,
              publicKeyFor: () => by.pub,
              seenNonce: () => false,
            }),
          ProtocolError,
          ['auth_missing', 'auth_stale', 'auth_unknown_key', 'auth_bad_signature', 'auth_replayed'],
        );
      },
      300,
    );
  });
});

// ---- intent payload hash, claim and pairing codes ------------------------------------------------------------------

describe('intent payload hash (intent-hash.ts)', () => {
  const payload = fc.dictionary(
    unicodeString({ maxLength: 8 }),
    fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), unicodeString({ maxLength: 20 })),
    { maxKeys: 6 },
  );

  it('input = domain ‖ canonical({kind, payload}), parsed back; the hash is its SHA-256 and ignores key order', () => {
    check(
      fc.tuple(kind, payload),
      ([k, p]) => {
        const b = intentHashInput(k, p);
        const domain = utf8Encode(INTENT_HASH_DOMAIN);
        expect(b.subarray(0, domain.length)).toEqual(domain);
        expect(parseCanonical(b.subarray(domain.length))).toEqual({ kind: k, payload: p });
        expect(payloadHash(k, p)).toBe(toHex(sha256(b)));
        expect(payloadHash(k, Object.fromEntries(Object.entries(p).reverse()))).toBe(payloadHash(k, p));
      },
      300,
    );
  });

  it('a malformed kind or a payload that is not a JSON object: protocol_invalid only', () => {
    check(
      fc.tuple(fc.oneof(kind, fc.string({ maxLength: 70 }), fc.anything()), fc.anything()),
      ([k, p]) => {
        typedOnly(() => payloadHash(k as string, p), ProtocolError, ['protocol_invalid']);
      },
      300,
    );
  });
});

describe('claim and pairing codes (claim-code.ts, device-pairing.ts)', () => {
  const code = fc.array(fc.constantFrom(...CLAIM_CODE_ALPHABET), { minLength: 8, maxLength: 8 }).map((c) => c.join(''));

  it('every way a person may type a code normalizes to it (case, dashes, spaces); the hash is of the normal form', () => {
    const typed = fc
      .tuple(
        code,
        fc.array(fc.constantFrom('', '-', ' ', '\t'), { minLength: 9, maxLength: 9 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      )
      .map(([c, seps, lower]) => ({
        c,
        text: [...c].map((ch, i) => seps[i] + (lower[i] ? ch.toLowerCase() : ch)).join('') + seps[8],
      }));
    check(
      typed,
      ({ c, text }) => {
        expect(normalizeClaimCode(text)).toBe(c);
        expect(claimCodeHash(text)).toBe(claimCodeHash(`${c.slice(0, 4)}-${c.slice(4)}`));
        expect(normalizePairingCode(text)).toBe(c);
        expect(pairingCodeHash(text)).toEqual(pairingCodeHash(c));
      },
      300,
    );
  });

  it('any other text: protocol_invalid (claim) or null (pairing), never a crash', () => {
    check(
      fc.oneof(fc.string({ maxLength: 12 }), fc.anything()),
      (t) => {
        const claim = typedOnly(() => normalizeClaimCode(t as string), ProtocolError, ['protocol_invalid']);
        const pairing = normalizePairingCode(t);
        expect(claim === 'ok').toBe(pairing !== null);
      },
      300,
    );
  });
});

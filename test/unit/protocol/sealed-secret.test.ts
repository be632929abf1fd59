// @vitest-environment node
import { diffieHellman, hkdfSync } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8Decode, utf8Encode } from '../../../lib/bytes';
import { canonicalBytes } from '../../../lib/protocol/canonical';
import { openSealedSecret, sealSecret } from '../../../lib/protocol/sealed-secret';
import vectors from '../../vectors/protocol-sealed-secret.json';
import { nodeX25519Private, nodeX25519Public } from './node-keys';
import { bitFlips, expectCode } from './helpers';

const recipientPrivate = () => fromHex(vectors.recipient.private);
const recipientPublic = fromHex(vectors.recipient.public);

describe('CKSS sealed secrets', () => {
  it.each(vectors.vectors)('fixed ephemeral key and nonce -> fixed bytes (#$#)', (v) => {
    const sealed = sealSecret(recipientPublic, utf8Encode(v.plaintext), v.context, {
      ephemeralPrivate: fromHex(v.ephemeralPrivate),
      nonce: fromHex(v.nonce),
    });
    expect(toHex(sealed)).toBe(v.bytes);
    expect(utf8Decode(openSealedSecret(recipientPrivate(), fromHex(v.bytes), v.context))).toBe(v.plaintext);
  });

  it.each(vectors.vectors)(
    'independent construction with node:crypto X25519 + HKDF agrees byte for byte (#$#)',
    (v) => {
      const bytes = fromHex(v.bytes);
      expect(toHex(bytes.subarray(0, 5))).toBe(toHex(utf8Encode('CKSS\x01')));
      const ephemeralPublic = bytes.subarray(5, 37);
      expect(toHex(ephemeralPublic)).toBe(v.ephemeralPublic);
      expect(toHex(bytes.subarray(37, 61))).toBe(v.nonce);
      // Sender side: X25519(ephemeralPrivate, recipientPublic); recipient side must give the same secret.
      const sharedA = diffieHellman({
        privateKey: nodeX25519Private(fromHex(v.ephemeralPrivate)),
        publicKey: nodeX25519Public(recipientPublic),
      });
      const sharedB = diffieHellman({
        privateKey: nodeX25519Private(recipientPrivate()),
        publicKey: nodeX25519Public(ephemeralPublic),
      });
      expect(sharedA.equals(sharedB)).toBe(true);
      const key = new Uint8Array(
        hkdfSync('sha256', sharedA, concatBytes(ephemeralPublic, recipientPublic), 'clawkeep/v1/sealed-secret', 32),
      );
      const ad = concatBytes(
        utf8Encode('CKSS\x01'),
        utf8Encode(
          JSON.stringify({
            agent_id: v.context.agent_id,
            intent_id: v.context.intent_id,
            payload_hash: v.context.payload_hash,
          }),
        ),
      );
      expect(toHex(ad)).toBe(toHex(concatBytes(utf8Encode('CKSS\x01'), canonicalBytes(v.context))));
      const ct = xchacha20poly1305(key, fromHex(v.nonce), ad).encrypt(utf8Encode(v.plaintext));
      expect(toHex(concatBytes(utf8Encode('CKSS\x01'), ephemeralPublic, fromHex(v.nonce), ct))).toBe(v.bytes);
    },
  );

  const v = vectors.vectors[0]!;
  const bytes = fromHex(v.bytes);
  const ctx = v.context;

  it('sealed_invalid: wrong context (each field), wrong key', async () => {
    for (const [k, other] of Object.entries({
      intent_id: 'in_other',
      payload_hash: 'ff'.repeat(32),
      agent_id: 'ag_other',
    })) {
      await expectCode(() => openSealedSecret(recipientPrivate(), bytes, { ...ctx, [k]: other }), 'sealed_invalid');
    }
    await expectCode(() => openSealedSecret(new Uint8Array(32).fill(3), bytes, ctx), 'sealed_invalid');
  });

  it('sealed_invalid: every flipped bit, truncation, trailing bytes, tag and version', async () => {
    for (const flipped of bitFlips(bytes, 256))
      await expectCode(() => openSealedSecret(recipientPrivate(), flipped, ctx), 'sealed_invalid');
    for (const n of [0, 4, 5, 60, 61, 76, bytes.length - 1])
      await expectCode(() => openSealedSecret(recipientPrivate(), bytes.subarray(0, n), ctx), 'sealed_invalid');
    await expectCode(() => openSealedSecret(recipientPrivate(), Uint8Array.of(...bytes, 0), ctx), 'sealed_invalid');
    const v2 = bytes.slice();
    v2[4] = 2;
    await expectCode(() => openSealedSecret(recipientPrivate(), v2, ctx), 'sealed_invalid');
  });

  it('refuses low-order recipient and ephemeral keys (all-zero shared secret)', async () => {
    const lowOrder = [
      new Uint8Array(32),
      Uint8Array.of(1, ...new Uint8Array(31)),
      fromHex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'),
    ];
    for (const pub of lowOrder) await expectCode(() => sealSecret(pub, utf8Encode('s'), ctx), 'sealed_invalid');
    const forged = bytes.slice();
    forged.set(new Uint8Array(32), 5);
    await expectCode(() => openSealedSecret(recipientPrivate(), forged, ctx), 'sealed_invalid');
  });

  it('sealed_invalid: malformed context; RangeError for misuse', async () => {
    await expectCode(
      () => sealSecret(recipientPublic, utf8Encode('s'), { ...ctx, payload_hash: 'nothex' }),
      'sealed_invalid',
    );
    await expectCode(() => openSealedSecret(recipientPrivate(), bytes, { ...ctx, intent_id: '' }), 'sealed_invalid');
    expect(() => sealSecret(new Uint8Array(31), utf8Encode('s'), ctx)).toThrow(RangeError);
    expect(() => sealSecret(recipientPublic, new Uint8Array(64 * 1024 + 1), ctx)).toThrow(RangeError);
  });

  it('random ephemeral keys: two seals of the same secret differ and both open; a given ephemeral key is copied, then wiped', () => {
    const a = sealSecret(recipientPublic, utf8Encode('same'), ctx);
    const b = sealSecret(recipientPublic, utf8Encode('same'), ctx);
    expect(toHex(a)).not.toBe(toHex(b));
    expect(utf8Decode(openSealedSecret(recipientPrivate(), b, ctx))).toBe('same');
    const eph = fromHex(v.ephemeralPrivate);
    sealSecret(recipientPublic, utf8Encode('x'), ctx, { ephemeralPrivate: eph });
    expect(toHex(eph)).toBe(v.ephemeralPrivate);
  });
});

// @vitest-environment node
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8Encode } from '../../../lib/bytes';
import { fromBase64Url, toBase64Url } from '../../../lib/protocol/base64url';
import { canonicalize } from '../../../lib/protocol/canonical';
import {
  keyBindingBytes,
  makeKeyBinding,
  signKeyBinding,
  verifyKeyBinding,
  type KeyBindingStatement,
} from '../../../lib/protocol/key-binding';
import { verifyClaim } from '../../../lib/protocol/approval';
import vectors from '../../vectors/protocol-key-binding.json';
import { bitFlips, expectCode } from './helpers';

const list = vectors.vectors as { statement: KeyBindingStatement; bytes: string; signature: string }[];
const seedOf = (s: KeyBindingStatement) => fromHex(s.role === 'agent' ? vectors.seeds.agent : vectors.seeds.device);
const expectedOf = (s: KeyBindingStatement) => ({
  hub: s.hub,
  role: s.role,
  signing_key: s.signing_key,
  box_key: s.box_key,
  name: s.name,
});
const nodePublic = (key: string) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key }, format: 'jwk' });

describe('CKKB key binding statements', () => {
  it.each(list)(
    'fixed statement -> fixed bytes and signature ($statement.role, $statement.hub), checked by node:crypto',
    (v) => {
      expect(toHex(keyBindingBytes(v.statement))).toBe(v.bytes);
      // Independent construction: "CKKB" | 0x01 | canonical JSON (sorted keys, no whitespace).
      expect(toHex(concatBytes(utf8Encode('CKKB\x01'), utf8Encode(canonicalize(v.statement))))).toBe(v.bytes);
      expect(v.bytes.startsWith('434b4b4201')).toBe(true);
      expect(signKeyBinding(seedOf(v.statement), v.statement)).toEqual({
        statement: v.statement,
        signature: v.signature,
      });
      expect(nodeVerify(null, fromHex(v.bytes), nodePublic(v.statement.signing_key), fromBase64Url(v.signature))).toBe(
        true,
      );
      expect(verifyKeyBinding({ statement: v.statement, signature: v.signature }, expectedOf(v.statement))).toEqual(
        v.statement,
      );
    },
  );

  it('the vector signing keys are the seeds the file names (a signer elsewhere reproduces them)', () => {
    for (const v of list) expect(toBase64Url(ed25519.getPublicKey(seedOf(v.statement)))).toBe(v.statement.signing_key);
  });

  it('makeKeyBinding with an external signer gives the same bytes as signKeyBinding', async () => {
    const v = list[0]!;
    const seed = seedOf(v.statement);
    const pk = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: v.statement.signing_key, d: toBase64Url(seed) },
      format: 'jwk',
    });
    const made = await makeKeyBinding(
      {
        hub: v.statement.hub,
        role: v.statement.role,
        name: v.statement.name,
        time: v.statement.time,
        signingKey: fromBase64Url(v.statement.signing_key),
        boxKey: fromBase64Url(v.statement.box_key),
      },
      (m) => new Uint8Array(nodeSign(null, m, pk)),
    );
    expect(made).toEqual({ statement: v.statement, signature: v.signature });
  });

  it('refuses a binding for another hub, role, signing key, box key or name (each the attack it stops)', async () => {
    const v = list[0]!;
    const signed = { statement: v.statement, signature: v.signature };
    const e = expectedOf(v.statement);
    const otherBox = toBase64Url(x25519.getPublicKey(x25519.utils.randomSecretKey()));
    const otherSigner = toBase64Url(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    await expectCode(() => verifyKeyBinding(signed, { ...e, hub: 'https://evil.example' }), 'key_binding_invalid'); // moved from another hub
    await expectCode(() => verifyKeyBinding(signed, { ...e, role: 'device' }), 'key_binding_invalid'); // an agent's binding used for a device
    await expectCode(() => verifyKeyBinding(signed, { ...e, box_key: otherBox }), 'key_binding_invalid'); // the hub's own box key
    await expectCode(() => verifyKeyBinding(signed, { ...e, signing_key: otherSigner }), 'key_binding_invalid'); // not the key compared
    await expectCode(() => verifyKeyBinding(signed, { ...e, name: 'Other name' }), 'key_binding_invalid');
    await expectCode(() => verifyKeyBinding(signed, { ...e, name: null }), 'key_binding_invalid');
    // The hub rewrites the statement to its own box key and keeps the signature: the signature no longer verifies.
    await expectCode(
      () =>
        verifyKeyBinding({ ...signed, statement: { ...v.statement, box_key: otherBox } }, { ...e, box_key: otherBox }),
      'key_binding_invalid',
    );
    // The hub signs a binding of its own for its box key: it names a signing key that is not the compared one.
    const forgerSeed = ed25519.utils.randomSecretKey();
    const forged = signKeyBinding(forgerSeed, {
      ...v.statement,
      signing_key: toBase64Url(ed25519.getPublicKey(forgerSeed)),
      box_key: otherBox,
    });
    await expectCode(() => verifyKeyBinding(forged, { ...e, box_key: otherBox }), 'key_binding_invalid');
    await expectCode(
      () =>
        verifyKeyBinding(
          { ...forged, statement: { ...forged.statement, signing_key: v.statement.signing_key } },
          { ...e, box_key: otherBox },
        ),
      'key_binding_invalid',
    );
  });

  it('refuses a missing binding, a flipped signature bit and malformed statements', async () => {
    const v = list[1]!;
    const signed = { statement: v.statement, signature: v.signature };
    const e = expectedOf(v.statement);
    await expectCode(() => verifyKeyBinding(null, e), 'key_binding_invalid');
    await expectCode(() => verifyKeyBinding(undefined, e), 'key_binding_invalid');
    await expectCode(() => verifyKeyBinding('x', e), 'key_binding_invalid');
    for (const sig of bitFlips(fromBase64Url(v.signature))) {
      await expectCode(() => verifyKeyBinding({ ...signed, signature: toBase64Url(sig) }, e), 'key_binding_invalid');
    }
    const bad: unknown[] = [
      { ...signed, signature: v.signature + 'A' },
      { ...signed, signature: undefined },
      { statement: { ...v.statement, extra: 1 }, signature: v.signature },
      { statement: { ...v.statement, role: 'hub' }, signature: v.signature },
      { statement: { ...v.statement, hub: 'http://hub.example' }, signature: v.signature }, // cleartext remote hub
      { statement: { ...v.statement, hub: `${v.statement.hub}/` }, signature: v.signature },
      { statement: { ...v.statement, name: '' }, signature: v.signature },
      { statement: { ...v.statement, name: 'a\u0007b' }, signature: v.signature },
      { statement: { ...v.statement, name: 'x'.repeat(81) }, signature: v.signature },
      { statement: { ...v.statement, time: 1.5 }, signature: v.signature },
      { statement: { ...v.statement, box_key: v.statement.box_key.slice(1) }, signature: v.signature },
      { statement: (({ name: _n, ...rest }) => rest)(v.statement), signature: v.signature },
    ];
    for (const s of bad) await expectCode(() => verifyKeyBinding(s, e), 'key_binding_invalid');
    // A small-order "signing key" would let anyone forge: refused before any signature check.
    await expectCode(
      () => verifyKeyBinding(signed, { ...e, signing_key: toBase64Url(new Uint8Array(32)) }),
      'key_binding_invalid',
    );
    await expectCode(
      () => signKeyBinding(seedOf(v.statement), { ...v.statement, role: 'root' as 'agent' }),
      'key_binding_invalid',
    );
    // The statement names a signing key that is not the signer's own: refused at signing.
    await expectCode(() => signKeyBinding(fromHex(vectors.seeds.agent), v.statement), 'key_binding_invalid');
  });

  it('a signature over another version byte or another tag does not verify (no cross-format replay)', async () => {
    const v = list[0]!;
    const e = expectedOf(v.statement);
    const seed = seedOf(v.statement);
    const body = utf8Encode(canonicalize(v.statement));
    for (const head of ['CKKB\x02', 'CKKB\x00', 'CKCL\x01', 'CKDA\x01']) {
      const sig = ed25519.sign(concatBytes(utf8Encode(head), body), seed);
      await expectCode(
        () => verifyKeyBinding({ statement: v.statement, signature: toBase64Url(sig) }, e),
        'key_binding_invalid',
      );
    }
    // And a binding signature is never a claim signature.
    expect(() =>
      verifyClaim({ statement: v.statement, signature: v.signature }, { hub: v.statement.hub, agent_id: 'agt_x' }),
    ).toThrow();
  });
});

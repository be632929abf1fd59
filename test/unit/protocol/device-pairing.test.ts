// @vitest-environment node
import { createHash, sign as nodeSign } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8Encode } from '../../../lib/bytes';
import { fromBase64Url, toBase64Url } from '../../../lib/protocol/base64url';
import {
  buildPairingApproval,
  generatePairingCode,
  normalizePairingCode,
  openPairedKey,
  openPairingApproval,
  pairingCodeHash,
  sealPairedKey,
  type PairingApproval,
  type PairingContext,
} from '../../../lib/protocol/device-pairing';
import vectors from '../../vectors/protocol-device-pairing.json';
import { nodeEd25519Private, nodeBoxKey } from './node-keys';
import { bitFlips, expectCode } from './helpers';

const approverSeed = fromHex(vectors.approver.seed);
const approverPublic = fromHex(vectors.approver.public);
const newDevicePublic = fromHex(vectors.newDevice.public);
const boxPrivate = () => fromHex(vectors.newDevice.boxPrivate);
const boxPublic = fromHex(vectors.newDevice.boxPublic);

type Vector = (typeof vectors.vectors)[number];
const approvalOf = (v: Vector): PairingApproval => ({
  device: { statement: v.statement, signature: v.signature },
  sealed_vault_key: v.sealed,
});
const expectedOf = (v: Vector) => ({
  hub: v.context.hub,
  pairingId: v.context.pairing_id,
  deviceKey: newDevicePublic,
  boxPrivate: boxPrivate(),
});

async function build(v: Vector, signerSeed = approverSeed) {
  return buildPairingApproval({
    hub: v.context.hub,
    accountId: v.context.account_id,
    pairingId: v.context.pairing_id,
    deviceKey: newDevicePublic,
    boxKey: boxPublic,
    signer: { publicKey: ed25519.getPublicKey(signerSeed), sign: async (m) => ed25519.sign(m, signerSeed) },
    seal: async (key, context) =>
      sealPairedKey(key, { vaultId: fromHex(v.vaultId), vaultKey: fromHex(v.vaultKey) }, context, {
        ephemeralPrivate: fromHex(v.ephemeralPrivate),
        nonce: fromHex(v.nonce),
      }),
    now: v.time,
  });
}

describe('CKPV sealed vault keys and CKDA device-add statements', () => {
  it.each(vectors.vectors)(
    'fixed keys, nonce and clock -> fixed bytes and signature; the new device opens it (#$#)',
    async (v) => {
      const approval = await build(v);
      expect(approval).toEqual(approvalOf(v));
      const opened = openPairingApproval(approval, expectedOf(v));
      expect(toHex(opened.vaultId)).toBe(v.vaultId);
      expect(toHex(opened.vaultKey)).toBe(v.vaultKey);
      expect(opened.statement.added_by).toBe(toBase64Url(approverPublic));
    },
  );

  it.each(vectors.vectors)(
    'independent construction with node:crypto X25519, HKDF, SHA-256 and Ed25519 agrees (#$#)',
    (v) => {
      const sealed = fromBase64Url(v.sealed);
      expect(toHex(sealed.subarray(0, 5))).toBe(toHex(utf8Encode('CKPV\x01')));
      const ephemeralPublic = sealed.subarray(5, 37);
      const key = nodeBoxKey(fromHex(v.ephemeralPrivate), boxPublic, ephemeralPublic, 'clawkeep/v1/paired-vault-key');
      const c = v.context;
      // Canonical JSON written out by hand: keys sorted, no whitespace.
      const ad = utf8Encode(
        `CKPV\x01{"account_id":"${c.account_id}","device_key":"${c.device_key}","hub":"${c.hub}","pairing_id":"${c.pairing_id}"}`,
      );
      expect(toHex(ad)).toBe(v.associatedData);
      const ct = xchacha20poly1305(key, fromHex(v.nonce), ad).encrypt(
        concatBytes(fromHex(v.vaultId), fromHex(v.vaultKey)),
      );
      expect(toHex(concatBytes(utf8Encode('CKPV\x01'), ephemeralPublic, fromHex(v.nonce), ct))).toBe(toHex(sealed));
      const s = v.statement;
      expect(s.sealed_sha256).toBe(createHash('sha256').update(sealed).digest('hex'));
      const signed = utf8Encode(
        `CKDA\x01{"account_id":"${s.account_id}","added_by":"${s.added_by}","box_key":"${s.box_key}","device_key":"${s.device_key}","hub":"${s.hub}","pairing_id":"${s.pairing_id}","sealed_sha256":"${s.sealed_sha256}","time":${s.time}}`,
      );
      expect(toHex(signed)).toBe(v.statementBytes);
      expect(toBase64Url(nodeSign(null, signed, nodeEd25519Private(approverSeed)))).toBe(v.signature);
    },
  );

  it('any changed bit of the sealed blob, or another context, fails as sealed_invalid', async () => {
    const v = vectors.vectors[0]!;
    const sealed = fromBase64Url(v.sealed);
    for (const flipped of bitFlips(sealed))
      await expectCode(() => openPairedKey(boxPrivate(), flipped, v.context), 'sealed_invalid');
    const contexts: PairingContext[] = [
      { ...v.context, hub: 'https://other.example' },
      { ...v.context, account_id: 'dev_other' },
      { ...v.context, pairing_id: 'pair_other' },
      { ...v.context, device_key: toBase64Url(approverPublic) },
    ];
    for (const context of contexts)
      await expectCode(() => openPairedKey(boxPrivate(), sealed, context), 'sealed_invalid');
    await expectCode(() => openPairedKey(x25519.utils.randomSecretKey(), sealed, v.context), 'sealed_invalid');
    await expectCode(
      () => openPairedKey(boxPrivate(), sealed.subarray(0, sealed.length - 1), v.context),
      'sealed_invalid',
    );
    // A future version byte is refused, not guessed at.
    const v2 = sealed.slice();
    v2[4] = 2;
    await expectCode(() => openPairedKey(boxPrivate(), v2, v.context), 'sealed_invalid');
    // A low-order box key is refused when sealing.
    await expectCode(
      () => sealPairedKey(new Uint8Array(32), { vaultId: new Uint8Array(16), vaultKey: new Uint8Array(32) }, v.context),
      'sealed_invalid',
    );
  });

  it('the new device refuses an approval for another pairing or device, a blob swapped by the hub, or a bad signature', async () => {
    const v = vectors.vectors[0]!;
    const other = vectors.vectors[1]!;
    const good = approvalOf(v);
    await expectCode(
      () => openPairingApproval(good, { ...expectedOf(v), pairingId: 'pair_other' }),
      'device_statement_invalid',
    );
    await expectCode(
      () => openPairingApproval(good, { ...expectedOf(v), hub: 'https://other.example' }),
      'device_statement_invalid',
    );
    await expectCode(
      () => openPairingApproval(good, { ...expectedOf(v), deviceKey: approverPublic }),
      'device_statement_invalid',
    );
    await expectCode(
      () => openPairingApproval(good, { ...expectedOf(v), boxPrivate: x25519.utils.randomSecretKey() }),
      'device_statement_invalid',
    );
    // The hub knows the box key and could seal a vault key of its own: the signed sealed_sha256 stops that.
    const hubSealed = toBase64Url(
      sealPairedKey(boxPublic, { vaultId: new Uint8Array(16), vaultKey: new Uint8Array(32).fill(7) }, v.context),
    );
    await expectCode(
      () => openPairingApproval({ ...good, sealed_vault_key: hubSealed }, expectedOf(v)),
      'sealed_invalid',
    );
    await expectCode(
      () => openPairingApproval({ ...good, sealed_vault_key: other.sealed }, expectedOf(v)),
      'sealed_invalid',
    );
    const sig = fromBase64Url(good.device.signature);
    sig[0]! ^= 1;
    await expectCode(
      () => openPairingApproval({ ...good, device: { ...good.device, signature: toBase64Url(sig) } }, expectedOf(v)),
      'device_statement_invalid',
    );
    // Signed by a key other than the one it names as added_by.
    const forged = await build(v, new Uint8Array(32).fill(9));
    await expectCode(
      () =>
        openPairingApproval(
          {
            ...forged,
            device: { ...forged.device, statement: { ...forged.device.statement, added_by: v.statement.added_by } },
          },
          expectedOf(v),
        ),
      'device_statement_invalid',
    );
    await expectCode(
      () =>
        openPairingApproval(
          { ...good, device: { ...good.device, statement: { ...good.device.statement, extra: 1 } } },
          expectedOf(v),
        ),
      'device_statement_invalid',
    );
    await expectCode(() => openPairingApproval(null, expectedOf(v)), 'sealed_invalid');
  });

  it('pairing codes: XXXX-XXXX over the claim alphabet, forgiving entry, hash by domain', () => {
    const code = generatePairingCode();
    expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(normalizePairingCode(` ${code.toLowerCase()} `)).toBe(code.replace('-', ''));
    expect(toHex(pairingCodeHash(code)!)).toBe(
      createHash('sha256')
        .update(`clawkeep/v1/pairing-code\0${code.replace('-', '')}`)
        .digest('hex'),
    );
    expect(pairingCodeHash('BCDF-GHJ')).toBeNull();
    expect(pairingCodeHash('ABCD-EFGH')).toBeNull(); // vowels are not in the alphabet
  });
});

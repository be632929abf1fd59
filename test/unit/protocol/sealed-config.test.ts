// @vitest-environment node
import { createHash, sign as nodeSign } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8Decode, utf8Encode } from '../../../lib/bytes';
import { fromBase64Url, toBase64Url } from '../../../lib/protocol/base64url';
import { configEnvLines, decodeConfigPayload, encodeConfigPayload } from '../../../lib/protocol/config-payload';
import {
  buildConfigDelivery,
  openConfigDelivery,
  openSealedConfig,
  sealConfig,
  type ConfigContext,
  type ConfigDelivery,
} from '../../../lib/protocol/sealed-config';
import vectors from '../../vectors/protocol-sealed-config.json';
import { nodeEd25519Private, nodeBoxKey } from './node-keys';
import { bitFlips, expectCode } from './helpers';

const recipientPrivate = () => fromHex(vectors.recipient.private);
const recipientPublic = fromHex(vectors.recipient.public);
const deviceSeed = fromHex(vectors.device.seed);
const devicePublic = fromHex(vectors.device.public);

const deliveryOf = (v: (typeof vectors.vectors)[number]): ConfigDelivery => ({
  config: { statement: v.statement, signature: v.signature },
  sealed_config: v.sealed,
});
const expected = (c: ConfigContext) => ({ hub: c.hub, agent_id: c.agent_id, installation_id: c.installation_id });

describe('CKSC sealed configs and CKCD delivery statements', () => {
  it.each(vectors.vectors)('fixed keys, nonce and clock -> fixed bytes and signature (#$#)', async (v) => {
    const plaintext = encodeConfigPayload(v.config);
    expect(toHex(plaintext)).toBe(v.plaintext);
    const delivery = await buildConfigDelivery({
      ...v.context,
      boxKey: recipientPublic,
      plaintext,
      sign: async (m) => ed25519.sign(m, deviceSeed),
      now: v.time,
      seal: { ephemeralPrivate: fromHex(v.ephemeralPrivate), nonce: fromHex(v.nonce) },
    });
    expect(delivery).toEqual(deliveryOf(v));
    const opened = openConfigDelivery(devicePublic, recipientPrivate(), delivery, expected(v.context));
    expect(opened.statement).toEqual(v.statement);
    expect(decodeConfigPayload(opened.plaintext)).toEqual(v.config);
  });

  it.each(vectors.vectors)(
    'independent construction with node:crypto X25519, HKDF, SHA-256 and Ed25519 agrees (#$#)',
    (v) => {
      const sealed = fromBase64Url(v.sealed);
      expect(toHex(sealed.subarray(0, 5))).toBe(toHex(utf8Encode('CKSC\x01')));
      const ephemeralPublic = sealed.subarray(5, 37);
      const key = nodeBoxKey(
        fromHex(v.ephemeralPrivate),
        recipientPublic,
        ephemeralPublic,
        'clawkeep/v1/sealed-config',
      );
      const c = v.context;
      // Canonical JSON written out by hand: keys sorted, no whitespace.
      const ad = utf8Encode(
        `CKSC\x01{"agent_id":"${c.agent_id}","config_id":"${c.config_id}","hub":"${c.hub}","installation_id":"${c.installation_id}","revision":${c.revision}}`,
      );
      const ct = xchacha20poly1305(key, fromHex(v.nonce), ad).encrypt(fromHex(v.plaintext));
      expect(toHex(concatBytes(utf8Encode('CKSC\x01'), ephemeralPublic, fromHex(v.nonce), ct))).toBe(toHex(sealed));
      const s = v.statement;
      expect(s.sealed_sha256).toBe(createHash('sha256').update(sealed).digest('hex'));
      const signed = utf8Encode(
        `CKCD\x01{"agent_id":"${s.agent_id}","config_id":"${s.config_id}","hub":"${s.hub}","installation_id":"${s.installation_id}","revision":${s.revision},"sealed_sha256":"${s.sealed_sha256}","time":${s.time}}`,
      );
      expect(toHex(signed)).toBe(v.statementBytes);
      expect(toBase64Url(new Uint8Array(nodeSign(null, signed, nodeEd25519Private(deviceSeed))))).toBe(v.signature);
    },
  );

  const v = vectors.vectors[0]!;
  const ctx = v.context;
  const sealed = fromBase64Url(v.sealed);

  it('sealed_invalid: wrong agent, installation, config, revision or hub; another key', async () => {
    for (const [k, other] of Object.entries({
      agent_id: 'ag_other',
      installation_id: 'inst_other',
      config_id: 'cfg_other',
      revision: 2,
      hub: 'https://other.example',
    })) {
      await expectCode(() => openSealedConfig(recipientPrivate(), sealed, { ...ctx, [k]: other }), 'sealed_invalid');
    }
    await expectCode(() => openSealedConfig(new Uint8Array(32).fill(3), sealed, ctx), 'sealed_invalid');
  });

  it('sealed_invalid: every flipped bit, truncation, trailing bytes, other version', async () => {
    for (const flipped of bitFlips(sealed, 256))
      await expectCode(() => openSealedConfig(recipientPrivate(), flipped, ctx), 'sealed_invalid');
    for (const n of [0, 5, 61, 76])
      await expectCode(() => openSealedConfig(recipientPrivate(), sealed.subarray(0, n), ctx), 'sealed_invalid');
    await expectCode(() => openSealedConfig(recipientPrivate(), Uint8Array.of(...sealed, 0), ctx), 'sealed_invalid');
    const v2 = sealed.slice();
    v2[4] = 2;
    await expectCode(() => openSealedConfig(recipientPrivate(), v2, ctx), 'sealed_invalid');
  });

  it('a CKSS key never opens a CKSC blob: the HKDF info separates the formats', async () => {
    const tagSwapped = sealed.slice();
    tagSwapped.set(utf8Encode('CKSS'), 0);
    await expectCode(() => openSealedConfig(recipientPrivate(), tagSwapped, ctx), 'sealed_invalid');
  });

  it('delivery: a signature by another key, a changed statement field, a swapped blob or another expected agent fail', async () => {
    const good = deliveryOf(v);
    const other = ed25519.getPublicKey(new Uint8Array(32).fill(9));
    await expectCode(() => openConfigDelivery(other, recipientPrivate(), good, expected(ctx)), 'sealed_invalid');
    // The hub replays an older blob under a newer revision: the signature no longer covers it.
    await expectCode(
      () =>
        openConfigDelivery(
          devicePublic,
          recipientPrivate(),
          { ...good, config: { ...good.config, statement: { ...good.config.statement, revision: 9 } } },
          expected(ctx),
        ),
      'sealed_invalid',
    );
    // The other vector's blob under this statement: the signed hash does not match.
    await expectCode(
      () =>
        openConfigDelivery(
          devicePublic,
          recipientPrivate(),
          { ...good, sealed_config: vectors.vectors[1]!.sealed },
          expected(ctx),
        ),
      'sealed_invalid',
    );
    await expectCode(
      () => openConfigDelivery(devicePublic, recipientPrivate(), good, { ...expected(ctx), agent_id: 'ag_other' }),
      'sealed_invalid',
    );
    await expectCode(
      () =>
        openConfigDelivery(devicePublic, recipientPrivate(), good, { ...expected(ctx), installation_id: 'inst_other' }),
      'sealed_invalid',
    );
    await expectCode(
      () =>
        openConfigDelivery(devicePublic, recipientPrivate(), good, { ...expected(ctx), hub: 'https://other.example' }),
      'sealed_invalid',
    );
    await expectCode(
      () =>
        openConfigDelivery(
          devicePublic,
          recipientPrivate(),
          { ...good, config: { ...good.config, statement: { ...good.config.statement, extra: 1 } } },
          expected(ctx),
        ),
      'sealed_invalid',
    );
    for (const flipped of bitFlips(fromBase64Url(good.config.signature), 32)) {
      await expectCode(
        () =>
          openConfigDelivery(
            devicePublic,
            recipientPrivate(),
            { ...good, config: { ...good.config, signature: toBase64Url(flipped) } },
            expected(ctx),
          ),
        'sealed_invalid',
      );
    }
  });

  it('refuses low-order recipient keys and malformed contexts; RangeError for misuse', async () => {
    await expectCode(() => sealConfig(new Uint8Array(32), utf8Encode('{}'), ctx), 'sealed_invalid');
    await expectCode(() => sealConfig(recipientPublic, utf8Encode('{}'), { ...ctx, revision: 0 }), 'sealed_invalid');
    await expectCode(
      () => sealConfig(recipientPublic, utf8Encode('{}'), { ...ctx, hub: 'http://example.com' }),
      'sealed_invalid',
    );
    expect(() => sealConfig(recipientPublic, new Uint8Array(32 * 1024 + 1), ctx)).toThrow(RangeError);
  });

  it('config payload: exact shape only; env lines refuse names and values that would break a line', async () => {
    const config = v.config;
    expect(configEnvLines(config)).toEqual([
      'ANTHROPIC_API_KEY=sk-ant-example-0001',
      'LOG_LEVEL=debug',
      'REGION=eu-west-1',
    ]);
    await expectCode(
      () => decodeConfigPayload(utf8Encode(JSON.stringify({ ...config, extra: 1 }))),
      'protocol_invalid',
    );
    await expectCode(() => decodeConfigPayload(utf8Encode(' {}')), 'protocol_invalid');
    await expectCode(() => configEnvLines({ ...config, env: [{ key: 'BAD NAME', value: 'x' }] }), 'protocol_invalid');
    await expectCode(
      () => configEnvLines({ ...config, env: [{ key: 'OK', value: 'a\nINJECTED=1' }] }),
      'protocol_invalid',
    );
    expect(utf8Decode(encodeConfigPayload(config))).toBe(
      JSON.stringify({
        env: config.env,
        json: config.json,
        model: config.model,
        name: config.name,
        provider_keys: config.provider_keys,
      }),
    );
  });
});

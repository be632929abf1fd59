// @vitest-environment node
// CKHR sealed http.request outcomes and CKRS delivery statements (issue 18, lib/protocol/sealed-response.ts):
// the known-answer file test/vectors/protocol-sealed-response.json, re-derived independently with node:crypto.
import { createHash, sign as nodeSign } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8Decode, utf8Encode } from '../../../lib/bytes';
import { fromBase64Url, toBase64Url } from '../../../lib/protocol/base64url';
import {
  buildResponseDelivery,
  openResponseDelivery,
  parseHttpOutcome,
  type HttpOutcome,
  type ResponseContext,
  type ResponseDelivery,
} from '../../../lib/protocol/sealed-response';
import vectors from '../../vectors/protocol-sealed-response.json';
import { nodeEd25519Private, nodeBoxKey } from './node-keys';
import { bitFlips, expectCode } from './helpers';

const recipientPrivate = () => fromHex(vectors.recipient.private);
const recipientPublic = fromHex(vectors.recipient.public);
const deviceSeed = fromHex(vectors.device.seed);
const devicePublic = fromHex(vectors.device.public);

type Vector = (typeof vectors.vectors)[number];
const outcomeOf = (v: Vector) => v.outcome as HttpOutcome;
const deliveryOf = (v: Vector): ResponseDelivery => ({
  response: { statement: v.statement, signature: v.signature },
  sealed_response: v.sealed,
});

describe('CKHR sealed http.request outcomes and CKRS delivery statements', () => {
  it.each(vectors.vectors)('fixed keys, nonce and clock -> fixed bytes and signature (#$#)', async (v) => {
    const delivery = await buildResponseDelivery({
      ...v.context,
      boxKey: recipientPublic,
      outcome: outcomeOf(v),
      sign: async (m) => ed25519.sign(m, deviceSeed),
      now: v.time,
      seal: { ephemeralPrivate: fromHex(v.ephemeralPrivate), nonce: fromHex(v.nonce) },
    });
    expect(delivery).toEqual(deliveryOf(v));
    const opened = openResponseDelivery(devicePublic, recipientPrivate(), delivery, v.context);
    expect(opened.statement).toEqual(v.statement);
    expect(opened.outcome).toEqual(v.outcome);
  });

  it.each(vectors.vectors)(
    'independent construction with node:crypto X25519, HKDF, SHA-256 and Ed25519 agrees (#$#)',
    (v) => {
      const sealed = fromBase64Url(v.sealed);
      expect(toHex(sealed.subarray(0, 5))).toBe(toHex(utf8Encode('CKHR\x01')));
      const ephemeralPublic = sealed.subarray(5, 37);
      const key = nodeBoxKey(
        fromHex(v.ephemeralPrivate),
        recipientPublic,
        ephemeralPublic,
        'clawkeep/v1/http-response',
      );
      const c = v.context;
      // Canonical JSON written out by hand: keys sorted, no whitespace.
      const ad = utf8Encode(
        `CKHR\x01{"agent_id":"${c.agent_id}","hub":"${c.hub}","installation_id":"${c.installation_id}","intent_id":"${c.intent_id}","payload_hash":"${c.payload_hash}"}`,
      );
      // The plaintext is the outcome's canonical JSON: JSON.parse gives the outcome back, sorted keys re-encode it.
      expect(JSON.parse(utf8Decode(fromHex(v.plaintext)))).toEqual(v.outcome);
      const ct = xchacha20poly1305(key, fromHex(v.nonce), ad).encrypt(fromHex(v.plaintext));
      expect(toHex(concatBytes(utf8Encode('CKHR\x01'), ephemeralPublic, fromHex(v.nonce), ct))).toBe(toHex(sealed));
      const s = v.statement;
      expect(s.sealed_sha256).toBe(createHash('sha256').update(sealed).digest('hex'));
      const signed = utf8Encode(
        `CKRS\x01{"agent_id":"${s.agent_id}","hub":"${s.hub}","installation_id":"${s.installation_id}","intent_id":"${s.intent_id}","payload_hash":"${s.payload_hash}","sealed_sha256":"${s.sealed_sha256}","time":${s.time}}`,
      );
      expect(toHex(signed)).toBe(v.statementBytes);
      expect(toBase64Url(new Uint8Array(nodeSign(null, signed, nodeEd25519Private(deviceSeed))))).toBe(v.signature);
    },
  );

  const v = vectors.vectors[0]!;
  const good = deliveryOf(v);
  const open = (delivery: unknown, expected: ResponseContext = v.context, key = devicePublic) =>
    openResponseDelivery(key, recipientPrivate(), delivery, expected);

  it('sealed_invalid: another hub, agent, installation, intent or payload hash; another signer or recipient', async () => {
    for (const [k, other] of Object.entries({
      hub: 'https://other.example',
      agent_id: 'ag_other',
      installation_id: 'inst_other',
      intent_id: 'in_other',
      payload_hash: 'ff'.repeat(32),
    })) {
      await expectCode(() => open(good, { ...v.context, [k]: other }), 'sealed_invalid');
    }
    await expectCode(() => open(good, v.context, ed25519.getPublicKey(new Uint8Array(32).fill(9))), 'sealed_invalid');
    await expectCode(
      () => openResponseDelivery(devicePublic, new Uint8Array(32).fill(3), good, v.context),
      'sealed_invalid',
    );
  });

  it('sealed_invalid: every flipped bit of the box or the signature, truncation, another version, a swapped box', async () => {
    const sealed = fromBase64Url(v.sealed);
    for (const flipped of bitFlips(sealed, 128))
      await expectCode(() => open({ ...good, sealed_response: toBase64Url(flipped) }), 'sealed_invalid');
    for (const flipped of bitFlips(fromBase64Url(v.signature), 32))
      await expectCode(
        () => open({ ...good, response: { ...good.response, signature: toBase64Url(flipped) } }),
        'sealed_invalid',
      );
    await expectCode(() => open({ ...good, sealed_response: toBase64Url(sealed.subarray(0, 60)) }), 'sealed_invalid');
    const v2 = sealed.slice();
    v2[4] = 2;
    await expectCode(() => open({ ...good, sealed_response: toBase64Url(v2) }), 'sealed_invalid');
    // Another vector's box under this statement: the signed hash does not match.
    await expectCode(() => open({ ...good, sealed_response: vectors.vectors[1]!.sealed }), 'sealed_invalid');
    await expectCode(
      () => open({ ...good, response: { ...good.response, statement: { ...good.response.statement, extra: 1 } } }),
      'sealed_invalid',
    );
  });

  it('a 1 MiB answer (the call cap) seals and opens; past the box ceiling it is refused before anything is signed', async () => {
    const v = vectors.vectors[0]!;
    const big = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    const answer: HttpOutcome = {
      outcome: 'response',
      status: 200,
      headers: [['content-type', 'application/octet-stream']],
      body: Buffer.from(big).toString('base64'),
      redacted: [],
      withheld: false,
      redirect: null,
    };
    let signed = 0;
    const sign = async (m: Uint8Array) => (signed++, ed25519.sign(m, deviceSeed));
    const delivery = await buildResponseDelivery({
      ...v.context,
      boxKey: recipientPublic,
      outcome: answer,
      sign,
      now: 1,
    });
    expect(openResponseDelivery(devicePublic, recipientPrivate(), delivery, v.context).outcome).toEqual(answer);
    const tooBig = { ...answer, body: Buffer.from(new Uint8Array(1200 * 1024)).toString('base64') };
    signed = 0;
    await expect(
      buildResponseDelivery({ ...v.context, boxKey: recipientPublic, outcome: tooBig, sign, now: 1 }),
    ).rejects.toMatchObject({ code: 'sealed_invalid' });
    expect(signed).toBe(0);
  });

  it('a CKSS or CKSC box never opens as CKHR: the tag and the HKDF info separate the formats', async () => {
    const sealed = fromBase64Url(v.sealed);
    for (const tag of ['CKSS', 'CKSC']) {
      const swapped = sealed.slice();
      swapped.set(utf8Encode(tag), 0);
      await expectCode(() => open({ ...good, sealed_response: toBase64Url(swapped) }), 'sealed_invalid');
    }
  });

  it('parseHttpOutcome: the exact shape only; a status, code or message out of range is sealed_invalid', async () => {
    for (const o of vectors.vectors) expect(parseHttpOutcome(o.outcome)).toEqual(o.outcome);
    const response = outcomeOf(v) as Extract<HttpOutcome, { outcome: 'response' }>;
    const bad: unknown[] = [
      null,
      [],
      { ...response, extra: 1 },
      { ...response, status: 1000 },
      { ...response, status: 200.5 },
      { ...response, body: 'not base64!' },
      { ...response, redacted: ['rot13'] },
      { ...response, withheld: 'no' },
      { ...response, redirect: { location: 5 } },
      { ...response, redirect: { location: null, extra: 1 } },
      { ...response, headers: [['a']] },
      { outcome: 'refused', code: 'Bad-Code', message: 'x' },
      { outcome: 'refused', code: 'ok', message: '' },
      { outcome: 'failed', code: 'ok', message: 'x'.repeat(1001) },
      { outcome: 'failed', code: 'ok', message: 'x', status: 1 },
      { outcome: 'other', code: 'ok', message: 'x' },
    ];
    for (const b of bad) await expectCode(() => parseHttpOutcome(b), 'sealed_invalid');
  });
});

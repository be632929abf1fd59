// @vitest-environment node
/**
 * Property tests for issue 18's sealed http.request outcome (CKHR) and its device-signed delivery (CKRS),
 * lib/protocol/sealed-response.ts: every outcome the device can seal parses back to itself and round-trips through
 * buildResponseDelivery / openResponseDelivery for exactly its context; any change to a delivery, any other context,
 * any other signer and any random bytes or value give the one opaque `sealed_invalid`, never another error, never a
 * crash and never an outcome.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toBase64 } from '../../../lib/bytes';
import { fromBase64Url, toBase64Url } from '../../../lib/protocol/base64url';
import { canonicalBytes } from '../../../lib/protocol/canonical';
import { ProtocolError } from '../../../lib/protocol/errors';
import {
  buildResponseDelivery,
  openResponseDelivery,
  outcomeBytes,
  parseHttpOutcome,
  REFLECTION_FORMS,
  type HttpOutcome,
  type ResponseContext,
} from '../../../lib/protocol/sealed-response';
import {
  check,
  checkAsync,
  epoch,
  id,
  mutate,
  mutations,
  origin,
  sha256Hex,
  signer,
  signerPair,
  typedOnly,
  unicodeString,
  x25519KeyPair,
} from './arbitraries';

const SEALED = ['sealed_invalid'];
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

const context = fc.record<ResponseContext>({
  hub: origin,
  agent_id: id,
  installation_id: id,
  intent_id: id,
  payload_hash: sha256Hex,
});

/**
 * Every outcome shape parseHttpOutcome accepts. Bodies stay under a few KiB to keep runs fast; outcomeBytes gives
 * canonical JSON without canonicalBytes' 64 KiB ceiling (checked below), and a 1 MiB answer round-trips in
 * test/unit/protocol/sealed-response.test.ts.
 */
const outcome: fc.Arbitrary<HttpOutcome> = fc.oneof(
  fc.record({
    outcome: fc.constant('response' as const),
    status: fc.integer({ min: 0, max: 999 }),
    headers: fc.array(fc.tuple(unicodeString({ maxLength: 20 }), unicodeString({ maxLength: 40 })), { maxLength: 6 }),
    body: fc
      .oneof({ arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 5 }, fc.uint8Array({ maxLength: 4000 }))
      .map(toBase64),
    redacted: fc.subarray([...REFLECTION_FORMS]),
    withheld: fc.boolean(),
    redirect: fc.option(fc.record({ location: fc.option(unicodeString({ maxLength: 60 }), { nil: null }) }), {
      nil: null,
    }),
  }),
  fc.record({
    outcome: fc.constantFrom('failed' as const, 'refused' as const),
    code: fc.stringMatching(/^[a-z][a-z0-9_]{0,63}$/),
    message: unicodeString({ minLength: 1, maxLength: 1000 }),
  }),
);

describe('HttpOutcome (parseHttpOutcome)', () => {
  it('parses every valid outcome back to itself, as a fresh copy', () => {
    check(
      outcome,
      (o) => {
        const parsed = parseHttpOutcome(o);
        expect(parsed).toEqual(o);
        if (parsed.outcome === 'response') expect(parsed.headers).not.toBe((o as typeof parsed).headers);
      },
      300,
    );
  });

  it('anything else: sealed_invalid only, never a crash; what passes parses to itself again', () => {
    const bent = outcome.chain((o) =>
      fc.oneof(
        fc.record({ key: fc.constantFrom(...Object.keys(o), 'extra'), value: fc.anything() }).map(({ key, value }) => ({
          ...o,
          [key]: value,
        })),
        fc
          .constantFrom(...Object.keys(o))
          .map((key) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key))),
      ),
    );
    check(
      fc.oneof(fc.anything(), bent),
      (v) => {
        if (typedOnly(() => parseHttpOutcome(v), ProtocolError, SEALED) === 'ok')
          expect(parseHttpOutcome(parseHttpOutcome(v))).toEqual(parseHttpOutcome(v));
      },
      400,
    );
  });
});

describe('outcomeBytes', () => {
  it('is canonicalBytes for every outcome canonicalBytes can take (no 64 KiB ceiling of its own)', () => {
    check(outcome, (o) => expect(outcomeBytes(o)).toEqual(canonicalBytes(o)), 300);
  });
});

describe('CKHR sealed outcome and its CKRS delivery statement', () => {
  const sign = (priv: Uint8Array) => async (m: Uint8Array) => ed25519.sign(m, priv);

  it('build then open gives the outcome and the statement back, for exactly this context and signer', async () => {
    await checkAsync(
      fc.record({ r: x25519KeyPair, by: signer, ctx: context, o: outcome, now: epoch }),
      async ({ r, by, ctx, o, now }) => {
        const delivery = await buildResponseDelivery({ ...ctx, boxKey: r.pub, outcome: o, sign: sign(by.priv), now });
        const opened = openResponseDelivery(by.pub, r.priv, delivery, ctx);
        expect(opened.outcome).toEqual(o);
        expect(opened.statement).toEqual({ ...ctx, sealed_sha256: opened.statement.sealed_sha256, time: now });
        // The box as the hub sees it: the tag, the version, nothing readable.
        expect(fromBase64Url(delivery.sealed_response).subarray(0, 5)).toEqual(
          concatBytes(ascii('CKHR'), Uint8Array.of(1)),
        );
      },
      60,
    );
  });

  it('another context, another signer, a mutated box or signature: sealed_invalid only, never an outcome', async () => {
    await checkAsync(
      fc.record({
        r: x25519KeyPair,
        keys: signerPair,
        ctx: context,
        other: context,
        o: outcome,
        now: epoch,
        edits: mutations,
        bend: fc.nat({ max: 2 }),
      }),
      async ({ r, keys: [by, stranger], ctx, other, o, now, edits, bend }) => {
        const delivery = await buildResponseDelivery({ ...ctx, boxKey: r.pub, outcome: o, sign: sign(by.priv), now });
        expect(typedOnly(() => openResponseDelivery(stranger.pub, r.priv, delivery, ctx), ProtocolError, SEALED)).toBe(
          'sealed_invalid',
        );
        const same = (Object.keys(ctx) as (keyof ResponseContext)[]).every((k) => ctx[k] === other[k]);
        if (!same)
          expect(typedOnly(() => openResponseDelivery(by.pub, r.priv, delivery, other), ProtocolError, SEALED)).toBe(
            'sealed_invalid',
          );
        const sealed = fromBase64Url(delivery.sealed_response);
        const signature = fromBase64Url(delivery.response.signature);
        const bent =
          bend === 0
            ? { ...delivery, sealed_response: toBase64Url(mutate(sealed, edits)) }
            : bend === 1
              ? { ...delivery, response: { ...delivery.response, signature: toBase64Url(mutate(signature, edits)) } }
              : { ...delivery, sealed_response: `${delivery.sealed_response}=` };
        if (typedOnly(() => openResponseDelivery(by.pub, r.priv, bent, ctx), ProtocolError, SEALED) === 'ok')
          expect(bent).toEqual(delivery);
      },
      60,
    );
  });

  it('random bytes as the box and any value as the delivery: sealed_invalid only', () => {
    check(
      fc.tuple(
        x25519KeyPair,
        signer,
        context,
        fc.oneof(
          fc.anything(),
          fc.record({
            response: fc.anything(),
            sealed_response: fc.oneof(fc.string(), fc.uint8Array({ maxLength: 200 }).map(toBase64Url)),
          }),
          fc.uint8Array({ maxLength: 200 }).map((t) => ({
            response: { statement: {}, signature: '' },
            sealed_response: toBase64Url(concatBytes(ascii('CKHR'), Uint8Array.of(1), t)),
          })),
        ),
      ),
      ([r, by, ctx, d]) => {
        expect(typedOnly(() => openResponseDelivery(by.pub, r.priv, d, ctx), ProtocolError, SEALED)).toBe(
          'sealed_invalid',
        );
      },
      300,
    );
  });
});

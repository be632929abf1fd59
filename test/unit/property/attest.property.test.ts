// @vitest-environment node
/**
 * Property tests for the versioned attestation inputs lib/attest parses from untrusted hands: Intel DCAP quotes
 * v3 / v4 / v5 (quote.ts, specs/tdx-verification.md §1), quote text (quote-input.ts), collateral JSON and the dstack
 * event log. Quotes are laid out by a builder written here from the spec, with every field generated: the parser
 * must give each field back and the fields must re-encode to the same bytes. Random bytes, a valid header in front
 * of random bytes, mutations of generated quotes and of the real Intel-signed fixtures may only end in an
 * AttestError (quote_malformed / quote_unsupported), never a TypeError, a RangeError or an out-of-bounds read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8Encode } from '../../../lib/bytes';
import { parseCollateralJson } from '../../../lib/attest/collateral';
import { parseDstackEventLog } from '../../../lib/attest/dstack/event-log';
import { AttestError } from '../../../lib/attest/errors';
import { INTEL_QE_VENDOR_ID, MAX_QUOTE_BYTES, parseQuote, type ParsedQuote } from '../../../lib/attest/quote';
import { parseQuoteText } from '../../../lib/attest/quote-input';
import { loadFuzzBases } from '../attest/fuzz-mutations';
import { bytes, check, expectBytes, mutations, mutate, typedOnly } from './arbitraries';

const QUOTE_CODES = ['quote_malformed', 'quote_unsupported'];
const u16 = (v: number) => Uint8Array.of(v & 0xff, v >>> 8);
const u32 = (v: number) => Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);

type Shape =
  { version: 3; body: 'sgx' } | { version: 4; body: 'sgx' | 'td10' } | { version: 5; body: 'sgx' | 'td10' | 'td15' };
const BODY_LEN = { sgx: 384, td10: 584, td15: 648 } as const;
const V5_BODY_TYPE = { sgx: 1, td10: 2, td15: 3 } as const;

interface QuoteFields {
  shape: Shape;
  reserved: Uint8Array;
  userData: Uint8Array;
  body: Uint8Array;
  signature: Uint8Array;
  attestationKey: Uint8Array;
  qeReport: Uint8Array;
  qeReportSignature: Uint8Array;
  authData: Uint8Array;
  /** PEM-ish text (no NUL at its end, as the parser strips trailing NULs) and the NUL padding after it. */
  pem: string;
  pemNuls: number;
  /** Zero bytes after the signature data. */
  padding: number;
}

/** A DCAP quote laid out from specs/tdx-verification.md §1 (little-endian), independently of the parser. */
function buildQuote(f: QuoteFields): Uint8Array {
  const tee = f.shape.body === 'sgx' ? 0 : 0x81;
  const header = concatBytes(
    u16(f.shape.version),
    u16(2),
    u32(tee),
    f.reserved,
    fromHex(INTEL_QE_VENDOR_ID),
    f.userData,
  );
  const descriptor =
    f.shape.version === 5 ? concatBytes(u16(V5_BODY_TYPE[f.shape.body]), u32(f.body.length)) : new Uint8Array(0);
  const chain = concatBytes(utf8Encode(f.pem), new Uint8Array(f.pemNuls));
  const qeSection = concatBytes(
    f.qeReport,
    f.qeReportSignature,
    u16(f.authData.length),
    f.authData,
    u16(5),
    u32(chain.length),
    chain,
  );
  const certData = f.shape.version === 3 ? qeSection : concatBytes(u16(6), u32(qeSection.length), qeSection);
  const sigData = concatBytes(f.signature, f.attestationKey, certData);
  return concatBytes(header, descriptor, f.body, u32(sigData.length), sigData, new Uint8Array(f.padding));
}

/** The inverse from what parseQuote returns: the quote without its zero padding. */
function reencode(q: ParsedQuote): Uint8Array {
  const body = q.td
    ? q.bodyType === 'td15'
      ? q.signedRegion.subarray(q.signedRegion.length - 648)
      : q.signedRegion.subarray(q.signedRegion.length - 584)
    : q.enclave!.raw;
  const pem = utf8Encode(q.pckChainPem);
  // The chain runs to the end of the signature data (q.length): its NUL padding is whatever the fixed fields leave.
  const fixed =
    q.signedRegion.length + 4 + 64 + 64 + (q.version === 3 ? 0 : 6) + 384 + 64 + 2 + q.qeAuthData.length + 2 + 4;
  const chain = concatBytes(pem, new Uint8Array(q.length - fixed - pem.length));
  const qeSection = concatBytes(
    q.qeReport.raw,
    q.qeReportSignature,
    u16(q.qeAuthData.length),
    q.qeAuthData,
    u16(5),
    u32(chain.length),
    chain,
  );
  const certData = q.version === 3 ? qeSection : concatBytes(u16(6), u32(qeSection.length), qeSection);
  const sigData = concatBytes(q.quoteSignature, q.attestationKey, certData);
  expectBytes(q.signedRegion.subarray(q.signedRegion.length - body.length), body);
  return concatBytes(q.signedRegion, u32(sigData.length), sigData);
}

const shape: fc.Arbitrary<Shape> = fc.oneof(
  fc.constant({ version: 3, body: 'sgx' } as const),
  fc.constantFrom('sgx', 'td10').map((body): Shape => ({ version: 4, body })),
  fc.constantFrom('sgx', 'td10', 'td15').map((body): Shape => ({ version: 5, body })),
);
// PEM text: printable ASCII and line breaks, never ending in NUL (the parser strips trailing NULs by design).
const pem = fc.string({
  unit: fc.constantFrom(...'-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n '.split('')),
  maxLength: 300,
});
const quoteFields: fc.Arbitrary<QuoteFields> = shape.chain((s) =>
  fc.record({
    shape: fc.constant(s),
    reserved: bytes(4),
    userData: bytes(20),
    body: bytes(BODY_LEN[s.body]),
    signature: bytes(64),
    attestationKey: bytes(64),
    qeReport: bytes(384),
    qeReportSignature: bytes(64),
    authData: fc.uint8Array({ maxLength: 64 }),
    pem,
    pemNuls: fc.nat({ max: 4 }),
    padding: fc.nat({ max: 80 }),
  }),
);

describe('DCAP quote parser (lib/attest/quote.ts)', () => {
  it('parse(build(x)) gives every field of x back, and the fields re-encode to the same bytes', () => {
    check(
      quoteFields,
      (f) => {
        const b = buildQuote(f);
        const q = parseQuote(b);
        expect({ version: q.version, bodyType: q.bodyType, teeType: q.teeType, qeVendorId: q.qeVendorId }).toEqual({
          version: f.shape.version,
          bodyType: f.shape.body,
          teeType: f.shape.body === 'sgx' ? 'SGX' : 'TDX',
          qeVendorId: INTEL_QE_VENDOR_ID,
        });
        expectBytes(q.header.subarray(8, 12), f.reserved);
        expectBytes(q.header.subarray(28, 48), f.userData);
        expectBytes(q.quoteSignature, f.signature);
        expectBytes(q.attestationKey, f.attestationKey);
        expectBytes(q.qeReport.raw, f.qeReport);
        expectBytes(q.qeReport.reportData, f.qeReport.subarray(320, 384));
        expectBytes(q.qeReportSignature, f.qeReportSignature);
        expectBytes(q.qeAuthData, f.authData);
        expect(q.pckChainPem).toBe(f.pem);
        expect(q.length).toBe(b.length - f.padding);
        if (f.shape.body === 'sgx') {
          expectBytes(q.enclave!.raw, f.body);
          expect(q.enclave!.isvProdId).toBe(f.body[256]! | (f.body[257]! << 8));
          expect(q.enclave!.isvSvn).toBe(f.body[258]! | (f.body[259]! << 8));
        } else {
          expectBytes(q.td!.mrTd, f.body.subarray(136, 184));
          expectBytes(q.td!.rtmrs[3], f.body.subarray(472, 520));
          expectBytes(q.td!.reportData, f.body.subarray(520, 584));
          if (f.shape.body === 'td15') expectBytes(q.td!.mrServiceTd!, f.body.subarray(600, 648));
          else expect(q.td!.mrServiceTd).toBeUndefined();
        }
        expectBytes(reencode(q), b.subarray(0, q.length));
      },
      300,
    );
  });

  it('random bytes, and a valid header followed by random bytes: AttestError only', () => {
    check(
      fc.uint8Array({ maxLength: 1200 }),
      (b) => void typedOnly(() => parseQuote(b), AttestError, QUOTE_CODES),
      400,
    );
    const headed = fc
      .tuple(quoteFields, fc.uint8Array({ maxLength: 1500 }))
      .map(([f, rest]) => concatBytes(buildQuote(f).subarray(0, 48), rest));
    check(headed, (b) => void typedOnly(() => parseQuote(b), AttestError, QUOTE_CODES), 400);
  });

  it('mutated generated quotes: AttestError only, and what parses re-encodes to its own bytes', () => {
    check(
      fc.tuple(quoteFields, mutations),
      ([f, edits]) => {
        const m = mutate(buildQuote(f), edits);
        if (typedOnly(() => parseQuote(m), AttestError, QUOTE_CODES) === 'ok') {
          const q = parseQuote(m);
          expectBytes(reencode(q), m.subarray(0, q.length));
        }
      },
      400,
    );
  });

  it('mutated real Intel-signed fixture quotes: AttestError only', () => {
    const fixtures = loadFuzzBases().map((b) => b.quote);
    check(
      fc.tuple(fc.constantFrom(...fixtures), mutations),
      ([quote, edits]) => {
        typedOnly(() => parseQuote(mutate(quote, edits)), AttestError, QUOTE_CODES);
      },
      300,
    );
  });

  it(`quotes over ${MAX_QUOTE_BYTES} bytes are refused before any parsing`, () => {
    check(
      fc.integer({ min: MAX_QUOTE_BYTES + 1, max: MAX_QUOTE_BYTES + 64 }),
      (n) => {
        expect(typedOnly(() => parseQuote(new Uint8Array(n)), AttestError, QUOTE_CODES)).toBe('quote_malformed');
      },
      20,
    );
  });
});

describe('quote text, collateral JSON and the dstack event log', () => {
  it('parseQuoteText: hex in any case, with 0x and whitespace, gives the bytes; anything else is quote_malformed', () => {
    const hexText = fc
      .tuple(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom('', ' ', '\n', '\r\n'),
      )
      .map(([b, prefix, upper, ws]) => ({
        b,
        text: `${prefix ? '0x' : ''}${(upper ? toHex(b).toUpperCase() : toHex(b)).replace(/(.{16})/g, `$1${ws}`)}`,
      }));
    check(
      hexText,
      ({ b, text }) => {
        expectBytes(parseQuoteText(text), b);
        expectBytes(parseQuoteText(utf8Encode(text)), b);
      },
      300,
    );
    check(
      fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), fc.anything()),
      (input) => {
        typedOnly(() => parseQuoteText(input as string), AttestError, ['quote_malformed']);
      },
      400,
    );
  });

  it('parseCollateralJson and parseDstackEventLog on any JSON or text: AttestError only', () => {
    const text = fc.oneof(
      fc.json(),
      fc.string({ maxLength: 60 }),
      fc.anything().map((v) => JSON.stringify(v) ?? ''),
    );
    check(text, (t) => void typedOnly(() => parseCollateralJson(t), AttestError, ['collateral_malformed']), 400);
    const log = fc.oneof(
      text,
      fc.anything(),
      fc.array(
        fc.record(
          {
            imr: fc.oneof(fc.integer({ min: -1, max: 4 }), fc.anything()),
            event_type: fc.oneof(fc.nat(), fc.anything()),
            digest: fc.oneof(bytes(48).map(toHex), fc.string()),
            event: fc.oneof(fc.string({ maxLength: 20 }), fc.anything()),
            event_payload: fc.oneof(fc.uint8Array({ maxLength: 20 }).map(toHex), fc.string()),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 6 },
      ),
    );
    check(
      log,
      (l) => void typedOnly(() => parseDstackEventLog(l), AttestError, ['event_log_malformed', 'event_log_mismatch']),
      400,
    );
  });
});

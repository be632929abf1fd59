// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { AttestError } from '../../../lib/attest/errors';
import { MAX_QUOTE_BYTES, parseQuote } from '../../../lib/attest/quote';
import { parseQuoteText } from '../../../lib/attest/quote-input';
import { toHex } from '../../../lib/bytes';
import { readQuote } from './fixtures';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AttestError);
    return (err as AttestError).code;
  }
  return 'no error';
};

const v4 = () => readQuote('quotes/tdx-v4-b0c06f-2025.bin');
const v5 = () => readQuote('quotes/tdx-v5-td15-90c06f-2026.bin');
const setU32 = (q: Uint8Array, off: number, v: number) => new DataView(q.buffer, q.byteOffset).setUint32(off, v, true);
const setU16 = (q: Uint8Array, off: number, v: number) => new DataView(q.buffer, q.byteOffset).setUint16(off, v, true);

describe('parseQuote', () => {
  it('reads v5 TD 1.5 fields at the +6 offset (body descriptor) and v4 fields at +0', () => {
    const q5 = parseQuote(v5());
    expect(q5.version).toBe(5);
    expect(q5.bodyType).toBe('td15');
    expect(q5.signedRegion.length).toBe(702);
    expect(toHex(q5.td!.teeTcbSvn)).toBe('07010300000000000000000000000000');
    expect(q5.td!.mrServiceTd).toHaveLength(48);
    const q4 = parseQuote(v4());
    expect(q4.signedRegion.length).toBe(632);
    expect(toHex(q4.td!.mrTd).slice(0, 16)).toBe('91eb2b44d141d4ec');
    expect(q4.td!.mrServiceTd).toBeUndefined();
  });

  it('rejects truncation at every structure boundary with a typed error', () => {
    const q = v4();
    const end = parseQuote(q).length;
    for (const cut of [
      0,
      1,
      2,
      47,
      48,
      100,
      631,
      632,
      635,
      636,
      700,
      764,
      766,
      770,
      1154,
      1218,
      1219,
      1220,
      1252,
      1254,
      1258,
      2000,
      end - 1,
    ]) {
      expect(
        code(() => parseQuote(q.slice(0, cut))),
        `cut at ${cut}`,
      ).toBe('quote_malformed');
    }
  });

  it('rejects unknown versions, TEE types, key types, vendors and body types', () => {
    let q = v4();
    setU16(q, 0, 6);
    expect(code(() => parseQuote(q))).toBe('quote_unsupported');
    q = v4();
    setU16(q, 2, 3);
    expect(code(() => parseQuote(q))).toBe('quote_unsupported');
    q = v4();
    setU32(q, 4, 0x82);
    expect(code(() => parseQuote(q))).toBe('quote_unsupported');
    q = v4();
    q[12]! ^= 1;
    expect(code(() => parseQuote(q))).toBe('quote_unsupported');
    q = v4();
    setU16(q, 0, 3); // v3 with a TDX TEE type
    expect(code(() => parseQuote(q))).toBe('quote_malformed');
    q = v5();
    setU16(q, 48, 9);
    expect(code(() => parseQuote(q))).toBe('quote_unsupported');
    q = v5();
    setU32(q, 50, 584); // body type 3 (TD 1.5) must be 648 bytes
    expect(code(() => parseQuote(q))).toBe('quote_malformed');
  });

  it('rejects huge declared lengths without reading or allocating them', () => {
    let q = v4();
    setU32(q, 632, 0xffffffff); // signature data length
    expect(code(() => parseQuote(q))).toBe('quote_malformed');
    q = v4();
    setU32(q, 766, 0x7fffffff); // certification data size
    expect(code(() => parseQuote(q))).toBe('quote_malformed');
    q = v4();
    setU32(q, 1254, 0xfffffff0); // PEM chain size
    expect(code(() => parseQuote(q))).toBe('quote_malformed');
    expect(code(() => parseQuote(new Uint8Array(MAX_QUOTE_BYTES + 1)))).toBe('quote_malformed');
  });

  it('rejects PPID-only certification data (types 1-4) and non-QE-report outer data', () => {
    let q = v4();
    setU16(q, 1252, 3);
    expect(code(() => parseQuote(q))).toBe('quote_unsupported');
    q = v4();
    setU16(q, 764, 5);
    expect(code(() => parseQuote(q))).toBe('quote_unsupported');
  });

  it('tolerates trailing zero padding and rejects any non-zero trailing byte', () => {
    const q = v4();
    expect(q.length - parseQuote(q).length).toBe(70);
    const tail = q.slice();
    tail[q.length - 1] = 0xab;
    expect(code(() => parseQuote(tail))).toBe('quote_malformed');
  });
});

describe('parseQuoteText', () => {
  it('accepts binary quotes and hex text with 0x, spaces and line breaks', () => {
    const bin = v4();
    expect(parseQuoteText(bin)).toBe(bin);
    const hex = toHex(bin);
    expect(parseQuoteText(`0x${hex.slice(0, 100)}\n  ${hex.slice(100).toUpperCase()}\n`)).toEqual(bin);
    expect(parseQuoteText(new TextEncoder().encode(hex))).toEqual(bin);
  });

  it('gives typed errors for empty, odd-length and non-hex text', () => {
    expect(code(() => parseQuoteText(''))).toBe('quote_malformed');
    expect(code(() => parseQuoteText('abc'))).toBe('quote_malformed');
    expect(code(() => parseQuoteText('zz'))).toBe('quote_malformed');
    expect(code(() => parseQuoteText(new Uint8Array([0xff, 0xfe, 0x00])))).toBe('quote_malformed');
  });
});

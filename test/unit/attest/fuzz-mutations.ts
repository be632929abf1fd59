/**
 * The quote/collateral fuzzer shared by test/unit/attest/fuzz.test.ts (a few thousand cases per `npm test`) and
 * scripts/fuzz-attest.mjs (`npm run fuzz`, 100,000 cases over worker threads).
 *
 * Every case is a real fixture (quote + collateral + time from expected.json) with random mutations applied,
 * generated from (seed, index) alone, so any case can be replayed on its own. Each case is run through the real
 * entry points (parseQuoteText, parseCollateralJson, verifyQuote) and must come back as a QuoteVerification or
 * an AttestError: anything else thrown is a finding. A case whose mutation changed signed bytes carries
 * `mustReject`; verified:true there is a finding too.
 *
 * What counts as signed (so `mustReject`), decided from the bytes, not from what the verifier says:
 *  - quote bytes before the PCK chain's PEM text: header, body, signatures, attestation key, QE report, QE auth
 *    data and every length/type field among them (a changed length must not be silently tolerated);
 *  - a quote shorter than its signature data, or non-zero bytes after it (only zero padding is tolerated);
 *  - TBS bytes of the PCK leaf and PCK CA certificate inside the PEM chain (re-encoded, lengths fixed up);
 *  - the exact TCB info / QE identity JSON text, their signatures, the TBS bytes of either CRL and of the
 *    TCB signing certificate; a missing, emptied, mistyped or swapped collateral field.
 * Raw edits of the PEM text itself (a changed line break, a base64 padding bit, the NUL terminator), of the root
 * certificate copies and of the PCK CRL issuer chain are fuzzed for robustness only: a verifier may accept them
 * (the certificates they decode to, or the pinned root it uses instead, are unchanged).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCollateralJson } from '../../../lib/attest/collateral';
import { isAttestError } from '../../../lib/attest/errors';
import { parseQuoteText } from '../../../lib/attest/quote-input';
import { TCB_STATUSES, type Collateral, type QuoteVerification } from '../../../lib/attest/types';
import { verifyQuote } from '../../../lib/attest/verify';

// ---- deterministic randomness -------------------------------------------------------------------------------

/** 32-bit avalanche mix (from MurmurHash3's finalizer): per-case seeds that do not correlate across indexes. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** mulberry32: small, fast, good enough to pick offsets and values; not for anything secret. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

export const caseSeed = (seed: number, index: number): number => mix32((seed ^ mix32(index + 0x9e3779b9)) >>> 0);

// ---- fixtures ------------------------------------------------------------------------------------------------

export interface FuzzBase {
  id: string;
  quote: Uint8Array;
  collateral: Collateral;
  nowMs: number;
  layout: QuoteLayout;
  /** expected.json says this fixture verifies (before policy): mutations of it test "never verified" hardest. */
  accepts: boolean;
}

export const DEFAULT_FIXTURES = path.resolve(process.cwd(), 'test/fixtures/tdx');

/** Every case of expected.json, parsed through the same entry points the CLI uses. */
export function loadFuzzBases(fixturesDir = DEFAULT_FIXTURES): FuzzBase[] {
  const cases = JSON.parse(readFileSync(path.join(fixturesDir, 'expected.json'), 'utf8')) as Array<{
    id: string;
    quote: string;
    collateral: string;
    now_unix: number;
    expected: { accept: boolean };
  }>;
  return cases.map((c) => {
    const quote = parseQuoteText(new Uint8Array(readFileSync(path.join(fixturesDir, c.quote))));
    return {
      id: c.id,
      quote,
      collateral: parseCollateralJson(readFileSync(path.join(fixturesDir, c.collateral), 'utf8')),
      nowMs: c.now_unix * 1000,
      layout: quoteLayout(quote),
      accepts: c.expected.accept,
    };
  });
}

// ---- quote layout (read independently of lib/attest/quote.ts, from the length fields) -------------------------

export interface LengthField {
  name: string;
  offset: number;
  size: 2 | 4;
}

export interface QuoteLayout {
  /** Region name → [start, end). */
  regions: Array<{ name: string; start: number; end: number }>;
  lengthFields: LengthField[];
  pemStart: number;
  /** End of the signature data: everything after it must be zero padding. */
  end: number;
  /** Offsets of the three length fields that contain the PEM text (adjusted when the PEM is rebuilt). */
  enclosingLengths: LengthField[];
}

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
function writeLe(b: Uint8Array, o: number, size: 2 | 4, v: number): void {
  for (let i = 0; i < size; i++) b[o + i] = (v >>> (8 * i)) & 0xff;
}

export function quoteLayout(q: Uint8Array): QuoteLayout {
  const version = u16(q, 0);
  const regions: QuoteLayout['regions'] = [{ name: 'header', start: 0, end: 48 }];
  const lengthFields: LengthField[] = [];
  let bodyEnd: number;
  if (version === 5) {
    lengthFields.push({ name: 'v5 body size', offset: 50, size: 4 });
    regions.push({ name: 'body descriptor', start: 48, end: 54 });
    bodyEnd = 54 + u32(q, 50);
    regions.push({ name: 'body', start: 54, end: bodyEnd });
  } else {
    bodyEnd = 48 + (version === 3 || u32(q, 4) === 0 ? 384 : 584);
    regions.push({ name: 'body', start: 48, end: bodyEnd });
  }
  lengthFields.push({ name: 'signature data length', offset: bodyEnd, size: 4 });
  const sigStart = bodyEnd + 4;
  const end = sigStart + u32(q, bodyEnd);
  regions.push({ name: 'quote signature', start: sigStart, end: sigStart + 64 });
  regions.push({ name: 'attestation key', start: sigStart + 64, end: sigStart + 128 });
  let p = sigStart + 128;
  const enclosing: LengthField[] = [lengthFields.at(-1)!];
  if (version !== 3) {
    lengthFields.push(
      { name: 'certification data type', offset: p, size: 2 },
      { name: 'certification data size', offset: p + 2, size: 4 },
    );
    enclosing.push(lengthFields.at(-1)!);
    regions.push({ name: 'certification data header', start: p, end: p + 6 });
    p += 6;
  }
  regions.push({ name: 'QE report', start: p, end: p + 384 });
  regions.push({ name: 'QE report signature', start: p + 384, end: p + 448 });
  p += 448;
  lengthFields.push({ name: 'QE auth data length', offset: p, size: 2 });
  const authLen = u16(q, p);
  regions.push({ name: 'QE auth data', start: p, end: p + 2 + authLen });
  p += 2 + authLen;
  lengthFields.push({ name: 'PCK chain type', offset: p, size: 2 }, { name: 'PCK chain size', offset: p + 2, size: 4 });
  enclosing.push(lengthFields.at(-1)!);
  regions.push({ name: 'PCK chain header', start: p, end: p + 6 });
  const pemStart = p + 6;
  const pemEnd = pemStart + u32(q, p + 2);
  regions.push({ name: 'PCK chain PEM', start: pemStart, end: pemEnd });
  if (pemEnd !== end || end > q.length)
    throw new Error(`fixture layout does not add up (${pemEnd} vs ${end}, length ${q.length})`);
  if (end < q.length) regions.push({ name: 'trailing padding', start: end, end: q.length });
  return { regions, lengthFields, pemStart, end, enclosingLengths: enclosing };
}

// ---- small DER / PEM helpers (just enough to find TBS bytes) -------------------------------------------------

/** [start, end) of the first element inside the outer SEQUENCE (the TBS of a certificate or CRL). */
function tbsRange(der: Uint8Array): [number, number] {
  const header = (o: number): [number, number] => {
    const first = der[o + 1]!;
    if (first < 0x80) return [o + 2, first];
    const n = first & 0x7f;
    let len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[o + 2 + i]!;
    return [o + 2 + n, len];
  };
  const [inner] = header(0);
  const [tbsContent, tbsLen] = header(inner);
  return [inner, tbsContent + tbsLen];
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----/g;

function pemToDers(pem: string): Uint8Array[] {
  return [...pem.matchAll(PEM_BLOCK)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}

function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const fromLatin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** Flips one random bit inside the TBS of `der` (signed bytes: the issuer's signature no longer matches). */
function flipTbs(rng: Prng, der: Uint8Array): { der: Uint8Array; at: number } {
  const [start, end] = tbsRange(der);
  const out = Uint8Array.from(der);
  const at = rng.range(start, end - 1);
  out[at]! ^= 1 << rng.int(8);
  return { der: out, at };
}

// ---- quote mutations ------------------------------------------------------------------------------------------

interface QuoteMutation {
  quote: Uint8Array;
  what: string;
  /** The mutation changed signed bytes in a way the byte comparison below cannot see (PEM-level edits). */
  signed?: boolean;
  /**
   * A rebuilt PEM chain with every enclosing length fixed up: those length changes are the point, not signed
   * bytes, so later mutations are compared against this quote instead of the fixture.
   */
  rebuilt?: boolean;
}

function randomOffset(rng: Prng, layout: QuoteLayout, length: number): number {
  const roll = rng.next();
  if (roll < 0.5 || length === 0) return rng.int(Math.max(1, length));
  if (roll < 0.8) {
    // Near a region boundary, where off-by-one parsers break.
    const r = rng.pick(layout.regions);
    return Math.min(length - 1, Math.max(0, (rng.chance(0.5) ? r.start : r.end) + rng.range(-2, 2)));
  }
  const f = rng.pick(layout.lengthFields);
  return Math.min(length - 1, f.offset + rng.int(f.size));
}

/** Rebuilds the quote with a new PEM text and every enclosing length fixed, so the parser gets past it. */
function withPem(base: Uint8Array, layout: QuoteLayout, pem: Uint8Array): Uint8Array {
  const oldPemLen = layout.end - layout.pemStart;
  const out = new Uint8Array(layout.pemStart + pem.length + (base.length - layout.end));
  out.set(base.subarray(0, layout.pemStart));
  out.set(pem, layout.pemStart);
  out.set(base.subarray(layout.end), layout.pemStart + pem.length);
  for (const f of layout.enclosingLengths) writeLe(out, f.offset, f.size, u32(base, f.offset) - oldPemLen + pem.length);
  return out;
}

const QUOTE_MUTATORS: Array<(rng: Prng, q: Uint8Array, layout: QuoteLayout) => QuoteMutation> = [
  function flipBit(rng, q, layout) {
    const out = Uint8Array.from(q);
    const at = randomOffset(rng, layout, q.length);
    const bit = rng.int(8);
    out[at]! ^= 1 << bit;
    return { quote: out, what: `flip bit ${bit} @${at}` };
  },
  function randomBytes(rng, q, layout) {
    const out = Uint8Array.from(q);
    const at = randomOffset(rng, layout, q.length);
    const n = Math.min(rng.range(1, 8), q.length - at);
    out.set(rng.bytes(n), at);
    return { quote: out, what: `${n} random bytes @${at}` };
  },
  function lengthField(rng, q, layout) {
    const out = Uint8Array.from(q);
    const f = rng.pick(layout.lengthFields);
    const max = f.size === 2 ? 0xffff : 0xffffffff;
    const orig = f.size === 2 ? u16(q, f.offset) : u32(q, f.offset);
    const v = rng.pick([0, 1, orig - 1, orig + 1, orig * 2, max, max - 1, 0x7fffffff & max, 0x10000, rng.int(max + 1)]);
    writeLe(out, f.offset, f.size, v >>> 0);
    return { quote: out, what: `${f.name} @${f.offset} := ${v >>> 0}` };
  },
  function insert(rng, q, layout) {
    const at = randomOffset(rng, layout, q.length);
    const n = rng.range(1, 16);
    const ins = rng.chance(0.3) ? new Uint8Array(n) : rng.bytes(n);
    const out = new Uint8Array(q.length + n);
    out.set(q.subarray(0, at));
    out.set(ins, at);
    out.set(q.subarray(at), at + n);
    return { quote: out, what: `insert ${n} bytes @${at}` };
  },
  function remove(rng, q, layout) {
    const at = randomOffset(rng, layout, q.length);
    const n = Math.min(rng.range(1, 64), q.length - at);
    const out = new Uint8Array(q.length - n);
    out.set(q.subarray(0, at));
    out.set(q.subarray(at + n), at);
    return { quote: out, what: `delete ${n} bytes @${at}` };
  },
  function truncate(rng, q, layout) {
    const len = rng.chance(0.6)
      ? Math.max(
          0,
          Math.min(q.length - 1, rng.pick(layout.regions)[rng.chance(0.5) ? 'start' : 'end'] + rng.range(-2, 2)),
        )
      : rng.int(q.length);
    return { quote: q.slice(0, len), what: `truncate to ${len}` };
  },
  function append(rng, q) {
    const n = rng.range(1, 64);
    const zeros = rng.chance(0.5);
    const out = new Uint8Array(q.length + n);
    out.set(q);
    if (!zeros) out.set(rng.bytes(n), q.length);
    return { quote: out, what: `append ${n} ${zeros ? 'zero' : 'random'} bytes` };
  },
  function pemCertTbs(rng, q, layout) {
    // Flip a signed byte of the PCK leaf or the PCK CA certificate, re-encode, fix every length.
    const ders = pemToDers(latin1(q.subarray(layout.pemStart, layout.end)));
    const which = rng.int(Math.min(2, ders.length));
    const { der, at } = flipTbs(rng, ders[which]!);
    ders[which] = der;
    const pem = fromLatin1(`${ders.map(derToPem).join('')}\0`);
    return {
      quote: withPem(q, layout, pem),
      what: `PCK chain cert ${which} TBS bit flip @${at}`,
      signed: true,
      rebuilt: true,
    };
  },
  function pemText(rng, q, layout) {
    // Robustness only: edits of the PEM text whose decoded certificates may or may not change.
    const text = latin1(q.subarray(layout.pemStart, layout.end));
    const ders = pemToDers(text);
    const kind = rng.int(7);
    let pem: string;
    let what: string;
    if (kind === 0) {
      const at = rng.int(text.length);
      pem = text.slice(0, at) + String.fromCharCode(rng.int(256)) + text.slice(at + 1);
      what = `PEM char @${at} replaced`;
    } else if (kind === 1) {
      pem = [...ders].reverse().map(derToPem).join('') + '\0';
      what = 'PEM chain reversed';
    } else if (kind === 2) {
      const drop = rng.int(ders.length);
      pem =
        ders
          .filter((_, i) => i !== drop)
          .map(derToPem)
          .join('') + '\0';
      what = `PEM cert ${drop} dropped`;
    } else if (kind === 3) {
      const dup = rng.int(ders.length);
      pem = [...ders, ders[dup]!].map(derToPem).join('') + '\0';
      what = `PEM cert ${dup} duplicated`;
    } else if (kind === 4) {
      const cut = rng.int(text.length);
      pem = text.slice(0, cut);
      what = `PEM text cut at ${cut}`;
    } else if (kind === 5) {
      // Many certificates: bounded work per certificate, not an unbounded chain walk.
      pem = Array.from({ length: rng.range(4, 40) }, () => derToPem(ders[rng.int(ders.length)]!)).join('');
      what = 'PEM chain of many certificates';
    } else {
      // A certificate whose DER length field claims far more than is there.
      const der = Uint8Array.from(ders[0]!);
      der[1] = 0x84;
      der.set([0x7f, 0xff, 0xff, 0xff].slice(0, Math.min(4, der.length - 2)), 2);
      pem = [der, ...ders.slice(1)].map(derToPem).join('') + '\0';
      what = 'PEM leaf with a huge DER length';
    }
    return { quote: withPem(q, layout, fromLatin1(pem)), what, rebuilt: true };
  },
];

/** Bytes after `end` that are not zero padding. */
const nonZeroAfter = (q: Uint8Array, end: number) => q.subarray(end).some((b) => b !== 0);

function signedBytesChanged(orig: Uint8Array, layout: QuoteLayout, q: Uint8Array): boolean {
  if (q.length < layout.end) return true;
  let changed = false;
  for (let i = 0; i < layout.pemStart; i++) if (q[i] !== orig[i]) changed = true;
  if (!changed) return nonZeroAfter(q, layout.end);
  return !sameMeaning(orig, layout, q);
}

/**
 * Edits to unsigned framing can leave a quote that says exactly what the original said: e.g. shrinking both the
 * signature data length and the PCK chain size by one moves the chain's terminating NUL into the zero padding.
 * Such a quote is the original re-framed, and verifying it is right. Judged from this harness's own layout
 * reading: every region's bytes equal, the PEM text equal up to trailing NULs, only zero padding after.
 */
function sameMeaning(orig: Uint8Array, layout: QuoteLayout, q: Uint8Array): boolean {
  let mutated: QuoteLayout;
  try {
    mutated = quoteLayout(q);
  } catch {
    return false;
  }
  if (nonZeroAfter(q, mutated.end)) return false;
  const bytesOf = (buf: Uint8Array, l: QuoteLayout, name: string) => {
    const r = l.regions.find((x) => x.name === name);
    return r ? Buffer.from(buf.subarray(r.start, r.end)) : null;
  };
  for (const name of [
    'header',
    'body descriptor',
    'body',
    'quote signature',
    'attestation key',
    'QE report',
    'QE report signature',
    'QE auth data',
  ]) {
    const a = bytesOf(orig, layout, name);
    const b = bytesOf(q, mutated, name);
    if ((a === null) !== (b === null) || (a && b && !a.equals(b))) return false;
  }
  const pem = (buf: Uint8Array, l: QuoteLayout) =>
    bytesOf(buf, l, 'PCK chain PEM')!.toString('latin1').replace(/\0+$/, '');
  return u16(q, mutated.pemStart - 6) === u16(orig, layout.pemStart - 6) && pem(orig, layout) === pem(q, mutated);
}

// ---- collateral mutations -------------------------------------------------------------------------------------

type CollateralKey = keyof Collateral;
const COLLATERAL_KEYS: CollateralKey[] = [
  'pck_crl_issuer_chain',
  'root_ca_crl',
  'pck_crl',
  'tcb_info_issuer_chain',
  'tcb_info',
  'tcb_info_signature',
  'qe_identity_issuer_chain',
  'qe_identity',
  'qe_identity_signature',
];

interface CollateralMutation {
  collateral: Record<string, unknown>;
  what: string;
  signed: boolean;
}

const HEX = '0123456789abcdef';

const COLLATERAL_MUTATORS: Array<(rng: Prng, c: Collateral) => CollateralMutation> = [
  function signedJsonChar(rng, c) {
    const key = rng.pick(['tcb_info', 'qe_identity'] as const);
    const text = c[key];
    const at = rng.int(text.length);
    let ch = String.fromCharCode(rng.range(0x20, 0x7e));
    if (ch === text[at]) ch = ch === 'x' ? 'y' : 'x';
    return {
      collateral: { ...c, [key]: text.slice(0, at) + ch + text.slice(at + 1) },
      what: `${key} char @${at} -> ${JSON.stringify(ch)}`,
      signed: true,
    };
  },
  function signatureNibble(rng, c) {
    const key = rng.pick(['tcb_info_signature', 'qe_identity_signature'] as const);
    const text = c[key];
    const at = rng.int(text.length);
    const old = parseInt(text[at]!, 16);
    const nibble = HEX[(old + rng.range(1, 15)) % 16]!;
    return {
      collateral: { ...c, [key]: text.slice(0, at) + nibble + text.slice(at + 1) },
      what: `${key} nibble @${at}`,
      signed: true,
    };
  },
  function crlTbs(rng, c) {
    const key = rng.pick(['pck_crl', 'root_ca_crl'] as const);
    const { der, at } = flipTbs(rng, new Uint8Array(Buffer.from(c[key], 'hex')));
    return {
      collateral: { ...c, [key]: Buffer.from(der).toString('hex') },
      what: `${key} TBS bit flip @${at}`,
      signed: true,
    };
  },
  function signingCertTbs(rng, c) {
    const key = rng.pick(['tcb_info_issuer_chain', 'qe_identity_issuer_chain'] as const);
    const ders = pemToDers(c[key]);
    const { der, at } = flipTbs(rng, ders[0]!);
    return {
      collateral: { ...c, [key]: [der, ...ders.slice(1)].map(derToPem).join('') },
      what: `${key} signing cert TBS bit flip @${at}`,
      signed: true,
    };
  },
  function fieldBroken(rng, c) {
    const key = rng.pick(COLLATERAL_KEYS);
    const value = rng.pick<[string, unknown]>([
      ['deleted', undefined],
      ['empty', ''],
      ['a number', 42],
      ['null', null],
      ['an array', [1, 2, 3]],
      ['an object', { a: 1 }],
      ['a byte array', Array.from(rng.bytes(64))],
    ]);
    const out: Record<string, unknown> = { ...c };
    if (value[0] === 'deleted') delete out[key];
    else out[key] = value[1];
    return { collateral: out, what: `${key} ${value[0]}`, signed: true };
  },
  function fieldsSwapped(rng, c) {
    const a = rng.pick(COLLATERAL_KEYS);
    const b = rng.pick(COLLATERAL_KEYS);
    // Two equal values swapped (both issuer chains are often the same PEM) change nothing.
    return { collateral: { ...c, [a]: c[b], [b]: c[a] }, what: `${a} <-> ${b}`, signed: c[a] !== c[b] };
  },
  function fieldHuge(rng, c) {
    const key = rng.pick(COLLATERAL_KEYS);
    const size = rng.pick([64 * 1024, 512 * 1024, 2 * 1024 * 1024]);
    const unit = key.endsWith('chain') ? `${c[key]}` : key === 'tcb_info' || key === 'qe_identity' ? ' ' : 'ab';
    const value = rng.chance(0.5)
      ? unit.repeat(Math.ceil(size / unit.length)).slice(0, size)
      : c[key] + '0'.repeat(size);
    return { collateral: { ...c, [key]: value }, what: `${key} ${size} bytes`, signed: true };
  },
  function robustnessOnly(rng, c) {
    // Edits a verifier may legitimately ignore: the PCK CRL issuer chain, root copies, PEM whitespace.
    const key = rng.pick(['pck_crl_issuer_chain', 'tcb_info_issuer_chain', 'qe_identity_issuer_chain'] as const);
    const text = c[key];
    const at = rng.int(text.length);
    const value = rng.chance(0.5)
      ? text.slice(0, at) + text.slice(at + 1)
      : text.slice(0, at) + String.fromCharCode(rng.int(128)) + text.slice(at + 1);
    return { collateral: { ...c, [key]: value }, what: `${key} PEM text edit @${at}`, signed: false };
  },
];

// ---- cases ----------------------------------------------------------------------------------------------------

export interface FuzzCase {
  index: number;
  base: string;
  mutations: string[];
  quote: Uint8Array;
  /** Passed to verifyQuote as is (possibly not a valid Collateral), or first through parseCollateralJson. */
  collateral: Record<string, unknown>;
  viaCollateralJson: boolean;
  /** Quote handed over as hex text through parseQuoteText. */
  viaHexText: boolean;
  nowMs: number;
  mustReject: boolean;
}

export function makeCase(bases: readonly FuzzBase[], seed: number, index: number): FuzzCase {
  const rng = new Prng(caseSeed(seed, index));
  // Half the cases start from a fixture that verifies: there a wrongly tolerated mutation would show as verified.
  const accepting = bases.filter((b) => b.accepts);
  const base = accepting.length && rng.chance(0.5) ? rng.pick(accepting) : rng.pick(bases);
  const mutations: string[] = [];
  let quote = base.quote;
  let collateral: Record<string, unknown> = { ...base.collateral };
  let signed = false;

  const mutateQuote = rng.chance(0.85);
  const mutateCollateral = !mutateQuote || rng.chance(0.2);
  if (mutateQuote) {
    // Mostly one mutation (precise), sometimes several (deeper garbage).
    const n = rng.chance(0.7) ? 1 : rng.range(2, 4);
    // What later byte edits are compared against: the fixture, or the quote with a rebuilt PEM chain.
    let reference = { quote: base.quote, layout: base.layout };
    for (let i = 0; i < n; i++) {
      // Structured PEM edits need an intact layout: only as the first mutation.
      const pool = i === 0 ? QUOTE_MUTATORS : QUOTE_MUTATORS.filter((m) => !m.name.startsWith('pem'));
      const m = rng.pick(pool)(rng, quote, base.layout);
      quote = m.quote;
      signed ||= m.signed === true;
      if (m.rebuilt) reference = { quote, layout: quoteLayout(quote) };
      mutations.push(m.what);
    }
    signed ||= signedBytesChanged(reference.quote, reference.layout, quote);
  }
  if (mutateCollateral) {
    const m = rng.pick(COLLATERAL_MUTATORS)(rng, base.collateral);
    collateral = m.collateral;
    signed ||= m.signed;
    mutations.push(m.what);
  }
  let nowMs = base.nowMs;
  if (rng.chance(0.05)) {
    nowMs += rng.range(-3 * 365, 3 * 365) * 86_400_000;
    mutations.push(`now ${new Date(nowMs).toISOString()}`);
  }
  return {
    index,
    base: base.id,
    mutations,
    quote,
    collateral,
    viaCollateralJson: rng.chance(0.5),
    viaHexText: rng.chance(0.1),
    nowMs,
    mustReject: signed,
  };
}

export const describeCase = (c: FuzzCase) => `#${c.index} ${c.base}: ${c.mutations.join('; ')}`;

/** Every status but Revoked: fuzzing is about the checks, not our stricter default acceptance policy. */
const PERMISSIVE = { allowedStatuses: TCB_STATUSES.filter((s) => s !== 'Revoked') };

export type CaseOutcome =
  | { kind: 'verified'; ms: number }
  | { kind: 'rejected'; code: string; ms: number }
  | { kind: 'exception'; error: string; ms: number };

/** Runs one case through the real entry points; never throws. */
export async function runCase(c: FuzzCase): Promise<CaseOutcome> {
  const t0 = performance.now();
  try {
    let quote = c.quote;
    let collateral = c.collateral as unknown as Collateral;
    try {
      if (c.viaHexText) quote = parseQuoteText(Buffer.from(c.quote).toString('hex'));
      if (c.viaCollateralJson) collateral = parseCollateralJson(JSON.stringify(c.collateral));
    } catch (err) {
      // A typed rejection of the input is fine; anything else escaping the parsers is a finding.
      if (isAttestError(err)) return { kind: 'rejected', code: err.code, ms: performance.now() - t0 };
      throw err;
    }
    const result: QuoteVerification = await verifyQuote(quote, collateral, { now: c.nowMs, policy: PERMISSIVE });
    const ms = performance.now() - t0;
    if (typeof result !== 'object' || result === null || typeof result.verified !== 'boolean') {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- reports whatever came back, as JavaScript prints it
      return { kind: 'exception', error: `not a QuoteVerification: ${String(result)}`, ms };
    }
    // `valid` is the verdict before policy: a mutated signed region must fail that too.
    if (result.verified || result.valid) return { kind: 'verified', ms };
    // verifyQuote turns anything unexpected (a TypeError, a RangeError) into verifier_failed: that is the
    // crash a fuzzer looks for, caught and relabelled. The fuzzer never passes an invalid `now`, its only
    // expected use.
    if (result.error?.code === 'verifier_failed')
      return { kind: 'exception', error: `verifier_failed: ${result.error.message}`, ms };
    return { kind: 'rejected', code: result.error?.code ?? '(no error code)', ms };
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { kind: 'exception', error, ms: performance.now() - t0 };
  }
}

export interface FuzzStats {
  seed: number;
  start: number;
  cases: number;
  verified: number;
  rejectedByCode: Record<string, number>;
  exceptions: number;
  verifiedOnMutation: number;
  /** The first few findings, each with its replayable description. */
  findings: string[];
  slowest: { ms: number; what: string };
  totalMs: number;
}

const MAX_FINDINGS = 20;

export async function runFuzz(opts: {
  bases: readonly FuzzBase[];
  seed: number;
  start?: number;
  count: number;
  onProgress?: (done: number) => void;
}): Promise<FuzzStats> {
  const start = opts.start ?? 0;
  const stats: FuzzStats = {
    seed: opts.seed,
    start,
    cases: 0,
    verified: 0,
    rejectedByCode: {},
    exceptions: 0,
    verifiedOnMutation: 0,
    findings: [],
    slowest: { ms: 0, what: '' },
    totalMs: 0,
  };
  const t0 = performance.now();
  for (let i = start; i < start + opts.count; i++) {
    const c = makeCase(opts.bases, opts.seed, i);
    const out = await runCase(c);
    stats.cases++;
    if (out.ms > stats.slowest.ms) stats.slowest = { ms: out.ms, what: describeCase(c) };
    if (out.kind === 'exception') {
      stats.exceptions++;
      if (stats.findings.length < MAX_FINDINGS) stats.findings.push(`EXCEPTION ${out.error} in ${describeCase(c)}`);
    } else if (out.kind === 'verified') {
      stats.verified++;
      if (c.mustReject) {
        stats.verifiedOnMutation++;
        if (stats.findings.length < MAX_FINDINGS)
          stats.findings.push(`VERIFIED a mutated signed region: ${describeCase(c)}`);
      }
    } else {
      stats.rejectedByCode[out.code] = (stats.rejectedByCode[out.code] ?? 0) + 1;
    }
    if (opts.onProgress && stats.cases % 1000 === 0) opts.onProgress(stats.cases);
  }
  stats.totalMs = performance.now() - t0;
  return stats;
}

/** Sums the stats of disjoint index ranges (worker threads) into one. */
export function mergeStats(parts: FuzzStats[]): FuzzStats {
  const out: FuzzStats = {
    ...parts[0]!,
    rejectedByCode: {},
    findings: [],
    cases: 0,
    verified: 0,
    exceptions: 0,
    verifiedOnMutation: 0,
    totalMs: 0,
  };
  out.start = Math.min(...parts.map((p) => p.start));
  for (const p of parts) {
    out.cases += p.cases;
    out.verified += p.verified;
    out.exceptions += p.exceptions;
    out.verifiedOnMutation += p.verifiedOnMutation;
    out.totalMs = Math.max(out.totalMs, p.totalMs);
    out.findings.push(...p.findings);
    for (const [k, v] of Object.entries(p.rejectedByCode)) out.rejectedByCode[k] = (out.rejectedByCode[k] ?? 0) + v;
    if (p.slowest.ms > out.slowest.ms) out.slowest = p.slowest;
  }
  out.findings = out.findings.slice(0, MAX_FINDINGS);
  return out;
}

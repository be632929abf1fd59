import { toHex, utf8Decode } from '../bytes';
import { AttestError } from './errors';
import type { TeeType } from './types';

/**
 * Strict parser of Intel DCAP quotes: v3 (SGX), v4 (TDX or SGX body) and v5 (body descriptor; SGX, TD 1.0 or
 * TD 1.5). Every length is checked against the buffer before it is used, so no input can make us read out of
 * bounds or allocate more than the input's size. Layout: specs/tdx-verification.md §1.
 */
export const INTEL_QE_VENDOR_ID = '939a7233f79c4ca9940a0db3957f0607';
const HEADER_LEN = 48;
const ENCLAVE_REPORT_LEN = 384;
const TD10_LEN = 584;
const TD15_LEN = 648;
const ATTESTATION_KEY_TYPE_ECDSA_P256 = 2;
const TEE_TYPE_SGX = 0x00000000;
const TEE_TYPE_TDX = 0x00000081;
const CERT_TYPE_PCK_CHAIN = 5;
const CERT_TYPE_QE_REPORT = 6;
/** Far above any real quote (~5 KB); bounds work on hostile input. */
export const MAX_QUOTE_BYTES = 64 * 1024;

export type BodyType = 'td10' | 'td15' | 'sgx';

export interface TdReport {
  teeTcbSvn: Uint8Array;
  mrSeam: Uint8Array;
  mrSignerSeam: Uint8Array;
  seamAttributes: Uint8Array;
  tdAttributes: Uint8Array;
  xfam: Uint8Array;
  mrTd: Uint8Array;
  mrConfigId: Uint8Array;
  mrOwner: Uint8Array;
  mrOwnerConfig: Uint8Array;
  rtmrs: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  reportData: Uint8Array;
  teeTcbSvn2?: Uint8Array;
  mrServiceTd?: Uint8Array;
}

export interface EnclaveReport {
  raw: Uint8Array;
  cpuSvn: Uint8Array;
  miscSelect: Uint8Array;
  attributes: Uint8Array;
  mrEnclave: Uint8Array;
  mrSigner: Uint8Array;
  isvProdId: number;
  isvSvn: number;
  reportData: Uint8Array;
}

export interface ParsedQuote {
  version: 3 | 4 | 5;
  teeType: TeeType;
  bodyType: BodyType;
  qeVendorId: string;
  header: Uint8Array;
  td: TdReport | null;
  enclave: EnclaveReport | null;
  /** Header ‖ (descriptor) ‖ body: what the attestation key signs. */
  signedRegion: Uint8Array;
  quoteSignature: Uint8Array;
  /** Raw P-256 public key X‖Y (64 bytes). */
  attestationKey: Uint8Array;
  qeReport: EnclaveReport;
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  /** PEM text of the PCK chain (leaf, CA, root), trailing NULs removed. */
  pckChainPem: string;
  /** Length of the quote without trailing zero padding. */
  length: number;
}

const malformed = (message: string) => new AttestError('quote_malformed', message);
const unsupported = (message: string) => new AttestError('quote_unsupported', message);

/** Bounds-checked little-endian cursor over the quote. */
class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  take(n: number, what: string): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw malformed(
        `The quote is truncated: ${what} needs ${n} bytes at offset ${this.pos}, ${Math.max(0, this.buf.length - this.pos)} left.`,
      );
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u16(what: string): number {
    const b = this.take(2, what);
    return b[0]! | (b[1]! << 8);
  }
  u32(what: string): number {
    const b = this.take(4, what);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }
}

export function parseEnclaveReport(raw: Uint8Array): EnclaveReport {
  const u16 = (o: number) => raw[o]! | (raw[o + 1]! << 8);
  return {
    raw,
    cpuSvn: raw.subarray(0, 16),
    miscSelect: raw.subarray(16, 20),
    attributes: raw.subarray(48, 64),
    mrEnclave: raw.subarray(64, 96),
    mrSigner: raw.subarray(128, 160),
    isvProdId: u16(256),
    isvSvn: u16(258),
    reportData: raw.subarray(320, 384),
  };
}

function parseTdReport(raw: Uint8Array, td15: boolean): TdReport {
  const f = (off: number, len: number) => raw.subarray(off, off + len);
  return {
    teeTcbSvn: f(0, 16),
    mrSeam: f(16, 48),
    mrSignerSeam: f(64, 48),
    seamAttributes: f(112, 8),
    tdAttributes: f(120, 8),
    xfam: f(128, 8),
    mrTd: f(136, 48),
    mrConfigId: f(184, 48),
    mrOwner: f(232, 48),
    mrOwnerConfig: f(280, 48),
    rtmrs: [f(328, 48), f(376, 48), f(424, 48), f(472, 48)],
    reportData: f(520, 64),
    ...(td15 ? { teeTcbSvn2: f(584, 16), mrServiceTd: f(600, 48) } : {}),
  };
}

function readBody(r: Reader, version: number, teeType: TeeType): { bodyType: BodyType; body: Uint8Array } {
  if (version === 5) {
    const type = r.u16('body type');
    const size = r.u32('body size');
    const expected = type === 1 ? ENCLAVE_REPORT_LEN : type === 2 ? TD10_LEN : type === 3 ? TD15_LEN : -1;
    if (expected < 0) throw unsupported(`Unknown v5 body type ${type}.`);
    if (size !== expected) throw malformed(`v5 body type ${type} must be ${expected} bytes, the quote says ${size}.`);
    const bodyType: BodyType = type === 1 ? 'sgx' : type === 2 ? 'td10' : 'td15';
    if ((bodyType === 'sgx') !== (teeType === 'SGX'))
      throw malformed(`v5 body type ${type} does not match TEE type ${teeType}.`);
    return { bodyType, body: r.take(size, 'report body') };
  }
  if (teeType === 'SGX') return { bodyType: 'sgx', body: r.take(ENCLAVE_REPORT_LEN, 'enclave report') };
  return { bodyType: 'td10', body: r.take(TD10_LEN, 'TD report') };
}

function readQeReportSection(r: Reader) {
  const qeReportRaw = r.take(ENCLAVE_REPORT_LEN, 'QE report');
  const qeReportSignature = r.take(64, 'QE report signature');
  const authLen = r.u16('QE auth data length');
  const qeAuthData = r.take(authLen, 'QE auth data');
  const certType = r.u16('certification data type');
  if (certType !== CERT_TYPE_PCK_CHAIN) {
    throw unsupported(
      certType >= 1 && certType <= 4
        ? `Certification data type ${certType} (PPID) needs Intel PCS to find the PCK certificate; only quotes carrying the PCK chain (type 5) are supported.`
        : `Unsupported certification data type ${certType}; expected 5 (PCK certificate chain).`,
    );
  }
  const certSize = r.u32('certification data size');
  const chainBytes = r.take(certSize, 'PCK certificate chain');
  let pckChainPem: string;
  try {
    pckChainPem = utf8Decode(chainBytes).replace(/\0+$/, '');
  } catch {
    throw malformed('The PCK certificate chain in the quote is not text.');
  }
  return { qeReport: parseEnclaveReport(qeReportRaw), qeReportSignature, qeAuthData, pckChainPem };
}

export function parseQuote(quote: Uint8Array): ParsedQuote {
  if (!(quote instanceof Uint8Array)) throw malformed('The quote must be bytes.');
  if (quote.length > MAX_QUOTE_BYTES)
    throw malformed(`The quote is ${quote.length} bytes; at most ${MAX_QUOTE_BYTES} are accepted.`);
  const r = new Reader(quote);
  const header = r.take(HEADER_LEN, 'header');
  const hr = new Reader(header);
  const version = hr.u16('version');
  const keyType = hr.u16('attestation key type');
  const teeRaw = hr.u32('TEE type');
  hr.take(4, 'reserved');
  const qeVendorId = toHex(hr.take(16, 'QE vendor id'));
  if (version !== 3 && version !== 4 && version !== 5)
    throw unsupported(`Unsupported quote version ${version} (3, 4 or 5 expected).`);
  if (keyType !== ATTESTATION_KEY_TYPE_ECDSA_P256) {
    throw unsupported(`Unsupported attestation key type ${keyType}; only 2 (ECDSA P-256) is accepted.`);
  }
  let teeType: TeeType;
  if (teeRaw === TEE_TYPE_TDX) teeType = 'TDX';
  else if (teeRaw === TEE_TYPE_SGX) teeType = 'SGX';
  else throw unsupported(`Unknown TEE type 0x${teeRaw.toString(16)}.`);
  if (version === 3 && teeType !== 'SGX') throw malformed('A version 3 quote must be an SGX quote.');
  if (qeVendorId !== INTEL_QE_VENDOR_ID)
    throw unsupported(`Unknown QE vendor id ${qeVendorId}; only Intel's QE is trusted.`);

  const { bodyType, body } = readBody(r, version, teeType);
  const signedRegion = quote.subarray(0, r.pos);
  const sigDataLen = r.u32('signature data length');
  const sigEnd = r.pos + sigDataLen;
  if (sigEnd > quote.length)
    throw malformed(`The signature data claims ${sigDataLen} bytes but only ${quote.length - r.pos} follow.`);
  const s = new Reader(quote.subarray(0, sigEnd));
  s.pos = r.pos;
  const quoteSignature = s.take(64, 'quote signature');
  const attestationKey = s.take(64, 'attestation key');
  let section: ReturnType<typeof readQeReportSection>;
  if (version === 3) {
    section = readQeReportSection(s);
  } else {
    const outerType = s.u16('certification data type');
    if (outerType !== CERT_TYPE_QE_REPORT)
      throw unsupported(`Unsupported certification data type ${outerType}; expected 6 (QE report).`);
    const outerSize = s.u32('certification data size');
    const outerEnd = s.pos + outerSize;
    if (outerEnd !== sigEnd)
      throw malformed('The QE report certification data does not fill the signature data exactly.');
    section = readQeReportSection(s);
  }
  if (s.pos !== sigEnd) throw malformed('The signature data has bytes its fields do not account for.');
  // Real quotes carry zero padding after the signature data; anything else there is unsigned data riding along.
  for (let i = sigEnd; i < quote.length; i++) {
    if (quote[i] !== 0) throw malformed(`The quote has non-zero bytes after its signature data (offset ${i}).`);
  }
  return {
    version,
    teeType,
    bodyType,
    qeVendorId,
    header,
    td: bodyType === 'sgx' ? null : parseTdReport(body, bodyType === 'td15'),
    enclave: bodyType === 'sgx' ? parseEnclaveReport(body) : null,
    signedRegion,
    quoteSignature,
    attestationKey,
    ...section,
    length: sigEnd,
  };
}

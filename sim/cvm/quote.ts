/**
 * Builds Intel DCAP v4 TDX quotes (TD report 1.0) the way a TDX host's quoting enclave would, signed by the
 * simulator's TEST PKI. Layout: specs/tdx-verification.md §1 (and lib/attest/quote.ts, which parses it back).
 *
 *   header (48) ‖ TD report (584) ‖ u32 signature data length ‖ quote signature (64) ‖ attestation key (64)
 *   ‖ u16 6 ‖ u32 size ‖ QE report (384) ‖ QE report signature (64) ‖ u16 auth len ‖ QE auth data
 *   ‖ u16 5 ‖ u32 size ‖ PEM chain (leaf, PCK CA, root) ‖ NUL
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex } from '../../lib/bytes';
import { signRaw, type PckPlatform, type SimKeyPair } from './test-pki';
import { SIM_QE, SIM_SGX_COMPONENTS, SIM_TD_ATTRIBUTES, SIM_TEE_TCB_SVN, SIM_XFAM } from './platform';

export const INTEL_QE_VENDOR_ID = '939a7233f79c4ca9940a0db3957f0607';
const TEE_TYPE_TDX = 0x81;
const ATTESTATION_KEY_TYPE_P256 = 2;
const CERT_TYPE_PCK_CHAIN = 5;
const CERT_TYPE_QE_REPORT = 6;

/** The TD report fields a CVM decides (lower-case hex). Everything else comes from the simulated platform. */
export interface TdReportInput {
  mrTd: string;
  rtmrs: [string, string, string, string];
  mrConfigId: string;
  reportData: string;
  /** TD attributes, 8 bytes little-endian hex; default SEPT_VE_DISABLE only. */
  tdAttributes?: string;
}

/** The quoting side of a simulated platform: its PCK certificate and its attestation key (generated at start). */
export interface QuotingEnclave {
  platform: PckPlatform;
  attestationKey: SimKeyPair;
  /** Raw P-256 public key X‖Y (64 bytes). */
  attestationPublicKey: Uint8Array;
  /** MRSEAM of the simulated TDX module. */
  mrSeam: Uint8Array;
  /** First 16 bytes of the header's user data (QE id). */
  qeId: Uint8Array;
}

export async function createQuotingEnclave(platform: PckPlatform): Promise<QuotingEnclave> {
  const attestationKey = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]);
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', attestationKey.publicKey));
  return {
    platform,
    attestationKey,
    attestationPublicKey: raw.subarray(1), // drop the 0x04 prefix
    mrSeam: crypto.getRandomValues(new Uint8Array(48)),
    qeId: crypto.getRandomValues(new Uint8Array(16)),
  };
}

const u16 = (v: number) => Uint8Array.of(v & 0xff, (v >> 8) & 0xff);
const u32 = (v: number) => Uint8Array.of(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff);

function fixedHex(hex: string, bytes: number, what: string): Uint8Array {
  if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(hex))
    throw new RangeError(`${what} must be ${bytes * 2} hex characters`);
  return fromHex(hex);
}

function header(qe: QuotingEnclave): Uint8Array {
  return concatBytes(
    u16(4),
    u16(ATTESTATION_KEY_TYPE_P256),
    u32(TEE_TYPE_TDX),
    new Uint8Array(4), // reserved (QE SVN / PCE SVN are zero in TDX v4 quotes)
    fromHex(INTEL_QE_VENDOR_ID),
    qe.qeId,
    new Uint8Array(4),
  );
}

function tdReport(qe: QuotingEnclave, td: TdReportInput): Uint8Array {
  const report = concatBytes(
    Uint8Array.from(SIM_TEE_TCB_SVN),
    qe.mrSeam,
    new Uint8Array(48), // MRSIGNERSEAM: zero for Intel's modules
    new Uint8Array(8), // SEAMATTRIBUTES
    fixedHex(td.tdAttributes ?? SIM_TD_ATTRIBUTES, 8, 'TD attributes'),
    fromHex(SIM_XFAM),
    fixedHex(td.mrTd, 48, 'MRTD'),
    fixedHex(td.mrConfigId, 48, 'MRCONFIGID'),
    new Uint8Array(48), // MROWNER
    new Uint8Array(48), // MROWNERCONFIG
    ...td.rtmrs.map((r, i) => fixedHex(r, 48, `RTMR${i}`)),
    fixedHex(td.reportData, 64, 'REPORTDATA'),
  );
  if (report.length !== 584) throw new Error(`TD report is ${report.length} bytes`);
  return report;
}

/** The QE's SGX enclave report (384 bytes) vouching for the attestation key via its REPORTDATA. */
function qeReport(qe: QuotingEnclave, authData: Uint8Array): Uint8Array {
  const binding = sha256(concatBytes(qe.attestationPublicKey, authData));
  const report = new Uint8Array(384);
  report.set(Uint8Array.from(SIM_SGX_COMPONENTS), 0); // CPUSVN
  report.set(fromHex(SIM_QE.miscSelect), 16);
  report.set(fromHex(SIM_QE.attributes), 48);
  report.set(sha256(new TextEncoder().encode('clawkeep-cvm-simulator TD_QE')), 64); // MRENCLAVE
  report.set(fromHex(SIM_QE.mrSigner), 128);
  report.set(u16(SIM_QE.isvProdId), 256);
  report.set(u16(SIM_QE.isvSvn), 258);
  report.set(binding, 320); // REPORTDATA = SHA-256(attestation key ‖ QE auth data) ‖ 32 zero bytes
  return report;
}

/** A signed v4 TDX quote for this TD report. */
export async function buildTdxQuote(qe: QuotingEnclave, td: TdReportInput): Promise<Uint8Array> {
  const signedRegion = concatBytes(header(qe), tdReport(qe, td));
  const quoteSignature = await signRaw(qe.attestationKey.privateKey, signedRegion);
  const authData = crypto.getRandomValues(new Uint8Array(32));
  const qeReportBytes = qeReport(qe, authData);
  const qeReportSignature = await signRaw(qe.platform.leaf.privateKey, qeReportBytes);
  const chain = new TextEncoder().encode(`${qe.platform.chainPem}\0`);
  const inner = concatBytes(
    qeReportBytes,
    qeReportSignature,
    u16(authData.length),
    authData,
    u16(CERT_TYPE_PCK_CHAIN),
    u32(chain.length),
    chain,
  );
  const signatureData = concatBytes(
    quoteSignature,
    qe.attestationPublicKey,
    u16(CERT_TYPE_QE_REPORT),
    u32(inner.length),
    inner,
  );
  return concatBytes(signedRegion, u32(signatureData.length), signatureData);
}

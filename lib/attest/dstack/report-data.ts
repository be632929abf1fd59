import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8Encode } from '../../bytes';

/**
 * REPORTDATA (64 bytes in the TD report) is the only caller-chosen field of a quote, and a quote has no
 * timestamp: freshness and binding to the CVM's key come from what we put here.
 */

/**
 * dstack's tag hashing (legacy `TdxQuote`, RA-TLS; dstack-attest `QuoteContentType::to_report_data`):
 * SHA-512(UTF-8 tag ‖ ":" ‖ content), 64 bytes. dstack's tags: "app-data" (default), "ratls-cert" (RA-TLS
 * public key DER), "kms-root-ca", or any custom prefix.
 */
export function dstackTaggedReportData(tag: string, content: Uint8Array): Uint8Array {
  return sha512(concatBytes(utf8Encode(tag), utf8Encode(':'), content));
}

export const CLAWKEEP_REPORT_DATA_TAG = 'clawkeep-attest-v1';
/** A nonce shorter than this would not make a quote fresh. */
export const MIN_NONCE_BYTES = 16;
const MAX_FIELD_BYTES = 0xffff;

function u32be(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

/**
 * Clawkeep's binding of a verifier nonce and the CVM's public key into REPORTDATA:
 *
 *   SHA-512( "clawkeep-attest-v1" ‖ ":" ‖ u32be(len nonce) ‖ nonce ‖ u32be(len key) ‖ key )
 *
 * i.e. the ASCII bytes 636c61776b6565702d6174746573742d7631 3a, then the nonce length as 4 bytes big-endian,
 * the nonce, the key length as 4 bytes big-endian, the key (in whatever encoding the sealing protocol
 * exchanges, e.g. a raw X25519 key or a P-256 SPKI: the bytes are hashed as given). Length prefixes keep the
 * split between nonce and key unambiguous. This is exactly dstack's tag hashing with tag "clawkeep-attest-v1"
 * and content u32be(len nonce) ‖ nonce ‖ u32be(len key) ‖ key, so a CVM can obtain it from the legacy
 * TdxQuote API or compute it and pass the 64 bytes to GetQuote.
 * @throws RangeError for a nonce under 16 bytes, an empty key, or a field over 65535 bytes
 */
export function clawkeepReportData(nonce: Uint8Array, cvmPublicKey: Uint8Array): Uint8Array {
  if (nonce.length < MIN_NONCE_BYTES || nonce.length > MAX_FIELD_BYTES) {
    throw new RangeError(`The nonce must be ${MIN_NONCE_BYTES}..${MAX_FIELD_BYTES} bytes.`);
  }
  if (cvmPublicKey.length === 0 || cvmPublicKey.length > MAX_FIELD_BYTES) {
    throw new RangeError(`The CVM public key must be 1..${MAX_FIELD_BYTES} bytes.`);
  }
  return dstackTaggedReportData(
    CLAWKEEP_REPORT_DATA_TAG,
    concatBytes(u32be(nonce.length), nonce, u32be(cvmPublicKey.length), cvmPublicKey),
  );
}

/** 32 random bytes for `clawkeepReportData`, from the platform CSPRNG. */
export function randomNonce(): Uint8Array {
  const nonce = new Uint8Array(32);
  crypto.getRandomValues(nonce);
  return nonce;
}

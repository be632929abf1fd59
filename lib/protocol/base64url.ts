import { fromBase64, toBase64 } from '../bytes';
import { invalid } from './errors';

/**
 * base64url without padding (RFC 4648 §5, padding omitted as §3.2 allows), decoded strictly: only the URL-safe
 * alphabet, no padding, no whitespace, and the unused low bits of the last character must be zero, so every
 * byte string has exactly one text form (the typage habit: reject non-canonical base64).
 */
const ALPHABET = /^[A-Za-z0-9_-]*$/;

export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * @param what - names the field in the error message.
 * @throws ProtocolError `protocol_invalid` for any non-canonical or malformed input.
 */
export function fromBase64Url(text: string, what = 'base64url value'): Uint8Array {
  // A length of 1 mod 4 cannot come from any byte string.
  if (typeof text !== 'string' || !ALPHABET.test(text) || text.length % 4 === 1)
    throw invalid(`${what} is not base64url.`);
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bytes = fromBase64(padded);
  // Round trip: catches non-zero trailing bits ("AB" and "AA" would otherwise both decode to 0x00).
  if (toBase64Url(bytes) !== text) throw invalid(`${what} is not canonical base64url.`);
  return bytes;
}

/** Strict decode that also insists on an exact decoded length. */
export function fromBase64UrlFixed(text: string, length: number, what: string): Uint8Array {
  const bytes = fromBase64Url(text, what);
  if (bytes.length !== length) throw invalid(`${what} must encode ${length} bytes.`);
  return bytes;
}

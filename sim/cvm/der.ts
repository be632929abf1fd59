/**
 * Minimal DER encoders for the parts of the simulator's test PKI that `@peculiar/asn1-x509` does not model: Intel's
 * SGX extension of a PCK certificate (a tree of SEQUENCE `{ OID, value }`) and ECDSA signature values.
 */
import { concatBytes } from '../../lib/bytes';

export function derTlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  let length: Uint8Array;
  if (n < 0x80) length = Uint8Array.of(n);
  else if (n < 0x100) length = Uint8Array.of(0x81, n);
  else if (n < 0x10000) length = Uint8Array.of(0x82, n >> 8, n & 0xff);
  else throw new RangeError('DER content too long for this encoder');
  return concatBytes(Uint8Array.of(tag), length, content);
}

export const derSequence = (...children: Uint8Array[]): Uint8Array => derTlv(0x30, concatBytes(...children));
export const derOctetString = (value: Uint8Array): Uint8Array => derTlv(0x04, value);
export const derEnumerated = (value: number): Uint8Array => derTlv(0x0a, minimalUnsigned(value));
export const derUint = (value: number): Uint8Array => derTlv(0x02, minimalUnsigned(value));

/** Content bytes of a non-negative DER INTEGER (minimal, with a leading zero when the top bit is set). */
function minimalUnsigned(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0) throw new RangeError('unsigned integer expected');
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return Uint8Array.from(bytes);
}

export function derOid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    let v = Math.floor(part / 128);
    while (v > 0) {
      chunk.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...chunk);
  }
  return derTlv(0x06, Uint8Array.from(out));
}

/** DER INTEGER of unsigned big-endian bytes (leading zeros stripped, sign byte added when needed). */
function derIntegerFromBytes(raw: Uint8Array): Uint8Array {
  let start = 0;
  while (start < raw.length - 1 && raw[start] === 0) start++;
  const body = raw.subarray(start);
  return derTlv(0x02, body[0]! & 0x80 ? concatBytes(Uint8Array.of(0), body) : body);
}

/** WebCrypto's raw r‖s → the DER SEQUENCE `{ r, s }` that X.509 certificates and CRLs carry. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  return derSequence(derIntegerFromBytes(raw.subarray(0, 32)), derIntegerFromBytes(raw.subarray(32, 64)));
}

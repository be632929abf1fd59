import { AttestError, type AttestErrorCode } from './errors';

/**
 * A minimal strict DER reader for the two structures the X.509 library does not model: ECDSA signature values
 * (SEQUENCE `{ r INTEGER, s INTEGER }`) and Intel's SGX certificate extension (a tree of SEQUENCE `{ OID, value }`).
 * Definite lengths only, minimal length encodings only, never reads past the buffer.
 */
export interface DerNode {
  tag: number;
  /** Content bytes (a view into the input). */
  value: Uint8Array;
  /** Offset just after this node in the input. */
  end: number;
}

export const DER_INTEGER = 0x02;
export const DER_OCTET_STRING = 0x04;
export const DER_OID = 0x06;
export const DER_ENUMERATED = 0x0a;
export const DER_SEQUENCE = 0x30;
export const DER_BOOLEAN = 0x01;

export function readDerNode(buf: Uint8Array, offset: number, code: AttestErrorCode, what: string): DerNode {
  const fail = (why: string) => new AttestError(code, `${what}: ${why}.`);
  if (offset + 2 > buf.length) throw fail('truncated DER');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw fail('multi-byte DER tags are not expected here');
  let len = buf[offset + 1]!;
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) throw fail('unsupported DER length');
    if (pos + n > buf.length) throw fail('truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | buf[pos + i]!;
    if (len < 0x80 || (n > 1 && buf[pos] === 0)) throw fail('non-minimal DER length');
    pos += n;
  }
  if (pos + len > buf.length) throw fail('DER length runs past the end');
  return { tag, value: buf.subarray(pos, pos + len), end: pos + len };
}

/** All direct children of a constructed node's content. */
export function readDerChildren(content: Uint8Array, code: AttestErrorCode, what: string): DerNode[] {
  const out: DerNode[] = [];
  let pos = 0;
  while (pos < content.length) {
    const node = readDerNode(content, pos, code, what);
    out.push(node);
    pos = node.end;
  }
  return out;
}

/** Dotted OID text from DER content bytes. */
export function decodeOid(value: Uint8Array): string {
  if (value.length === 0) throw new AttestError('certificate_malformed', 'Empty object identifier.');
  const first = value[0]!;
  const parts = [Math.min(2, Math.floor(first / 40)), first < 80 ? first % 40 : first - 80];
  let acc = 0;
  for (let i = 1; i < value.length; i++) {
    const b = value[i]!;
    if (acc === 0 && b === 0x80) throw new AttestError('certificate_malformed', 'Non-minimal object identifier.');
    acc = acc * 128 + (b & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 128)
      throw new AttestError('certificate_malformed', 'Object identifier too large.');
    if (!(b & 0x80)) {
      parts.push(acc);
      acc = 0;
    }
  }
  if (value[value.length - 1]! & 0x80) throw new AttestError('certificate_malformed', 'Truncated object identifier.');
  return parts.join('.');
}

/** A non-negative DER INTEGER as a number (small values only: SVNs, enums). */
export function decodeSmallUint(node: DerNode, what: string): number {
  if ((node.tag !== DER_INTEGER && node.tag !== DER_ENUMERATED) || node.value.length === 0 || node.value.length > 4) {
    throw new AttestError('certificate_malformed', `${what} is not a small integer.`);
  }
  if (node.value[0]! & 0x80) throw new AttestError('certificate_malformed', `${what} is negative.`);
  let n = 0;
  for (const b of node.value) n = n * 256 + b;
  return n;
}

/** Left-pads or strips a DER INTEGER's content to exactly `size` unsigned big-endian bytes. */
function fixedWidthUnsigned(value: Uint8Array, size: number, code: AttestErrorCode): Uint8Array {
  let v = value;
  if (v.length === 0 || v[0]! & 0x80) throw new AttestError(code, 'ECDSA signature integer is empty or negative.');
  while (v.length > 1 && v[0] === 0) v = v.subarray(1);
  if (v.length > size) throw new AttestError(code, 'ECDSA signature integer is too large.');
  const out = new Uint8Array(size);
  out.set(v, size - v.length);
  return out;
}

/** DER ECDSA-Sig-Value → raw r‖s (what WebCrypto verifies), P-256 only. */
export function ecdsaDerToRaw(der: Uint8Array, code: AttestErrorCode): Uint8Array {
  const seq = readDerNode(der, 0, code, 'ECDSA signature');
  if (seq.tag !== DER_SEQUENCE || seq.end !== der.length)
    throw new AttestError(code, 'ECDSA signature is not one DER SEQUENCE.');
  const parts = readDerChildren(seq.value, code, 'ECDSA signature');
  if (parts.length !== 2 || parts[0]!.tag !== DER_INTEGER || parts[1]!.tag !== DER_INTEGER) {
    throw new AttestError(code, 'ECDSA signature must hold exactly two integers.');
  }
  const out = new Uint8Array(64);
  out.set(fixedWidthUnsigned(parts[0]!.value, 32, code), 0);
  out.set(fixedWidthUnsigned(parts[1]!.value, 32, code), 32);
  return out;
}

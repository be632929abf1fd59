import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, CertificateList, Version, type Name } from '@peculiar/asn1-x509';
import { equalBytes, toHex } from '../bytes';
import { readDerNode } from './der';
import { AttestError, type AttestErrorCode } from './errors';
import { ParseMemo } from './parse-memo';

/**
 * X.509 certificates and CRLs as the DCAP verifier needs them, parsed with `@peculiar/asn1-x509`. The signed
 * bytes (`tbs`) are the exact DER from the input (the library keeps them raw), never a re-encoding.
 */
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_PRIME256V1 = '1.2.840.10045.3.1.7';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_COMMON_NAME = '2.5.4.3';
export const OID_SGX_EXTENSION = '1.2.840.113741.1.13.1';
/** Extensions we understand well enough to accept when marked critical. */
const KNOWN_CRITICAL = new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE]);

const MAX_DER = 16 * 1024;
const MAX_CRL_DER = 1024 * 1024;

export interface ParsedCertificate {
  der: Uint8Array;
  tbs: Uint8Array;
  /** DER ECDSA signature over `tbs`. */
  signature: Uint8Array;
  /** DER SubjectPublicKeyInfo (P-256). */
  spki: Uint8Array;
  /** Serial number, unsigned big-endian, leading zeros stripped. */
  serial: Uint8Array;
  serialHex: string;
  subject: Uint8Array;
  issuer: Uint8Array;
  subjectCn: string;
  issuerCn: string;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  /** Value (extnValue content) of the Intel SGX extension, when present. */
  sgxExtension: Uint8Array | null;
}

export interface ParsedCrl {
  der: Uint8Array;
  tbs: Uint8Array;
  signature: Uint8Array;
  issuer: Uint8Array;
  issuerCn: string;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Revoked serials as lower-case hex without leading zero bytes. */
  revokedSerials: Set<string>;
}

const bytes = (b: ArrayBuffer | ArrayBufferView): Uint8Array =>
  b instanceof Uint8Array
    ? b
    : ArrayBuffer.isView(b)
      ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
      : new Uint8Array(b);

export function normalizeSerial(serial: Uint8Array): Uint8Array {
  let s = serial;
  while (s.length > 1 && s[0] === 0) s = s.subarray(1);
  return s;
}

function commonName(name: Name): string {
  for (const rdn of name) {
    for (const attr of rdn) {
      if (attr.type === OID_COMMON_NAME) return attr.value.toString();
    }
  }
  return '';
}

/** The outer DER element must span the whole input: trailing bytes would be unsigned data riding along. */
function requireSingleElement(der: Uint8Array, code: AttestErrorCode, what: string): void {
  const node = readDerNode(der, 0, code, what);
  if (node.tag !== 0x30 || node.end !== der.length) throw new AttestError(code, `${what} is not one DER SEQUENCE.`);
}

/**
 * The parser is lenient (it skips what it does not expect), and bytes outside the signed part are not covered by
 * any signature. Re-encoding and comparing makes the accepted input exactly the DER we understood.
 */
function requireCanonical(der: Uint8Array, parsed: object, code: AttestErrorCode, what: string): void {
  let again: Uint8Array;
  try {
    again = bytes(AsnConvert.serialize(parsed));
  } catch {
    throw new AttestError(code, `${what} could not be re-encoded.`);
  }
  if (!equalBytes(again, der)) throw new AttestError(code, `${what} is not in canonical DER.`);
}

function requireEcdsaSha256(oid: string, code: AttestErrorCode, what: string): void {
  if (oid !== OID_ECDSA_WITH_SHA256) throw new AttestError(code, `${what} is not signed with ECDSA-SHA256 (${oid}).`);
}

const certMemo = new ParseMemo<ParsedCertificate>();
const crlMemo = new ParseMemo<ParsedCrl>(16);

/**
 * Parsed results are shared between calls with identical bytes (see ParseMemo): treat them as read-only.
 * `what` only labels errors, so it is not part of the memo key.
 */
export function parseCertificate(der: Uint8Array, what: string): ParsedCertificate {
  return certMemo.get(der, (input) => parseCertificateUncached(input, what));
}

export function parseCrl(der: Uint8Array, what: string): ParsedCrl {
  return crlMemo.get(der, (input) => parseCrlUncached(input, what));
}

function parseCertificateUncached(der: Uint8Array, what: string): ParsedCertificate {
  if (der.length > MAX_DER) throw new AttestError('certificate_malformed', `${what} is too large.`);
  requireSingleElement(der, 'certificate_malformed', what);
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(der, Certificate);
  } catch {
    throw new AttestError('certificate_malformed', `${what} is not a valid X.509 certificate.`);
  }
  requireCanonical(der, cert, 'certificate_malformed', what);
  try {
    const tbs = cert.tbsCertificate;
    if (tbs.version !== Version.v3)
      throw new AttestError('certificate_malformed', `${what} is not an X.509 v3 certificate.`);
    requireEcdsaSha256(cert.signatureAlgorithm.algorithm, 'certificate_malformed', what);
    requireEcdsaSha256(tbs.signature.algorithm, 'certificate_malformed', what);
    const spkiAlg = tbs.subjectPublicKeyInfo.algorithm;
    const curve = spkiAlg.parameters ? bytes(spkiAlg.parameters) : new Uint8Array();
    // parameters is the DER of namedCurve: OID 1.2.840.10045.3.1.7
    const P256_PARAM = Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07);
    if (spkiAlg.algorithm !== OID_EC_PUBLIC_KEY || !equalBytes(curve, P256_PARAM)) {
      throw new AttestError(
        'certificate_malformed',
        `${what} does not hold a P-256 public key (${OID_PRIME256V1} expected).`,
      );
    }
    let isCa = false;
    let sgxExtension: Uint8Array | null = null;
    const seen = new Set<string>();
    for (const ext of tbs.extensions ?? []) {
      if (seen.has(ext.extnID))
        throw new AttestError('certificate_malformed', `${what} repeats extension ${ext.extnID}.`);
      seen.add(ext.extnID);
      const value = bytes(ext.extnValue.buffer);
      if (ext.extnID === OID_BASIC_CONSTRAINTS) isCa = AsnConvert.parse(value, BasicConstraints).cA;
      else if (ext.extnID === OID_SGX_EXTENSION) sgxExtension = value;
      else if (ext.critical && !KNOWN_CRITICAL.has(ext.extnID)) {
        throw new AttestError('certificate_malformed', `${what} has an unknown critical extension ${ext.extnID}.`);
      }
    }
    if (!cert.tbsCertificateRaw) throw new AttestError('certificate_malformed', `${what} has no signed part.`);
    const serial = normalizeSerial(bytes(tbs.serialNumber));
    return {
      der,
      tbs: bytes(cert.tbsCertificateRaw),
      signature: bytes(cert.signatureValue),
      spki: bytes(AsnConvert.serialize(tbs.subjectPublicKeyInfo)),
      serial,
      serialHex: toHex(serial),
      subject: bytes(AsnConvert.serialize(tbs.subject)),
      issuer: bytes(AsnConvert.serialize(tbs.issuer)),
      subjectCn: commonName(tbs.subject),
      issuerCn: commonName(tbs.issuer),
      notBefore: tbs.validity.notBefore.getTime(),
      notAfter: tbs.validity.notAfter.getTime(),
      isCa,
      sgxExtension,
    };
  } catch (err) {
    if (err instanceof AttestError) throw err;
    throw new AttestError('certificate_malformed', `${what} could not be read.`);
  }
}

function parseCrlUncached(der: Uint8Array, what: string): ParsedCrl {
  if (der.length > MAX_CRL_DER) throw new AttestError('crl_malformed', `${what} is too large.`);
  requireSingleElement(der, 'crl_malformed', what);
  let crl: CertificateList;
  try {
    crl = AsnConvert.parse(der, CertificateList);
  } catch {
    throw new AttestError('crl_malformed', `${what} is not a valid DER CRL.`);
  }
  requireCanonical(der, crl, 'crl_malformed', what);
  try {
    const tbs = crl.tbsCertList;
    requireEcdsaSha256(crl.signatureAlgorithm.algorithm, 'crl_malformed', what);
    requireEcdsaSha256(tbs.signature.algorithm, 'crl_malformed', what);
    if (!tbs.nextUpdate) throw new AttestError('crl_malformed', `${what} has no nextUpdate.`);
    if (!crl.tbsCertListRaw) throw new AttestError('crl_malformed', `${what} has no signed part.`);
    const revokedSerials = new Set<string>();
    for (const entry of tbs.revokedCertificates ?? []) {
      revokedSerials.add(toHex(normalizeSerial(bytes(entry.userCertificate))));
    }
    return {
      der,
      tbs: bytes(crl.tbsCertListRaw),
      signature: bytes(crl.signature),
      issuer: bytes(AsnConvert.serialize(tbs.issuer)),
      issuerCn: commonName(tbs.issuer),
      thisUpdate: tbs.thisUpdate.getTime(),
      nextUpdate: tbs.nextUpdate.getTime(),
      revokedSerials,
    };
  } catch (err) {
    if (err instanceof AttestError) throw err;
    throw new AttestError('crl_malformed', `${what} could not be read.`);
  }
}

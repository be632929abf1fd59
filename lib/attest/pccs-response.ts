/**
 * Turns Intel PCS API v4 responses into the pieces of a `Collateral`, without changing a byte that is signed:
 * - TCB info / QE identity bodies are `{"tcbInfo"|"enclaveIdentity":{…},"signature":"<hex r‖s>"}`; Intel signs the
 *   exact text of the inner object, so we cut that text out of the body instead of re-serializing parsed JSON.
 * - Issuer chains arrive URL-encoded (percent-encoded PEM) in response headers.
 * - CRLs arrive as DER (`encoding=der`), as hex text (a PCCS's `rootcacrl`), or as PEM; we store hex DER.
 * Nothing here decides trust: the verifier checks every signature, chain and date. These checks only make a
 * broken PCCS fail here, with a message naming the document, instead of later as a puzzling verification error.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, CertificateList } from '@peculiar/asn1-x509';
import { fromBase64, fromHex, toHex, utf8Decode } from '../bytes';
import { readDerNode } from './der';
import { AttestError } from './errors';
import { parsePemChain } from './pem';

const fail = (document: string, why: string) =>
  new AttestError('collateral_fetch_failed', `The ${document} from the PCCS is unusable: ${why}.`);

const isWhitespace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function skipWhitespace(text: string, pos: number): number {
  while (pos < text.length && isWhitespace(text.charCodeAt(pos))) pos++;
  return pos;
}

/** End (exclusive) of the JSON string starting at `pos` (which holds the opening quote). */
function endOfString(text: string, pos: number): number {
  for (let i = pos + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c)
      i++; // backslash: skip the escaped character
    else if (c === 0x22) return i + 1;
  }
  throw new SyntaxError('unterminated string');
}

/** End (exclusive) of the JSON value starting at `pos`. The text is already known to be valid JSON. */
function endOfValue(text: string, pos: number): number {
  const first = text[pos];
  if (first === '"') return endOfString(text, pos);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let i = pos; i < text.length; i++) {
      const c = text[i];
      if (c === '"') i = endOfString(text, i) - 1;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    throw new SyntaxError('unterminated container');
  }
  let i = pos;
  while (i < text.length && !/[\s,}\]]/.test(text[i]!)) i++;
  return i;
}

/**
 * The members of the top-level JSON object as raw text spans, in order. Duplicate member names are rejected:
 * JSON.parse would silently keep the last one, which could differ from the one a verifier looks at.
 */
function topLevelMembers(text: string): Map<string, string> {
  const members = new Map<string, string>();
  let pos = skipWhitespace(text, 0);
  if (text[pos] !== '{') throw new SyntaxError('not an object');
  pos = skipWhitespace(text, pos + 1);
  if (text[pos] === '}') return members;
  for (;;) {
    const keyEnd = endOfString(text, pos);
    const name = JSON.parse(text.slice(pos, keyEnd)) as string;
    pos = skipWhitespace(text, keyEnd);
    pos = skipWhitespace(text, pos + 1); // past ':'
    const valueEnd = endOfValue(text, pos);
    if (members.has(name)) throw new SyntaxError(`duplicate member "${name}"`);
    members.set(name, text.slice(pos, valueEnd));
    pos = skipWhitespace(text, valueEnd);
    if (text[pos] === '}') return members;
    pos = skipWhitespace(text, pos + 1); // past ','
  }
}

export interface SignedJsonDocument {
  /** Exact text of the signed object, as it appeared in the body. */
  body: string;
  /** Raw r‖s signature, 128 lower-case hex digits. */
  signature: string;
  /** The signed object, parsed (for sanity checks and dates). */
  parsed: Record<string, unknown>;
}

/** Splits a PCS `{"<member>":{…},"signature":"…"}` body into the exact signed text and its signature. */
export function parseSignedJsonBody(raw: Uint8Array, member: string, document: string): SignedJsonDocument {
  let text: string;
  try {
    text = utf8Decode(raw);
  } catch {
    throw fail(document, 'the body is not UTF-8');
  }
  let members: Map<string, string>;
  try {
    JSON.parse(text); // full syntax check first; the span scanner below relies on valid JSON
    members = topLevelMembers(text);
  } catch (err) {
    throw fail(document, `the body is not the expected JSON object (${(err as Error).message})`);
  }
  const body = members.get(member);
  if (body === undefined || !body.startsWith('{')) throw fail(document, `the body has no "${member}" object`);
  const signatureJson = members.get('signature');
  const signature = signatureJson === undefined ? undefined : (JSON.parse(signatureJson) as unknown);
  if (typeof signature !== 'string' || !/^[0-9a-fA-F]{128}$/.test(signature)) {
    throw fail(document, 'the signature is not 128 hex digits (raw ECDSA P-256 r‖s)');
  }
  return { body, signature: signature.toLowerCase(), parsed: JSON.parse(body) as Record<string, unknown> };
}

/** Reads and checks a URL-encoded PEM issuer chain header; returns the PEM text exactly as sent. */
export function readIssuerChainHeader(headers: Headers, names: readonly string[], document: string): string {
  let raw: string | null = null;
  for (const name of names) {
    raw = headers.get(name);
    if (raw !== null) break;
  }
  if (raw === null) throw fail(document, `the response has no ${names.join(' / ')} header`);
  let pem: string;
  try {
    pem = decodeURIComponent(raw);
  } catch {
    throw fail(document, `the ${names[0]} header is not valid URL encoding`);
  }
  try {
    for (const der of parsePemChain(pem, `${names[0]} header`)) {
      // Structure only; the verifier checks the chain itself.
      AsnConvert.parse(der, Certificate);
    }
  } catch (err) {
    throw fail(document, `the ${names[0]} header is not a PEM certificate chain (${(err as Error).message})`);
  }
  return pem;
}

/** A whole DER TLV and nothing after it (the ASN.1 library tolerates trailing bytes; a CRL should not have any). */
function isSingleDerSequence(der: Uint8Array): boolean {
  try {
    const node = readDerNode(der, 0, 'crl_malformed', 'CRL');
    return node.tag === 0x30 && node.end === der.length;
  } catch {
    return false;
  }
}

const HEX_TEXT = /^[0-9a-fA-F]+$/;
const PEM_CRL = /^-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----$/;

/**
 * DER bytes of a CRL body in any of the forms PCCSes send: DER, hex text (a PCCS's `rootcacrl`), or PEM.
 * Hex text is tried first: DER starts with 0x30 (ASCII "0") but its length bytes are never all hex digits.
 */
export function crlDerFromBody(raw: Uint8Array, document: string): Uint8Array {
  let der: Uint8Array = raw;
  const asText = (() => {
    try {
      return utf8Decode(raw).trim();
    } catch {
      return null;
    }
  })();
  if (asText !== null && asText.length % 2 === 0 && HEX_TEXT.test(asText)) der = fromHex(asText);
  else if (asText !== null && PEM_CRL.test(asText)) {
    try {
      der = fromBase64(PEM_CRL.exec(asText)![1]!.replace(/\s+/g, ''));
    } catch {
      throw fail(document, 'the PEM CRL is not valid base64');
    }
  }
  if (!isSingleDerSequence(der)) throw fail(document, 'the body is not a DER, hex or PEM CRL');
  try {
    AsnConvert.parse(der, CertificateList);
  } catch (err) {
    throw fail(document, `the CRL does not parse (${(err as Error).message})`);
  }
  return der;
}

/** Hex DER of a CRL body, the form `Collateral` stores. */
export const crlHexFromBody = (raw: Uint8Array, document: string): string => toHex(crlDerFromBody(raw, document));

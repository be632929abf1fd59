import { fromBase64, toBase64 } from '../bytes';
import { AttestError } from './errors';

const MAX_PEM_CHARS = 64 * 1024;
const MAX_CERTS = 8;
// Only "\n" may separate base64 lines and blocks: a looser notion of whitespace (\r, \v, \f, spaces) would
// let different bytes decode to the same certificate.
const BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\n]*?)-----END CERTIFICATE-----/g;
const LINE_BREAKS = /^\n*$/;

/**
 * Certificates of a PEM chain, in order. Anything between blocks other than whitespace (and the NUL that ends
 * the chain inside a quote) is rejected: a chain is data we verify, not text we skim.
 */
export function parsePemChain(pem: string, what: string): Uint8Array[] {
  if (pem.length > MAX_PEM_CHARS) throw new AttestError('certificate_malformed', `${what} is too large.`);
  const text = pem.replace(/\0+$/, '');
  const certs: Uint8Array[] = [];
  let last = 0;
  for (const match of text.matchAll(BLOCK)) {
    if (!LINE_BREAKS.test(text.slice(last, match.index))) {
      throw new AttestError('certificate_malformed', `${what} has text outside its certificate blocks.`);
    }
    if (certs.length === MAX_CERTS)
      throw new AttestError('certificate_malformed', `${what} has too many certificates.`);
    const b64 = match[1]!.replace(/\n+/g, '');
    let der: Uint8Array;
    try {
      der = fromBase64(b64);
    } catch {
      throw new AttestError('certificate_malformed', `${what} has a certificate that is not valid base64.`);
    }
    // atob ignores the unused low bits of the last character; only the canonical encoding is accepted.
    if (toBase64(der) !== b64)
      throw new AttestError('certificate_malformed', `${what} has a certificate in non-canonical base64.`);
    certs.push(der);
    last = match.index + match[0].length;
  }
  if (!LINE_BREAKS.test(text.slice(last)))
    throw new AttestError('certificate_malformed', `${what} has text outside its certificate blocks.`);
  if (certs.length === 0) throw new AttestError('certificate_malformed', `${what} contains no certificate.`);
  return certs;
}

import { fromBase64 } from '../bytes';
import { AttestError } from './errors';

const MAX_PEM_CHARS = 64 * 1024;
const MAX_CERTS = 8;
const BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;

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
    if (text.slice(last, match.index).trim() !== '') {
      throw new AttestError('certificate_malformed', `${what} has text outside its certificate blocks.`);
    }
    if (certs.length === MAX_CERTS) throw new AttestError('certificate_malformed', `${what} has too many certificates.`);
    try {
      certs.push(fromBase64(match[1]!.replace(/\s+/g, '')));
    } catch {
      throw new AttestError('certificate_malformed', `${what} has a certificate that is not valid base64.`);
    }
    last = match.index + match[0].length;
  }
  if (text.slice(last).trim() !== '') throw new AttestError('certificate_malformed', `${what} has text outside its certificate blocks.`);
  if (certs.length === 0) throw new AttestError('certificate_malformed', `${what} contains no certificate.`);
  return certs;
}

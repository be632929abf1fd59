import { equalBytes } from '../bytes';
import { importSpki, verifyDer } from './ecdsa';
import { AttestError } from './errors';
import { parsePemChain } from './pem';
import { parseCertificate, parseCrl, type ParsedCertificate, type ParsedCrl } from './x509';

/**
 * Certificate chains and CRLs checked against one trust anchor at one time `now`. Fails closed: every
 * signature, validity period, issuer link and revocation list is checked, and an unreadable CRL is an error,
 * never "nothing revoked".
 */
export interface TrustRoot {
  cert: ParsedCertificate;
  isTest: boolean;
}

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

export function checkValidity(cert: ParsedCertificate, now: Date, what: string): void {
  if (now < cert.notBefore) {
    throw new AttestError(
      'certificate_not_yet_valid',
      `${what} is not valid before ${iso(cert.notBefore)} (checked at ${iso(now)}).`,
    );
  }
  if (now > cert.notAfter) {
    throw new AttestError('certificate_expired', `${what} expired at ${iso(cert.notAfter)} (checked at ${iso(now)}).`);
  }
}

export async function verifySignedBy(child: ParsedCertificate, parent: ParsedCertificate, what: string): Promise<void> {
  if (!equalBytes(child.issuer, parent.subject)) {
    throw new AttestError(
      'chain_invalid',
      `${what} was not issued by "${parent.subjectCn}" (its issuer is "${child.issuerCn}").`,
    );
  }
  if (!parent.isCa)
    throw new AttestError('chain_invalid', `"${parent.subjectCn}" is not a CA and cannot issue ${what}.`);
  const key = await importSpki(parent.spki, 'chain_invalid', `"${parent.subjectCn}"`);
  if (!(await verifyDer(key, child.signature, child.tbs, 'chain_invalid'))) {
    throw new AttestError(
      'chain_invalid',
      `The signature on ${what} does not verify with the key of "${parent.subjectCn}".`,
    );
  }
}

export async function loadTrustRoot(rootDer: Uint8Array, isTest: boolean, now: Date): Promise<TrustRoot> {
  const cert = parseCertificate(rootDer, isTest ? 'The test root certificate' : "Intel's SGX Root CA");
  if (!equalBytes(cert.subject, cert.issuer) || !cert.isCa) {
    throw new AttestError('untrusted_root', 'The trust anchor is not a self-signed CA certificate.');
  }
  await verifySignedBy(cert, cert, 'the root certificate');
  checkValidity(cert, now, 'The root certificate');
  return { cert, isTest };
}

/**
 * Checks a CRL's issuer and signature, then its dates at `now`. `now` null skips only the dates: used solely by the
 * stale-collateral diagnosis (lib/attest/staleness.ts), whose answer never verifies anything.
 */
export async function verifyCrl(
  crl: ParsedCrl,
  issuer: ParsedCertificate,
  now: Date | null,
  what: string,
): Promise<void> {
  if (!equalBytes(crl.issuer, issuer.subject)) {
    throw new AttestError('crl_invalid', `${what} is issued by "${crl.issuerCn}", not by "${issuer.subjectCn}".`);
  }
  const key = await importSpki(issuer.spki, 'crl_invalid', `"${issuer.subjectCn}"`);
  if (!(await verifyDer(key, crl.signature, crl.tbs, 'crl_invalid'))) {
    throw new AttestError(
      'crl_invalid',
      `The signature on ${what} does not verify with the key of "${issuer.subjectCn}".`,
    );
  }
  if (now === null) return;
  if (now < crl.thisUpdate)
    throw new AttestError(
      'crl_not_yet_valid',
      `${what} is not valid before ${iso(crl.thisUpdate)} (checked at ${iso(now)}).`,
    );
  if (now > crl.nextUpdate)
    throw new AttestError('crl_expired', `${what} expired at ${iso(crl.nextUpdate)} (checked at ${iso(now)}).`);
}

export function parseAndCheckCrlHex(hex: string, what: string): ParsedCrl {
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0 || hex.length === 0) {
    throw new AttestError('crl_malformed', `${what} is not hex-encoded DER.`);
  }
  const der = new Uint8Array(hex.length / 2);
  for (let i = 0; i < der.length; i++) der[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return parseCrl(der, what);
}

export function requireNotRevoked(cert: ParsedCertificate, crl: ParsedCrl, what: string): void {
  if (crl.revokedSerials.has(cert.serialHex)) {
    throw new AttestError(
      'certificate_revoked',
      `${what} (serial ${cert.serialHex.toUpperCase()}) is revoked by "${crl.issuerCn}".`,
    );
  }
}

/**
 * Verifies a PEM chain leaf-first up to the trust root. The chain may end with the root itself (it must then be
 * byte-identical to the anchor) or stop below it. Certificates issued by the root are checked against the root
 * CRL; the leaf's own revocation is the caller's (it needs the issuing CA's CRL).
 */
export async function verifyChain(
  pem: string,
  root: TrustRoot,
  rootCrl: ParsedCrl,
  now: Date,
  what: string,
  expectedLength: number,
): Promise<ParsedCertificate[]> {
  const ders = parsePemChain(pem, what);
  const last = ders[ders.length - 1]!;
  const chainDers = equalBytes(last, root.cert.der) ? ders.slice(0, -1) : ders;
  if (chainDers.length !== expectedLength) {
    throw new AttestError(
      'chain_invalid',
      `${what} must hold ${expectedLength} certificate(s) below the root, it holds ${chainDers.length}${chainDers.length === ders.length ? ' and does not end at the trusted root' : ''}.`,
    );
  }
  const certs = chainDers.map((der, i) =>
    parseCertificate(der, i === 0 ? `The leaf of ${what}` : `Certificate ${i + 1} of ${what}`),
  );
  for (let i = 0; i < certs.length; i++) {
    const cert = certs[i]!;
    const label = `"${cert.subjectCn}" in ${what}`;
    const parent = i + 1 < certs.length ? certs[i + 1]! : root.cert;
    if (i + 1 === certs.length && !equalBytes(cert.issuer, root.cert.subject)) {
      throw new AttestError(
        'untrusted_root',
        `${what} does not chain to ${root.isTest ? 'the test root' : "Intel's SGX Root CA"}.`,
      );
    }
    await verifySignedBy(cert, parent, label);
    checkValidity(cert, now, label);
    if (parent === root.cert) requireNotRevoked(cert, rootCrl, label);
    if (i > 0 && !cert.isCa) throw new AttestError('chain_invalid', `${label} issues certificates but is not a CA.`);
  }
  return certs;
}

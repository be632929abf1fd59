// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { ecdsaDerToRaw } from '../../../lib/attest/der';
import { AttestError } from '../../../lib/attest/errors';
import { parsePemChain } from '../../../lib/attest/pem';
import { parseQuote } from '../../../lib/attest/quote';
import { parseCertificate, parseCrl } from '../../../lib/attest/x509';
import { fromHex } from '../../../lib/bytes';
import { readCollateral, readQuote } from './fixtures';

const pem = parseQuote(readQuote('quotes/tdx-v4-b0c06f-2025.bin')).pckChainPem;
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'no error';
  } catch (err) {
    expect(err).toBeInstanceOf(AttestError);
    return (err as AttestError).code;
  }
};

describe('PEM chains', () => {
  it('reads the three certificates of a quote chain', () => {
    const certs = parsePemChain(pem, 'chain').map((d) => parseCertificate(d, 'cert'));
    expect(certs.map((c) => c.subjectCn)).toEqual([
      'Intel SGX PCK Certificate',
      'Intel SGX PCK Platform CA',
      'Intel SGX Root CA',
    ]);
    expect(certs[0]!.isCa).toBe(false);
    expect(certs[0]!.sgxExtension).not.toBeNull();
  });

  it('accepts only "\\n" line breaks and canonical base64, so no two byte strings give the same chain', () => {
    expect(codeOf(() => parsePemChain(pem.replace('\n', '\r\n'), 'chain'))).toBe('certificate_malformed');
    expect(codeOf(() => parsePemChain(pem.replace('\n', '\v'), 'chain'))).toBe('certificate_malformed');
    expect(codeOf(() => parsePemChain(`junk${pem}`, 'chain'))).toBe('certificate_malformed');
    // "==" padding leaves 4 unused bits in the last character: a different character there decodes to the same bytes.
    const first = pem.indexOf('==');
    const c = pem[first - 1]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sibling = alphabet[alphabet.indexOf(c) ^ 1]!;
    expect(codeOf(() => parsePemChain(pem.slice(0, first - 1) + sibling + pem.slice(first), 'chain'))).toBe(
      'certificate_malformed',
    );
    expect(codeOf(() => parsePemChain('', 'chain'))).toBe('certificate_malformed');
  });
});

describe('certificates and CRLs', () => {
  it('reject trailing bytes and non-canonical DER', () => {
    const der = parsePemChain(pem, 'chain')[1]!;
    expect(codeOf(() => parseCertificate(new Uint8Array([...der, 0]), 'cert'))).toBe('certificate_malformed');
    const crl = fromHex(readCollateral('collateral/tdx-b0c06f-2025-06-19.json').root_ca_crl);
    expect(parseCrl(crl, 'crl').issuerCn).toBe('Intel SGX Root CA');
    expect(codeOf(() => parseCrl(crl.slice(0, 100), 'crl'))).toBe('crl_malformed');
    expect(codeOf(() => parseCrl(fromHex('deadbeef'), 'crl'))).toBe('crl_malformed');
  });

  it('converts DER ECDSA signatures to raw r‖s and refuses malformed ones', () => {
    const der = fromHex('3006020101020102');
    expect(Array.from(ecdsaDerToRaw(der, 'chain_invalid'))).toEqual([
      ...new Array(31).fill(0),
      1,
      ...new Array(31).fill(0),
      2,
    ]);
    expect(codeOf(() => ecdsaDerToRaw(fromHex('3006020101020102ff'), 'chain_invalid'))).toBe('chain_invalid');
    expect(codeOf(() => ecdsaDerToRaw(fromHex('3006020181020101'), 'chain_invalid'))).toBe('chain_invalid');
  });
});

import { AttestError } from './errors';
import { parsePemChain } from './pem';
import { parsePckExtension } from './pck-extension';
import { parseQuote } from './quote';
import type { TeeType } from './types';
import { parseCertificate } from './x509';

/** What to ask a PCCS for to verify this quote: TEE flavour, FMSPC and which PCK CA's CRL. */
export interface CollateralNeeds {
  teeType: TeeType;
  /** 12 hex digits (collateralNeeds gives upper case; fetchers accept either). */
  fmspc: string;
  pckCa: 'platform' | 'processor';
}

export function collateralNeeds(quote: Uint8Array): CollateralNeeds {
  const parsed = parseQuote(quote);
  const leaf = parseCertificate(parsePemChain(parsed.pckChainPem, "The quote's PCK chain")[0]!, 'The PCK certificate');
  if (!leaf.sgxExtension)
    throw new AttestError('certificate_malformed', 'The PCK certificate has no Intel SGX extension.');
  const { fmspcHex } = parsePckExtension(leaf.sgxExtension);
  // Read the CA from the leaf's issuer: npm dcap-qvl 0.3.9 guessed "processor" for Platform-CA leaves.
  const pckCa = /\bPlatform CA$/.test(leaf.issuerCn)
    ? 'platform'
    : /\bProcessor CA$/.test(leaf.issuerCn)
      ? 'processor'
      : null;
  if (!pckCa)
    throw new AttestError('chain_invalid', `The PCK certificate's issuer "${leaf.issuerCn}" is not an Intel PCK CA.`);
  return { teeType: parsed.teeType, fmspc: fmspcHex, pckCa };
}

/**
 * Where DCAP collateral lives: PCCS / Intel PCS base URLs, their validation, and the Intel PCS API v4 paths.
 * Pure functions, no I/O. Collateral is public data, so nothing here is secret; the URL rules exist so a
 * misconfigured or hostile setting cannot make us talk plain HTTP to the network or carry credentials in a URL.
 */
import { AttestError } from './errors';
import type { TeeType } from './types';

/** Intel's Provisioning Certification Service (no API key needed for the collateral endpoints). */
export const INTEL_PCS_URL = 'https://api.trustedservices.intel.com';
/** Phala Network's public PCCS (a caching PCCS speaking the same v4 API). */
export const PHALA_PCCS_URL = 'https://pccs.phala.network';
/**
 * The Intel SGX Root CA's CRL, at the distribution point named in the root certificate. Intel's PCS has no
 * `rootcacrl` endpoint (a PCCS does), so for PCS this is where the root CA CRL comes from.
 */
export const INTEL_ROOT_CA_CRL_URL = 'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der';

export type PckCa = 'platform' | 'processor';

const API_SUFFIX = /\/(?:sgx|tdx)\/certification\/v4$/;

function isLoopbackHost(hostname: string): boolean {
  // URL.hostname keeps IPv6 brackets.
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Checks a URL we are about to GET: https, or http only to a loopback host (a local PCCS or a test simulator);
 * no user:password part (nothing secret belongs in a URL); no fragment. Returns the parsed URL.
 */
export function checkFetchUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AttestError('collateral_fetch_failed', `${what} is not a valid URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new AttestError(
      'collateral_fetch_failed',
      `${what} must use https (plain http is allowed only for a loopback host), got ${url.protocol}//${url.host}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new AttestError('collateral_fetch_failed', `${what} must not contain a user name or password`);
  }
  if (url.hash !== '') throw new AttestError('collateral_fetch_failed', `${what} must not contain a fragment`);
  return url;
}

/**
 * Validates a PCCS base URL and returns its canonical form: no query, no trailing slash, and without a
 * trailing `/sgx|tdx/certification/v4` (people paste either form). The canonical form is also the cache key part.
 */
export function normalizePccsUrl(raw: string): string {
  const url = checkFetchUrl(raw.trim(), 'PCCS URL');
  if (url.search !== '') throw new AttestError('collateral_fetch_failed', 'PCCS URL must not contain a query');
  let path = url.pathname.replace(/\/+$/, '');
  path = path.replace(API_SUFFIX, '');
  return `${url.protocol}//${url.host}${path}`;
}

/** True when the base URL is Intel's PCS itself (it has no root CA CRL endpoint). */
export const isIntelPcs = (normalizedBase: string): boolean => normalizedBase === INTEL_PCS_URL;

/** FMSPC as the API wants it: 12 hex digits, upper case (a PCCS normalizes to upper case; Intel accepts both). */
export function normalizeFmspc(fmspc: string): string {
  if (typeof fmspc !== 'string' || !/^[0-9a-fA-F]{12}$/.test(fmspc)) {
    throw new AttestError('collateral_fetch_failed', 'FMSPC must be exactly 12 hex digits');
  }
  return fmspc.toUpperCase();
}

const teePath = (tee: TeeType): 'tdx' | 'sgx' => (tee === 'TDX' ? 'tdx' : 'sgx');

/** The Intel PCS API v4 URLs of one collateral set. */
export interface PcsEndpoints {
  tcbInfo: string;
  qeIdentity: string;
  pckCrl: string;
  /** A PCCS's own copy of the root CA CRL; null for Intel's PCS, which has none. */
  pccsRootCaCrl: string | null;
}

export function pcsEndpoints(normalizedBase: string, tee: TeeType, fmspc: string, pckCa: PckCa): PcsEndpoints {
  const api = (t: 'tdx' | 'sgx') => `${normalizedBase}/${t}/certification/v4`;
  return {
    tcbInfo: `${api(teePath(tee))}/tcb?fmspc=${normalizeFmspc(fmspc)}`,
    // TDX quotes are signed by the TD quoting enclave (TD_QE identity), SGX quotes by the QE.
    qeIdentity: `${api(teePath(tee))}/qe/identity?update=standard`,
    // PCK CRLs are SGX-wide: TDX PCK certificates are issued by the same SGX PCK Platform CA.
    pckCrl: `${api('sgx')}/pckcrl?ca=${pckCa}&encoding=der`,
    pccsRootCaCrl: isIntelPcs(normalizedBase) ? null : `${api('sgx')}/rootcacrl`,
  };
}

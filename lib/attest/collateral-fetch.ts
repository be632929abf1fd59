/**
 * Fetches the DCAP collateral of one platform (TCB info, QE identity, PCK CRL, root CA CRL, and their issuer
 * chains) from a PCCS or Intel's PCS, in the Intel PCS API v4 wire format, and returns it as `Collateral` (the
 * dcap-qvl JSON form the verifier reads). Nothing fetched is trusted: the verifier checks every signature, chain
 * and date; the checks here only reject a broken response early, naming the document that failed.
 */
import { AttestError } from './errors';
import { INTEL_ROOT_CA_CRL_URL, checkFetchUrl, normalizeFmspc, normalizePccsUrl, pcsEndpoints } from './pccs-endpoints';
import { CollateralFetchError, pccsGet, type PccsHttpOptions } from './pccs-http';
import { crlHexFromBody, parseSignedJsonBody, readIssuerChainHeader } from './pccs-response';
import type { CollateralNeeds } from './collateral-needs';
import type { Collateral } from './types';

export { CollateralFetchError } from './pccs-http';
export { INTEL_PCS_URL, INTEL_ROOT_CA_CRL_URL, PHALA_PCCS_URL } from './pccs-endpoints';

// What a quote needs fetched (TEE type, FMSPC, issuing PCK CA) is read from the quote by collateral-needs.ts.
export type { CollateralNeeds };

export interface FetchCollateralOptions {
  /** PCCS or PCS base URL, e.g. INTEL_PCS_URL, PHALA_PCCS_URL; https (http only for loopback). */
  pccsUrl: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Per request attempt (headers and body). Default 20 s. */
  timeoutMs?: number;
  /** Extra attempts for HTTP 5xx, network errors and timeouts. Default 2. */
  retries?: number;
  /** First retry delay, doubling per retry. Default 500 ms. */
  retryDelayMs?: number;
  /** Largest accepted response body. Default 1 MiB. */
  maxResponseBytes?: number;
  /**
   * Root CA CRL location when the PCCS has none (always for Intel's PCS, which lacks `rootcacrl`; for a PCCS
   * only when its `rootcacrl` answers 404). Default INTEL_ROOT_CA_CRL_URL.
   */
  rootCaCrlUrl?: string;
}

const DEFAULTS = { timeoutMs: 20_000, retries: 2, retryDelayMs: 500, maxResponseBytes: 1024 * 1024 } as const;

// Response header names of Intel PCS API v4. v3 called the TCB one SGX-TCB-Info-Issuer-Chain; some PCCS
// versions still send that name, so it is accepted as a fallback.
const TCB_INFO_CHAIN_HEADERS = ['TCB-Info-Issuer-Chain', 'SGX-TCB-Info-Issuer-Chain'] as const;
const QE_IDENTITY_CHAIN_HEADERS = ['SGX-Enclave-Identity-Issuer-Chain'] as const;
const PCK_CRL_CHAIN_HEADERS = ['SGX-PCK-CRL-Issuer-Chain'] as const;

/** Validates `needs`; returns a copy with the FMSPC in upper case. */
export function checkCollateralNeeds(needs: CollateralNeeds): CollateralNeeds {
  if (needs.teeType !== 'TDX' && needs.teeType !== 'SGX') {
    throw new AttestError('collateral_fetch_failed', 'TEE type must be TDX or SGX');
  }
  if (needs.pckCa !== 'platform' && needs.pckCa !== 'processor') {
    throw new AttestError('collateral_fetch_failed', 'PCK CA must be "platform" or "processor"');
  }
  return { teeType: needs.teeType, fmspc: normalizeFmspc(needs.fmspc), pckCa: needs.pckCa };
}

function checkTcbInfoMatches(parsed: Record<string, unknown>, needs: CollateralNeeds): void {
  const fmspc = parsed.fmspc;
  if (typeof fmspc !== 'string' || fmspc.toUpperCase() !== needs.fmspc) {
    throw new AttestError(
      'collateral_fetch_failed',
      `The PCCS returned TCB info for FMSPC ${String(fmspc)}, not the requested ${needs.fmspc}.`,
    );
  }
  // TCB info v3 carries an id ("TDX" / "SGX"); SGX TCB info v2 has none.
  const id = parsed.id;
  if (needs.teeType === 'TDX' ? id !== 'TDX' : id !== undefined && id !== 'SGX') {
    throw new AttestError(
      'collateral_fetch_failed',
      `The PCCS returned ${String(id)} TCB info for a ${needs.teeType} quote.`,
    );
  }
}

function checkQeIdentityMatches(parsed: Record<string, unknown>, needs: CollateralNeeds): void {
  const expected = needs.teeType === 'TDX' ? 'TD_QE' : 'QE';
  if (parsed.id !== expected) {
    throw new AttestError(
      'collateral_fetch_failed',
      `The PCCS returned the ${String(parsed.id)} enclave identity, expected ${expected} for a ${needs.teeType} quote.`,
    );
  }
}

/**
 * Fetches the collateral for `needs` from `options.pccsUrl`. The four documents are requested in parallel;
 * the first failure cancels the rest. Throws AttestError('collateral_fetch_failed') (a CollateralFetchError
 * when an HTTP exchange failed: it carries the document name and status).
 */
export async function fetchCollateral(needs: CollateralNeeds, options: FetchCollateralOptions): Promise<Collateral> {
  const checked = checkCollateralNeeds(needs);
  const base = normalizePccsUrl(options.pccsUrl);
  const fallbackRootCrlUrl = checkFetchUrl(options.rootCaCrlUrl ?? INTEL_ROOT_CA_CRL_URL, 'Root CA CRL URL').href;
  const urls = pcsEndpoints(base, checked.teeType, checked.fmspc, checked.pckCa);

  // One controller for the group: the first failure aborts the other requests; a caller abort aborts all.
  const group = new AbortController();
  const onCallerAbort = () => group.abort();
  if (options.signal?.aborted) group.abort();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const http: PccsHttpOptions = {
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    signal: group.signal,
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    retries: options.retries ?? DEFAULTS.retries,
    retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
  };
  const task = <T>(run: () => Promise<T>): Promise<T> =>
    run().catch((err: unknown) => {
      group.abort();
      throw err;
    });

  const tcbInfo = task(async () => {
    const res = await pccsGet('TCB info', urls.tcbInfo, http);
    const doc = parseSignedJsonBody(res.body, 'tcbInfo', 'TCB info');
    checkTcbInfoMatches(doc.parsed, checked);
    return { doc, chain: readIssuerChainHeader(res.headers, TCB_INFO_CHAIN_HEADERS, 'TCB info') };
  });
  const qeIdentity = task(async () => {
    const res = await pccsGet('QE identity', urls.qeIdentity, http);
    const doc = parseSignedJsonBody(res.body, 'enclaveIdentity', 'QE identity');
    checkQeIdentityMatches(doc.parsed, checked);
    return { doc, chain: readIssuerChainHeader(res.headers, QE_IDENTITY_CHAIN_HEADERS, 'QE identity') };
  });
  const pckCrl = task(async () => {
    const res = await pccsGet('PCK CRL', urls.pckCrl, http);
    return {
      crl: crlHexFromBody(res.body, 'PCK CRL'),
      chain: readIssuerChainHeader(res.headers, PCK_CRL_CHAIN_HEADERS, 'PCK CRL'),
    };
  });
  const rootCaCrl = task(async () => {
    let res;
    if (urls.pccsRootCaCrl === null) {
      res = await pccsGet('root CA CRL', fallbackRootCrlUrl, http);
    } else {
      try {
        res = await pccsGet('root CA CRL', urls.pccsRootCaCrl, http);
      } catch (err) {
        // An older PCCS without `rootcacrl` answers 404: take the CRL from Intel's distribution point instead.
        if (!(err instanceof CollateralFetchError) || err.status !== 404) throw err;
        res = await pccsGet('root CA CRL', fallbackRootCrlUrl, http);
      }
    }
    return crlHexFromBody(res.body, 'root CA CRL');
  });

  try {
    const [tcb, qe, pck, root] = await Promise.all([tcbInfo, qeIdentity, pckCrl, rootCaCrl]);
    return {
      pck_crl_issuer_chain: pck.chain,
      root_ca_crl: root,
      pck_crl: pck.crl,
      tcb_info_issuer_chain: tcb.chain,
      tcb_info: tcb.doc.body,
      tcb_info_signature: tcb.doc.signature,
      qe_identity_issuer_chain: qe.chain,
      qe_identity: qe.doc.body,
      qe_identity_signature: qe.doc.signature,
    };
  } finally {
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}

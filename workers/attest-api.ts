import { emptyVerification } from '../lib/attest/report';
import type { Collateral, QuoteVerification, VerifyOptions } from '../lib/attest/types';
import type { CvmCheckRequest } from '../lib/deploy/types';
import type { TrustCheckId, TrustReport } from '../lib/seal/trust-gate';

/**
 * The comlink API of workers/attest.worker.ts and the runner the UI calls. Types and one pure helper only: this
 * module is imported by the page, so it must never pull the verifier (lib/attest/verify) into the main bundle
 * (lib/attest/report only shapes an empty answer).
 */

/** What the "TEE certificate" form hands over, unparsed: parsing happens in the worker too. */
export interface AttestVerifyRequest {
  /** Quote bytes (a binary quote or the bytes of a hex text file) or pasted hex text. */
  quote: Uint8Array | string;
  /**
   * Collateral JSON text (dcap-qvl `QuoteCollateralV3` form), the parsed object, or a PCCS to fetch it from (the
   * worker reads FMSPC and CA from the quote, and caches the answer in IndexedDB until it expires).
   */
  collateral: string | Collateral | CollateralFromPccs;
  options?: VerifyOptions;
}

export interface CollateralFromPccs {
  pccsUrl: string;
}

export const isCollateralFromPccs = (c: AttestVerifyRequest['collateral']): c is CollateralFromPccs =>
  typeof c === 'object' && c !== null && typeof (c as Partial<CollateralFromPccs>).pccsUrl === 'string';

export type { CvmCheckRequest };

/** Exposed by the worker. Never rejects for bad input: failures come back as `verified: false` + `error`. */
export interface AttestWorkerApi {
  verify(quote: Uint8Array, collateral: Collateral, options?: VerifyOptions): Promise<QuoteVerification>;
  /** Parses the raw inputs (hex or binary quote, collateral JSON) in the worker, then verifies. */
  verifyInput(request: AttestVerifyRequest): Promise<QuoteVerification>;
  /** The sealing trust gate (lib/seal checkCvmTrust) on a CVM's evidence; never rejects (`trusted: false` instead). */
  checkCvm(request: CvmCheckRequest): Promise<TrustReport>;
  /** lib/seal sealEnvForCvm: seals only for a trusted report of exactly this key; never rejects. */
  sealEnv(request: SealEnvRequest): Promise<SealEnvResult>;
}

/**
 * Sealing runs in the worker too: lib/seal keeps the sealer next to the gate, and the gate pulls the verifier,
 * which never enters the page's bundle.
 */
export interface SealEnvRequest {
  report: TrustReport;
  envPublicKey: string;
  env: Array<{ key: string; value: string }>;
}

export type SealEnvResult = { ok: true; sealedEnv: string } | { ok: false; error: { code: string; message: string } };

/** What the deploy flow calls: the trust gate and the sealer, off the page's thread. Both resolve in every case. */
export interface CvmTrustChecker {
  checkCvm(request: CvmCheckRequest): Promise<TrustReport>;
  sealEnv(request: SealEnvRequest): Promise<SealEnvResult>;
}

/** What pages call. Resolves with a verification result in every case (timeouts and crashes included). */
export interface AttestRunner {
  verify(request: AttestVerifyRequest): Promise<QuoteVerification>;
  /** Stops the worker; the next call starts a fresh one. */
  dispose(): void;
}

/**
 * Error codes the runner adds to the verifier's own (lib/attest/errors.ts): the worker did not answer in time,
 * or it stopped (script failed to load, uncaught error, out of memory).
 */
export type AttestRunnerErrorCode = 'verifier_timeout' | 'verifier_failed';

function dateOrNow(now: VerifyOptions['now']): Date {
  const t = now instanceof Date ? now.getTime() : typeof now === 'number' ? now : Date.now();
  return new Date(Number.isFinite(t) ? t : Date.now());
}

/**
 * A trust report for a check that could not run (no collateral, worker down): untrusted, with the quote check
 * failed and named, so the deploy flow stops and says why exactly like for any other failed check.
 */
export function failedTrustReport(
  error: { code: string; message: string },
  now?: VerifyOptions['now'],
  id: TrustCheckId = 'quote',
): TrustReport {
  return {
    trusted: false,
    checks: [{ id, label: 'The CVM’s quote is genuine and current', ok: false, detail: error.message }],
    failed: { id, message: error.message },
    verification: failedVerification(error, now),
  };
}

/** A result for a verification that stopped before the verifier could read anything. */
export function failedVerification(
  error: { code: string; message: string },
  now?: VerifyOptions['now'],
): QuoteVerification {
  return { ...emptyVerification(dateOrNow(now)), error: { code: error.code, message: error.message } };
}

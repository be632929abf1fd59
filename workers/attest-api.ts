import { emptyVerification } from '../lib/attest/report';
import type { Collateral, QuoteVerification, VerifyOptions } from '../lib/attest/types';

/**
 * The comlink API of workers/attest.worker.ts and the runner the UI calls. Types and one pure helper only: this
 * module is imported by the page, so it must never pull the verifier (lib/attest/verify) into the main bundle
 * (lib/attest/report only shapes an empty answer).
 */

/** What the "TEE certificate" form hands over, unparsed: parsing happens in the worker too. */
export interface AttestVerifyRequest {
  /** Quote bytes (a binary quote or the bytes of a hex text file) or pasted hex text. */
  quote: Uint8Array | string;
  /** Collateral JSON text (dcap-qvl `QuoteCollateralV3` form) or the parsed object. */
  collateral: string | Collateral;
  options?: VerifyOptions;
}

/** Exposed by the worker. Never rejects for bad input: failures come back as `verified: false` + `error`. */
export interface AttestWorkerApi {
  verify(quote: Uint8Array, collateral: Collateral, options?: VerifyOptions): Promise<QuoteVerification>;
  /** Parses the raw inputs (hex or binary quote, collateral JSON) in the worker, then verifies. */
  verifyInput(request: AttestVerifyRequest): Promise<QuoteVerification>;
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

/** A result for a verification that stopped before the verifier could read anything. */
export function failedVerification(error: { code: string; message: string }, now?: VerifyOptions['now']): QuoteVerification {
  return { ...emptyVerification(dateOrNow(now)), error: { code: error.code, message: error.message } };
}

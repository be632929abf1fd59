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

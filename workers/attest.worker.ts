import { expose } from 'comlink';
import { ClawkeepError, toErrorInfo, type ErrorInfo } from '../lib/errors';
import { parseCollateralJson } from '../lib/attest/collateral';
import { parseQuoteText } from '../lib/attest/quote-input';
import type { Collateral, QuoteVerification, VerifyOptions } from '../lib/attest/types';
import { verifyQuote } from '../lib/attest/verify';
import { defaultCollateralCache, getCollateral } from '../lib/attest/collateral-cache';
import { collateralNeeds } from '../lib/attest/collateral-needs';
import { checkCvmTrust, sealEnvForCvm, type TrustReport } from '../lib/seal/trust-gate';
import {
  failedTrustReport,
  failedVerification,
  isCollateralFromPccs,
  type AttestVerifyRequest,
  type AttestWorkerApi,
  type CvmCheckRequest,
  type SealEnvRequest,
  type SealEnvResult,
} from './attest-api';

/**
 * TDX/SGX quote verification runs here, never on the page: the UI only sees plain results. Every failure,
 * expected or not, becomes `verified: false` + `{code, message}`, so bad input cannot kill the worker.
 */

function asFailure(err: unknown, now: VerifyOptions['now']): QuoteVerification {
  return failedVerification(failureOf(err), now);
}

async function verify(quote: Uint8Array, collateral: Collateral, options?: VerifyOptions): Promise<QuoteVerification> {
  try {
    return await verifyQuote(quote, collateral, options);
  } catch (err) {
    return asFailure(err, options?.now);
  }
}

/** Fetches (or reads from the cache) the collateral this quote needs; fresh relative to the verification time. */
async function collateralFromPccs(quote: Uint8Array, pccsUrl: string, now: VerifyOptions['now']): Promise<Collateral> {
  return getCollateral(collateralNeeds(quote), {
    pccsUrl,
    cache: defaultCollateralCache(),
    ...(now === undefined ? {} : { now: new Date(now).getTime() }),
  });
}

/** The failure as a plain `{code, message}`: ours keep their code, anything else is a bug reported without detail. */
function failureOf(err: unknown): ErrorInfo {
  // Not ours: a bug. Keep the details in the worker's console, give the page a stable code.
  if (!(err instanceof ClawkeepError)) console.error('attest worker:', err);
  return toErrorInfo(err, { code: 'verifier_failed', message: 'The verifier failed unexpectedly on this input.' });
}

async function checkCvm(request: CvmCheckRequest): Promise<TrustReport> {
  const now = request?.expectations?.now;
  if (!request || typeof request !== 'object' || !request.evidence || !request.expectations) {
    return failedTrustReport({ code: 'quote_malformed', message: 'Nothing to check: no CVM evidence was given.' }, now);
  }
  let quote: Uint8Array;
  let collateral: Collateral;
  try {
    quote = parseQuoteText(request.evidence.quote);
    collateral = isCollateralFromPccs(request.collateral)
      ? await collateralFromPccs(quote, request.collateral.pccsUrl, now)
      : request.collateral;
  } catch (err) {
    return failedTrustReport(failureOf(err), now);
  }
  try {
    return await checkCvmTrust({ ...request.evidence, quote, collateral }, request.expectations);
  } catch (err) {
    return failedTrustReport(failureOf(err), now);
  }
}

async function sealEnv(request: SealEnvRequest): Promise<SealEnvResult> {
  try {
    return { ok: true, sealedEnv: await sealEnvForCvm(request?.report, request?.envPublicKey, request?.env) };
  } catch (err) {
    // SealError messages never carry an env value (lib/seal/errors.ts).
    return { ok: false, error: failureOf(err) };
  }
}

export const attestWorkerApi: AttestWorkerApi = {
  verify,
  checkCvm,
  sealEnv,
  async verifyInput(request: AttestVerifyRequest): Promise<QuoteVerification> {
    const now = request?.options?.now;
    let quote: Uint8Array;
    let collateral: Collateral;
    if (!request || typeof request !== 'object') {
      return failedVerification({ code: 'quote_malformed', message: 'Nothing to verify: no quote was given.' }, now);
    }
    try {
      quote = parseQuoteText(request.quote);
      collateral = isCollateralFromPccs(request.collateral)
        ? await collateralFromPccs(quote, request.collateral.pccsUrl, now)
        : typeof request.collateral === 'string'
          ? parseCollateralJson(request.collateral)
          : request.collateral;
    } catch (err) {
      return asFailure(err, now);
    }
    return verify(quote, collateral, request.options);
  },
};

// Only inside a real worker: unit tests import `attestWorkerApi` directly and must not start listening.
const scope = globalThis as { WorkerGlobalScope?: new () => unknown };
if (typeof scope.WorkerGlobalScope === 'function' && globalThis instanceof scope.WorkerGlobalScope)
  expose(attestWorkerApi);

/**
 * One bounded GET against a PCCS / Intel PCS: a timeout per attempt, a cap on the body size, retries with
 * exponential backoff for transient failures only (HTTP 5xx, network errors, timeouts), and errors that name the
 * collateral document and the HTTP status. Runs in browsers, workers and Node (plain `fetch`, no node: imports).
 */
import { AttestError } from './errors';
import { readBounded } from '../read-bounded';
import { attemptSignal } from '../attempt-signal';
import { sleep } from '../sleep';

/** An AttestError('collateral_fetch_failed') that also says which document failed and with which HTTP status. */
export class CollateralFetchError extends AttestError {
  readonly document: string;
  /** HTTP status of the last attempt; null when no response arrived (network error, timeout, abort). */
  readonly status: number | null;

  constructor(document: string, status: number | null, message: string, options?: { cause?: unknown }) {
    super('collateral_fetch_failed', message, options);
    this.document = document;
    this.status = status;
  }
}

export interface PccsHttpOptions {
  fetch: typeof fetch;
  signal?: AbortSignal;
  /** Per attempt, covering headers and body. */
  timeoutMs: number;
  /** Extra attempts after the first, for transient failures only. */
  retries: number;
  /** First backoff delay; doubles each retry. */
  retryDelayMs: number;
  maxResponseBytes: number;
}

export interface PccsResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** Why one attempt failed, and whether trying again could help. */
interface AttemptFailure {
  transient: boolean;
  status: number | null;
  reason: string;
  cause?: unknown;
}

const isFailure = (v: PccsResponse | AttemptFailure): v is AttemptFailure => 'transient' in v;

async function attempt(url: string, opts: PccsHttpOptions): Promise<PccsResponse | AttemptFailure> {
  const attemptAbort = attemptSignal(opts.timeoutMs, opts.signal);
  try {
    const response = await opts.fetch(url, {
      method: 'GET',
      signal: attemptAbort.signal,
      // Public documents: no cookies or HTTP auth of the browser profile travel with them.
      credentials: 'omit',
      headers: { accept: '*/*' },
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const text = response.statusText ? ` ${response.statusText}` : '';
      return { transient: response.status >= 500, status: response.status, reason: `HTTP ${response.status}${text}` };
    }
    const body = await readBounded(response, opts.maxResponseBytes);
    if (body === null) {
      return {
        transient: false,
        status: response.status,
        reason: `response larger than the ${opts.maxResponseBytes}-byte limit (HTTP ${response.status})`,
      };
    }
    return { status: response.status, headers: response.headers, body };
  } catch (err) {
    if (opts.signal?.aborted) return { transient: false, status: null, reason: 'aborted by the caller', cause: err };
    if (attemptAbort.timedOut())
      return { transient: true, status: null, reason: `timed out after ${opts.timeoutMs} ms` };
    // fetch rejects with a TypeError for DNS, connection, TLS and mid-body failures: all worth another try.
    return { transient: true, status: null, reason: 'network error', cause: err };
  } finally {
    attemptAbort.dispose();
  }
}

/**
 * GETs `url` and returns a 2xx response with its whole body, or throws CollateralFetchError naming `document`.
 */
export async function pccsGet(document: string, url: string, opts: PccsHttpOptions): Promise<PccsResponse> {
  const attempts = 1 + Math.max(0, Math.floor(opts.retries));
  let failure: AttemptFailure | undefined;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(opts.retryDelayMs * 2 ** (i - 1), opts.signal);
    if (opts.signal?.aborted) {
      failure = { transient: false, status: null, reason: 'aborted by the caller' };
      break;
    }
    const result = await attempt(url, opts);
    if (!isFailure(result)) return result;
    failure = result;
    if (!result.transient) break;
  }
  const f = failure!;
  const tries = f.transient && attempts > 1 ? ` (after ${attempts} attempts)` : '';
  throw new CollateralFetchError(
    document,
    f.status,
    `Could not fetch the ${document} from ${url}: ${f.reason}${tries}.`,
    f.cause === undefined ? undefined : { cause: f.cause },
  );
}

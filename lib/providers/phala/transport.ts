import * as v from 'valibot';
import { utf8Decode } from '../../bytes';
import { PhalaApiError, sanitizeDetail, type PhalaApiErrorCode } from './errors';
import { readBounded } from '../../read-bounded';
import { attemptSignal } from '../../attempt-signal';

/**
 * One JSON request to Phala Cloud or to a CVM's guest API: a timeout per attempt (AbortSignal), a cap on the body
 * size, retries with exponential backoff and full jitter for requests that are safe to repeat, and errors mapped
 * to PhalaApiError. Runs in browsers, workers and Node (plain fetch, no node: imports). Nothing here logs.
 *
 * What is retried (decided here, documented in docs of createPhalaClient):
 * - `idempotent: true` requests (GET; DELETE of a CVM) on network errors, timeouts, 429, 502, 503, 504 — the
 *   answer cannot change what the server did twice. A retried DELETE that then gets 404 counts as done: the first
 *   attempt deleted it and its answer was lost.
 * - Nothing else, not even on 429: provision and create are not idempotent (a second provision reserves a second
 *   app id; a second create could start a second CVM), start/stop/restart change state, and PATCH envs queues an
 *   update job that restarts the app — repeating one whose answer was lost would do it twice.
 * - 500 is not retried: it usually means the request reached the application and failed there.
 *
 * Requests carry the API key only in the `X-API-Key` header; redirects are refused (fetch keeps custom headers
 * across redirects, so a redirect could hand the key to another origin), cookies are never sent.
 */

export interface RetryOptions {
  /** Extra attempts after the first, for retryable requests only. Default 2. */
  retries?: number;
  /** First backoff ceiling; doubles per retry, capped at maxDelayMs. Default 300 ms. */
  baseDelayMs?: number;
  /** Ceiling of one backoff (and of a Retry-After we are willing to honour). Default 5000 ms. */
  maxDelayMs?: number;
}

export interface TransportOptions {
  fetch: typeof fetch;
  /** Per attempt, covering headers and body. */
  timeoutMs: number;
  retry: Required<RetryOptions>;
  maxResponseBytes: number;
  /** Values that must never appear in an error (the API key). */
  secrets: readonly string[];
  /** Injected for tests of the backoff schedule; defaults to setTimeout that honours the signal. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface JsonRequest<S extends v.GenericSchema> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  /** What the request is for, in error messages ("CVM state", "provision"). Never a secret. */
  what: string;
  headers: Record<string, string>;
  body?: unknown;
  /** Response schema; `null` for a response without a body (204). */
  schema: S | null;
  idempotent: boolean;
  signal?: AbortSignal;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { retries: 2, baseDelayMs: 300, maxDelayMs: 5000 };
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): uniform in [0, min(max, base·2^n)]. */
export function backoffDelay(retryIndex: number, retry: Required<RetryOptions>, random: () => number): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** retryIndex);
  return Math.floor(random() * ceiling);
}

/** Retry-After in seconds (delta form only; an HTTP date is rare on APIs and ignored). */
function retryAfterSeconds(headers: Headers): number | null {
  const raw = headers.get('retry-after');
  if (raw === null || !/^\d{1,6}$/.test(raw.trim())) return null;
  return Number(raw.trim());
}

function codeForStatus(status: number): PhalaApiErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 400 || status === 422) return 'invalid_request';
  if (status === 428 || status === 465) return 'precondition_required';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  return 'http_error';
}

const PHRASE: Partial<Record<PhalaApiErrorCode, string>> = {
  unauthorized: 'the API key was not accepted',
  forbidden: 'this API key is not allowed to do that',
  not_found: 'not found',
  conflict: 'conflicts with the current state',
  invalid_request: 'the request was rejected',
  precondition_required: 'the new compose hash must be registered first',
  rate_limited: 'too many requests',
  server_error: 'server error',
  http_error: 'unexpected answer',
};

function parseJsonText(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(utf8Decode(bytes)) };
  } catch {
    return { ok: false };
  }
}

type Attempt =
  | { kind: 'response'; status: number; headers: Headers; body: Uint8Array }
  | { kind: 'failure'; error: PhalaApiError; retryable: boolean };

async function attempt(req: JsonRequest<v.GenericSchema>, opts: TransportOptions): Promise<Attempt> {
  const attemptAbort = attemptSignal(opts.timeoutMs, req.signal);
  try {
    const response = await opts.fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: attemptAbort.signal,
      redirect: 'error',
      credentials: 'omit',
      cache: 'no-store',
    });
    const body = await readBounded(response, opts.maxResponseBytes);
    if (body === null) {
      return {
        kind: 'failure',
        retryable: false,
        error: new PhalaApiError(
          'bad_response',
          `Phala Cloud: the ${req.what} answer is larger than ${opts.maxResponseBytes} bytes.`,
          {
            status: response.status,
          },
        ),
      };
    }
    return { kind: 'response', status: response.status, headers: response.headers, body };
  } catch (err) {
    if (req.signal?.aborted) {
      return {
        kind: 'failure',
        retryable: false,
        error: new PhalaApiError('aborted', `Phala Cloud: the ${req.what} request was cancelled.`),
      };
    }
    if (attemptAbort.timedOut()) {
      return {
        kind: 'failure',
        retryable: true,
        error: new PhalaApiError(
          'timeout',
          `Phala Cloud: the ${req.what} request timed out after ${opts.timeoutMs} ms.`,
        ),
      };
    }
    // fetch rejects with a TypeError for DNS, connection, TLS, refused redirects and broken bodies. Its message
    // may contain the URL (never the key: the key is only in a header), but it is not shown; only kept as cause.
    return {
      kind: 'failure',
      retryable: true,
      error: new PhalaApiError('network', `Phala Cloud: could not complete the ${req.what} request (network error).`, {
        cause: err,
      }),
    };
  } finally {
    attemptAbort.dispose();
  }
}

function errorFromResponse(
  req: JsonRequest<v.GenericSchema>,
  status: number,
  headers: Headers,
  body: Uint8Array,
  secrets: readonly string[],
): PhalaApiError {
  const code = codeForStatus(status);
  const parsed = parseJsonText(body);
  const raw =
    parsed.ok && parsed.value && typeof parsed.value === 'object' && 'detail' in parsed.value
      ? parsed.value.detail
      : null;
  const detail = sanitizeDetail(raw, secrets);
  const phrase = PHRASE[code] ?? 'failed';
  const message = `Phala Cloud: ${req.what} — ${phrase} (HTTP ${status})${detail ? `: ${detail}` : '.'}`;
  return new PhalaApiError(code, message, { status, detail, retryAfterS: retryAfterSeconds(headers) });
}

/**
 * Sends `req`, retrying only where safe, and returns the parsed, validated response (undefined for schema null).
 * @throws PhalaApiError
 */
export async function requestJson<S extends v.GenericSchema>(
  req: JsonRequest<S>,
  opts: TransportOptions,
): Promise<v.InferOutput<S>> {
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  const maxAttempts = req.idempotent ? 1 + Math.max(0, opts.retry.retries) : 1;
  let last: PhalaApiError | null = null;

  for (let n = 0; n < maxAttempts; n++) {
    if (n > 0) {
      let delay = backoffDelay(n - 1, opts.retry, random);
      const after = last?.retryAfterS;
      if (after !== null && after !== undefined) {
        // A server that asks for longer than we are willing to wait gets its error back now, with retryAfterS set.
        if (after * 1000 > opts.retry.maxDelayMs) throw last!;
        delay = Math.max(delay, after * 1000);
      }
      try {
        await sleep(delay, req.signal);
      } catch {
        throw new PhalaApiError('aborted', `Phala Cloud: the ${req.what} request was cancelled.`);
      }
    }
    const result = await attempt(req, opts);
    if (result.kind === 'failure') {
      last = result.error;
      if (result.retryable) continue;
      throw result.error;
    }
    const { status, headers, body } = result;
    if (status >= 200 && status < 300) {
      if (req.schema === null) return undefined;
      const parsed = parseJsonText(body);
      if (!parsed.ok)
        throw new PhalaApiError('bad_response', `Phala Cloud: the ${req.what} answer is not JSON.`, { status });
      const checked = v.safeParse(req.schema, parsed.value);
      if (!checked.success) {
        const issue = checked.issues[0];
        const path = issue ? v.getDotPath(issue) : null;
        // The path and valibot's message name the field; the value itself is not echoed (it may be large).
        throw new PhalaApiError(
          'bad_response',
          `Phala Cloud: the ${req.what} answer is malformed${path ? ` at ${path}` : ''}${issue ? `: ${issue.message}` : ''}.`,
          { status },
        );
      }
      return checked.output;
    }
    // A DELETE whose earlier attempt got no answer (network error, timeout) may have succeeded: its 404 now means
    // "already gone". After an earlier *answer* (a 503) the 404 is the server's real verdict.
    if (req.method === 'DELETE' && status === 404 && n > 0 && last !== null && last.status === null) {
      return undefined;
    }
    const error = errorFromResponse(req, status, headers, body, opts.secrets);
    last = error;
    if (RETRYABLE_STATUS.has(status)) continue;
    throw error;
  }
  throw last!;
}

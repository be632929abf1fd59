/**
 * Typed errors of the Phala Cloud client. Callers (deploy flow, dashboard) branch on `code`; `status` is the HTTP
 * status when a response arrived; `detail` is the server's own explanation, sanitised (control characters removed,
 * the API key redacted, length capped) because it is shown to a person and may be logged.
 * Nothing here ever holds the API key, an env value or a request body.
 */
import { ClawkeepError } from '../../errors';

export type PhalaApiErrorCode =
  /** 401: the API key is missing, wrong or revoked. */
  | 'unauthorized'
  /** 403: the key is valid but not allowed to do this (workspace, quota, plan). */
  | 'forbidden'
  | 'not_found'
  /** 409: the CVM is in a state that does not allow this (e.g. start while starting), or a name is taken. */
  | 'conflict'
  /** 400 / 422: the server rejected the request body. */
  | 'invalid_request'
  /** 428 / 465: an on-chain KMS needs the new compose hash registered before the env update (spec §3). */
  | 'precondition_required'
  | 'rate_limited'
  /** 5xx after the retries this request was allowed. */
  | 'server_error'
  /** Any other non-2xx status. */
  | 'http_error'
  /** No response: DNS, connection, TLS, a refused redirect, or the body broke off. */
  | 'network'
  | 'timeout'
  /** The caller's AbortSignal fired. */
  | 'aborted'
  /** A 2xx response that is not the JSON shape the API promises (or is larger than the cap). */
  | 'bad_response'
  /** Refused before sending: an id, URL or body field that does not have the documented form. */
  | 'invalid_argument';

export class PhalaApiError extends ClawkeepError {
  declare readonly code: PhalaApiErrorCode;
  /** HTTP status of the last attempt; null when no response arrived or nothing was sent. */
  readonly status: number | null;
  /** The server's `detail`, sanitised; null when it sent none. */
  readonly detail: string | null;
  /** Seconds the server asked us to wait (Retry-After on 429/503), when it said so. */
  readonly retryAfterS: number | null;

  constructor(
    code: PhalaApiErrorCode,
    message: string,
    options: { status?: number | null; detail?: string | null; retryAfterS?: number | null; cause?: unknown } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PhalaApiError';
    this.status = options.status ?? null;
    this.detail = options.detail ?? null;
    this.retryAfterS = options.retryAfterS ?? null;
  }

  override toJSON(): { code: PhalaApiErrorCode; message: string; status: number | null; detail: string | null } {
    return { code: this.code, message: this.message, status: this.status, detail: this.detail };
  }
}

export const isPhalaApiError = (err: unknown): err is PhalaApiError => err instanceof PhalaApiError;

/** Longest `detail` we keep: enough for a sentence from the server, not enough to carry a document. */
export const MAX_DETAIL_CHARS = 300;

/**
 * Makes the server's `detail` safe to show and log: any value becomes text (FastAPI validation errors are arrays of
 * objects, Phala's structured errors are `{message, ...}`), every occurrence of a secret we hold is redacted
 * (a server or proxy may echo a request header), control characters and runs of whitespace collapse to one space,
 * and the result is capped.
 */
export function sanitizeDetail(raw: unknown, secrets: readonly string[]): string | null {
  let text: string;
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string') text = raw;
  else if (
    typeof raw === 'object' &&
    !Array.isArray(raw) &&
    typeof (raw as { message?: unknown }).message === 'string'
  ) {
    text = (raw as { message: string }).message;
  } else if (Array.isArray(raw)) {
    // FastAPI 422: [{loc:[...], msg:"...", type:"..."}]; keep the messages only.
    text = raw
      .map((item) =>
        item && typeof item === 'object' && typeof (item as { msg?: unknown }).msg === 'string'
          ? (item as { msg: string }).msg
          : '',
      )
      .filter(Boolean)
      .join('; ');
  } else {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any other JSON value, shown as JavaScript prints it
    text = String(raw);
  }
  for (const secret of secrets) {
    // Short strings would redact ordinary words; an API key is long. Redact before truncating so no prefix survives.
    if (secret.length >= 8) text = text.split(secret).join('[redacted]');
  }
  text = text
    // eslint-disable-next-line no-control-regex -- control characters are what this strips
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!text) return null;
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS - 1)}…` : text;
}

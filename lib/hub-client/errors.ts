/**
 * Typed errors of the hub client. `code` is the hub's API error code (docs/protocol.md §8) when the hub answered
 * with one, else one of the client's own codes. Messages never contain a secret, a key or a request signature.
 */
export type HubClientOwnCode =
  /** The hub could not be reached (offline, refused, CORS, aborted). */
  | 'hub_unreachable'
  /** The hub answered something that is not the documented shape. */
  | 'hub_bad_response'
  /** The hub URL is not an origin we may talk to. */
  | 'hub_url_invalid';

export class HubClientError extends Error {
  readonly code: string;
  /** HTTP status, 0 when there was no response. */
  readonly status: number;
  readonly requestId: string | null;

  constructor(code: string, message: string, options: { status?: number; requestId?: string | null; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'HubClientError';
    this.code = code;
    this.status = options.status ?? 0;
    this.requestId = options.requestId ?? null;
  }

  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

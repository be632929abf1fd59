/**
 * Typed errors of the HTTP calls the browser makes for an agent (issue 18, lib/http-request). The message is
 * written for the person and the agent; it never holds a secret's value, a request header's value or a body.
 */
import { ClawkeepError } from '../errors';

export type HttpCallErrorCode =
  // A secret's value cannot stand where its placeholder is (a line break in a header value, say).
  | 'http_secret_unusable'
  // The call did not get an answer: refused connection, TLS failure, DNS, a network error.
  | 'http_call_failed'
  // No complete answer within the time limit.
  | 'http_call_timeout'
  // The answer was larger than the response cap: nothing of it is returned.
  | 'http_response_too_large';

export class HttpCallError extends ClawkeepError {
  declare readonly code: HttpCallErrorCode;

  constructor(code: HttpCallErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'HttpCallError';
  }

  override toJSON(): { code: HttpCallErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

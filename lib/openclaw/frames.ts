/**
 * OpenClaw gateway wire frames (protocol v4, JSON text frames): encode requests, decode and strictly validate
 * responses and events. Spec: /work/shared/specs/openclaw-integration.md §1.
 */
import { relayedCode } from '../errors';
import { OpenClawError, scrubSecrets } from './errors';

/** Frames before hello-ok are capped at 64 KiB; after it, `hello-ok.policy.maxPayload` applies. */
export const PRE_AUTH_MAX_BYTES = 64 * 1024;

export interface RequestFrame {
  type: 'req';
  id: string;
  method: string;
  params?: unknown;
}

export interface GatewayErrorShape {
  code: string;
  message: string;
  details?: Record<string, unknown>;
  retryable?: boolean;
  retryAfterMs?: number;
}

export type ResponseFrame =
  | { type: 'res'; id: string; ok: true; payload: unknown }
  | { type: 'res'; id: string; ok: false; error: GatewayErrorShape };

export interface EventFrame {
  type: 'event';
  event: string;
  payload: unknown;
  seq?: number;
  stateVersion?: unknown;
}

export type ServerFrame = ResponseFrame | EventFrame;

const MAX_ID_LENGTH = 256;
const MAX_NAME_LENGTH = 256;

const encoder = new TextEncoder();

/** UTF-8 length of `text`, or Infinity as soon as it is certainly above `limit` (no encoding of huge strings). */
function utf8LengthUpTo(text: string, limit: number): number {
  if (text.length > limit) return Infinity; // every UTF-16 unit is at least one UTF-8 byte
  if (text.length * 3 <= limit) return text.length; // within limit whatever the content; exact size not needed
  return encoder.encode(text).length;
}

const invalid = (what: string): OpenClawError =>
  new OpenClawError('frame_invalid', `The gateway sent an invalid frame: ${what}.`);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const isName = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

/** Serialises a request frame; throws `frame_too_large` above `maxBytes`. */
export function encodeRequest(frame: RequestFrame, maxBytes: number): string {
  if (!isName(frame.id, MAX_ID_LENGTH))
    throw new OpenClawError('frame_invalid', 'Request id must be a non-empty string.');
  if (!isName(frame.method, MAX_NAME_LENGTH))
    throw new OpenClawError('frame_invalid', 'Request method must be a non-empty string.');
  const out: RequestFrame = { type: 'req', id: frame.id, method: frame.method };
  if (frame.params !== undefined) out.params = frame.params;
  const text = JSON.stringify(out);
  if (utf8LengthUpTo(text, maxBytes) > maxBytes) {
    throw new OpenClawError(
      'frame_too_large',
      `The request ${frame.method} is larger than the gateway accepts (${maxBytes} bytes).`,
    );
  }
  return text;
}

/**
 * Decodes one frame received from the gateway. Only text frames carrying a `res` or `event` object are valid.
 * Throws `frame_too_large` above `maxBytes`, `frame_invalid` for anything malformed.
 */
export function decodeServerFrame(data: unknown, maxBytes: number): ServerFrame {
  if (typeof data !== 'string') throw invalid('not a text frame');
  if (utf8LengthUpTo(data, maxBytes) > maxBytes) {
    throw new OpenClawError('frame_too_large', `The gateway sent a frame larger than ${maxBytes} bytes.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw invalid('not JSON');
  }
  if (!isRecord(value)) throw invalid('not an object');
  if (value.type === 'res') return decodeResponse(value);
  if (value.type === 'event') return decodeEvent(value);
  throw invalid(typeof value.type === 'string' ? `unexpected type "${value.type.slice(0, 32)}"` : 'missing type');
}

function decodeResponse(v: Record<string, unknown>): ResponseFrame {
  if (!isName(v.id, MAX_ID_LENGTH)) throw invalid('response without an id');
  if (v.ok === true) return { type: 'res', id: v.id, ok: true, payload: v.payload };
  if (v.ok !== false) throw invalid('response without ok');
  const e = v.error;
  if (!isRecord(e)) throw invalid('failed response without an error');
  if (!isName(e.code, MAX_NAME_LENGTH)) throw invalid('error without a code');
  if (typeof e.message !== 'string') throw invalid('error without a message');
  const error: GatewayErrorShape = { code: e.code, message: e.message };
  // The schema types details as unknown; only an object carries fields we read.
  if (isRecord(e.details)) error.details = e.details;
  if (e.retryable !== undefined) {
    if (typeof e.retryable !== 'boolean') throw invalid('error retryable not a boolean');
    error.retryable = e.retryable;
  }
  if (e.retryAfterMs !== undefined) {
    if (typeof e.retryAfterMs !== 'number' || !Number.isFinite(e.retryAfterMs) || e.retryAfterMs < 0)
      throw invalid('error retryAfterMs not a duration');
    error.retryAfterMs = e.retryAfterMs;
  }
  return { type: 'res', id: v.id, ok: false, error };
}

function decodeEvent(v: Record<string, unknown>): EventFrame {
  if (!isName(v.event, MAX_NAME_LENGTH)) throw invalid('event without a name');
  const frame: EventFrame = { type: 'event', event: v.event, payload: v.payload };
  if (v.seq !== undefined) {
    if (typeof v.seq !== 'number' || !Number.isSafeInteger(v.seq) || v.seq < 0)
      throw invalid('event seq not a counter');
    frame.seq = v.seq;
  }
  if (v.stateVersion !== undefined) frame.stateVersion = v.stateVersion;
  return frame;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const DETAIL_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * Turns a gateway error into an `OpenClawError`: code = `details.code` when it is one, else `error.code`. The
 * message is scrubbed of every secret in `secrets` (the client passes its token, device token and signature).
 */
export function gatewayError(
  error: GatewayErrorShape,
  secrets: readonly (string | null | undefined)[] = [],
): OpenClawError {
  const d = error.details ?? {};
  const detailCode = typeof d.code === 'string' && DETAIL_CODE_PATTERN.test(d.code) ? d.code : null;
  const requestId = typeof d.requestId === 'string' && REQUEST_ID_PATTERN.test(d.requestId) ? d.requestId : null;
  const reason = typeof d.reason === 'string' && d.reason.length <= 64 ? d.reason : null;
  const message = scrubSecrets(error.message, secrets).slice(0, 500) || error.code;
  return new OpenClawError(relayedCode(detailCode ?? error.code), message, {
    gatewayCode: error.code,
    retryable: error.retryable === true,
    retryAfterMs: error.retryAfterMs ?? null,
    requestId,
    reason,
  });
}

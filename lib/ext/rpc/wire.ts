import { fromBase64, toBase64 } from '../../bytes';
import { ClawkeepError, relayedCode, reviveError, toErrorInfo } from '../../errors';
import { HubClientError } from '../../hub-client/errors';
import { OpenClawError } from '../../openclaw/errors';
import { SyncError, type SyncErrorCode } from '../../protocol/sync-errors';

/**
 * What crosses between extension pages and the background (service.ts). Chrome serialises runtime messages as
 * JSON, so bytes travel as `{$bytes: base64}` (encodeWire / decodeWire); calls posted to the service worker with a
 * port (port-client.ts, port-server.ts) are structured-cloned and carry bytes as they are. Errors cross either way
 * as a plain {@link WireError} (errorToWire / errorFromWire): never a stack, a cause or a secret.
 */

/** A page's call: `args` are the method's positional arguments, bytes encoded. */
export interface ServiceRequest {
  channel: string;
  method: string;
  args: unknown;
}

/**
 * An error as it crosses the boundary: its typed `code` and a message fit for a person, plus its `family` when the
 * page may test for that subclass of ClawkeepError (the hub client's, the OpenClaw client's or sync's).
 */
export interface WireError {
  family?: 'HubClientError' | 'OpenClawError' | 'SyncError';
  code: string;
  message: string;
  /** Extra, non-secret facts some families carry (OpenClaw: retryable, retryAfterMs, requestId). */
  [extra: string]: unknown;
}

export type ServiceResponse = { ok: true; value: unknown } | { ok: false; error: WireError };

/**
 * A page's call posted to the extension's service worker (worker-port.ts) with a MessagePort for the answer. The
 * same call as {@link ServiceRequest}, but structured-cloned: `args` hold bytes as they are (no `$bytes`), and
 * `id` names the call for the liveness question ({@link RPC_PENDING_CHANNEL}).
 */
export interface PortRequest extends ServiceRequest {
  id: string;
}

/**
 * Runtime channel on which a page waiting for a port answer asks the worker whether it still holds call `id`
 * (`{channel, id}` → `true` | `false`): a MessagePort says nothing when the worker behind it stops.
 */
export const RPC_PENDING_CHANNEL = 'clawkeep.rpc.pending';

/** A change the background announces to every open page. */
export interface ServiceEventMessage<E = unknown> {
  channel: string;
  event: E;
}

const BYTES_TAG = '$bytes';

/**
 * Rebuilds `value` with `map` applied to every element or own property, copying an array or object only when
 * `map` changed something inside it: a list of 10,000 item summaries, which holds no bytes, crosses as it is
 * instead of as 20,000 copied objects. A copied object is rebuilt with Object.fromEntries (own data properties,
 * so a key named `__proto__` stays a plain key).
 */
function mapDeep(value: unknown, map: (v: unknown) => unknown): unknown {
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const m = map(v);
      if (m !== v) (out ??= value.slice())[i] = m;
    }
    return out ?? value;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  let out: [string, unknown][] | null = null;
  for (let i = 0; i < keys.length; i++) {
    const v = obj[keys[i]!];
    const m = map(v);
    if (out) out.push([keys[i]!, m]);
    else if (m !== v) {
      out = keys.slice(0, i).map((k) => [k, obj[k]]);
      out.push([keys[i]!, m]);
    }
  }
  return out ? Object.fromEntries(out) : value;
}

/** Replaces every Uint8Array by `{$bytes: base64}` so it survives JSON-based messaging. */
export function encodeWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return { [BYTES_TAG]: toBase64(value) };
  if (value && typeof value === 'object') return mapDeep(value, encodeWire);
  return value;
}

/**
 * The inverse of {@link encodeWire}.
 * @throws ClawkeepError `rpc_invalid_args` when a `$bytes` value is not base64 (only a broken or hostile caller sends that).
 */
export function decodeWire(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  if (!Array.isArray(value)) {
    const keys = Object.keys(value);
    const bytes = (value as Record<string, unknown>)[BYTES_TAG];
    if (keys.length === 1 && keys[0] === BYTES_TAG && typeof bytes === 'string') {
      try {
        return fromBase64(bytes);
      } catch {
        throw new ClawkeepError('rpc_invalid_args', 'Bytes in the request are not valid base64.');
      }
    }
  }
  return mapDeep(value, decodeWire);
}

/**
 * THE serialiser: any error thrown behind the boundary, as it may cross it. Our own error families keep their code
 * and message (written for a person, never holding a secret); anything else is a bug and crosses as `internal` with
 * a generic message, so its text (which might hold anything) never reaches a page.
 */
export function errorToWire(err: unknown): WireError {
  // Every family extends ClawkeepError (lib/errors.ts); the three whose class a page may test keep their family so
  // the reviver rebuilds that class with its extra, non-secret fields. Everything else is toErrorInfo's mapping.
  if (err instanceof HubClientError) return { family: 'HubClientError', ...err.toJSON() };
  if (err instanceof OpenClawError) return { family: 'OpenClawError', ...err.toJSON() };
  if (err instanceof SyncError) return { family: 'SyncError', ...err.toJSON() };
  return { ...toErrorInfo(err) };
}

/** THE reviver: the typed error a page's caller catches, of the family that was thrown in the background. */
export function errorFromWire(wire: unknown): Error {
  if (
    !wire ||
    typeof wire !== 'object' ||
    typeof (wire as WireError).code !== 'string' ||
    typeof (wire as WireError).message !== 'string'
  ) {
    return new ClawkeepError('rpc_failed', 'The request failed for an unknown reason.');
  }
  const w = wire as WireError;
  switch (w.family) {
    case 'HubClientError':
      return new HubClientError(relayedCode(w.code), w.message);
    case 'OpenClawError':
      return new OpenClawError(relayedCode(w.code), w.message, {
        retryable: w.retryable === true,
        retryAfterMs: typeof w.retryAfterMs === 'number' ? w.retryAfterMs : null,
        requestId: typeof w.requestId === 'string' ? w.requestId : null,
      });
    case 'SyncError':
      return new SyncError(w.code as SyncErrorCode, w.message);
    default:
      // ClawkeepError and its subclasses (WrongPassphraseError, VaultLockedError rebuilt by code).
      return reviveError({ code: w.code, message: w.message });
  }
}

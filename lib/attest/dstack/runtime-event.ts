import { sha384 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, utf8Encode } from '../../bytes';
import { canonicalize } from '../../protocol/canonical';
import { AttestError } from '../errors';

/**
 * dstack runtime events: what the guest extends into RTMR3 (dstack `cc-eventlog/src/runtime_events.rs`).
 * Their digests are recomputed from name and payload, never taken from the log, so a log cannot claim one
 * event while having extended another.
 */

/** Event type of dstack runtime events (not a TCG type); V1 and V2 share it. */
export const DSTACK_RUNTIME_EVENT_TYPE = 0x08000001;
/** The register dstack extends runtime events into. */
export const DSTACK_RUNTIME_IMR = 3;

export interface RuntimeEventContent {
  /** Event name (`event` in the JSON log). */
  name: string;
  /** Payload bytes (`event_payload`, hex in the JSON log). */
  payload: Uint8Array;
  /** Digest format: 1 (default) or 2. */
  version: 1 | 2;
}

const SEPARATOR = utf8Encode(':');

function le32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

/**
 * The exact bytes dstack hashes for a runtime event:
 * - V1: le32(0x08000001) ‖ ":" ‖ UTF-8 name ‖ ":" ‖ payload
 * - V2: UTF-8 of the JCS object `{"name":<name>,"payload":"<lower-case hex>","type":134217729}`
 *
 * For V2 the object has three fixed keys whose JCS order is `name < payload < type`, a hex payload that needs no
 * escaping and a safe-integer type, so only the name string needs canonical encoding; we let `canonicalize`
 * encode that string and assemble the object around it. (Canonicalizing the whole object would also work,
 * but its 64 KiB document ceiling would reject a legitimate event with a large payload.)
 * @throws AttestError `event_log_malformed` when the name cannot be canonicalized (e.g. a lone surrogate)
 */
export function runtimeEventPreimage(event: RuntimeEventContent): Uint8Array {
  if (event.version === 1) {
    return concatBytes(le32(DSTACK_RUNTIME_EVENT_TYPE), SEPARATOR, utf8Encode(event.name), SEPARATOR, event.payload);
  }
  let name: string;
  try {
    name = canonicalize(event.name);
  } catch (err) {
    throw new AttestError('event_log_malformed', `Runtime event name cannot be canonicalized for a version 2 digest.`, {
      cause: err,
    });
  }
  return utf8Encode(`{"name":${name},"payload":"${toHex(event.payload)}","type":${DSTACK_RUNTIME_EVENT_TYPE}}`);
}

/** SHA-384 digest dstack extends into RTMR3 for this event. */
export function runtimeEventDigest(event: RuntimeEventContent): Uint8Array {
  return sha384(runtimeEventPreimage(event));
}

/** Convenience for callers holding the JSON form's hex payload. */
export function runtimeEventFromJson(
  name: string,
  payloadHex: string,
  version: number | undefined,
): RuntimeEventContent {
  return { name, payload: fromHex(payloadHex), version: version === 2 ? 2 : 1 };
}

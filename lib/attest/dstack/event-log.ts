import { toHex } from '../../bytes';
import { AttestError } from '../errors';
import type { DstackEvent } from '../types';
import {
  DSTACK_RUNTIME_EVENT_TYPE,
  DSTACK_RUNTIME_IMR,
  runtimeEventFromJson,
  runtimeEventPreimage,
} from './runtime-event';

/**
 * Parses the `event_log` of dstack's GetQuote (a JSON string of an array of
 * `{imr, event_type, digest, event, event_payload, version?, preimage?}`, or that array already parsed) into
 * validated `DstackEvent`s. The log comes from the host side of the attestation and is attacker data until it
 * replays into the quote's RTMRs, so every field is checked and sizes are bounded before anything is hashed.
 *
 * Accepted forms (dstack `cc-eventlog/src/tdx.rs` `TdxEvent` serialized with serde):
 * - `imr` integer 0..3; `event_type` u32; `event` string; `event_payload` hex (may be empty — dstack strips
 *   firmware payloads, only their digest matters);
 * - `digest` 96 hex chars; dstack's stripped form leaves it empty on runtime events (their digest is always
 *   recomputed), so an empty digest is accepted there and nowhere else;
 * - `version` absent, 1 or 2 (runtime event digest format);
 * - `preimage` (hex, V2 logs): optional; when present it must be exactly the preimage we recompute;
 * - other keys are ignored: they are not hashed and not read, and dstack may add fields.
 * A TCG EV_NO_ACTION entry (type 3) is a log header that is never extended: skipped at index 0 (a raw CCEL
 * converted to JSON starts with one), rejected anywhere else.
 * Output: hex fields lower-case, `version` present only when 2.
 */

export const MAX_EVENT_LOG_EVENTS = 4096;
/** Ceiling on the JSON text (UTF-16 code units) or, for an array, on the summed string fields. */
export const MAX_EVENT_LOG_CHARS = 4 * 1024 * 1024;
/** dstack event names are short identifiers; this only stops absurd inputs. */
export const MAX_EVENT_NAME_CHARS = 1024;
export const EV_NO_ACTION = 3;

const DIGEST_HEX = /^[0-9a-fA-F]{96}$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
// With the `u` flag a well-formed surrogate pair is one code point, so this matches lone surrogates only.
const LONE_SURROGATE = /\p{Cs}/u;
const MAX_U32 = 0xffffffff;

const malformed = (message: string): AttestError => new AttestError('event_log_malformed', message);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function field(entry: Record<string, unknown>, key: string): unknown {
  // Own data properties only: a getter or an inherited key must not feed the replay.
  const desc = Object.getOwnPropertyDescriptor(entry, key);
  if (desc === undefined) return undefined;
  if (!('value' in desc)) throw malformed(`Event log field "${key}" is not a plain value.`);
  return desc.value;
}

function parseEntry(entry: unknown, index: number): DstackEvent & { preimage?: string } {
  const where = `Event log entry ${index}`;
  if (!isPlainObject(entry)) throw malformed(`${where} is not an object.`);
  const imr = field(entry, 'imr');
  const eventType = field(entry, 'event_type');
  const digest = field(entry, 'digest');
  const name = field(entry, 'event');
  const payload = field(entry, 'event_payload');
  const version = field(entry, 'version');
  const preimage = field(entry, 'preimage');

  if (typeof imr !== 'number' || !Number.isInteger(imr) || imr < 0 || imr > 3) {
    throw malformed(`${where}: "imr" must be an integer 0..3.`);
  }
  if (typeof eventType !== 'number' || !Number.isInteger(eventType) || eventType < 0 || eventType > MAX_U32) {
    throw malformed(`${where}: "event_type" must be an unsigned 32-bit integer.`);
  }
  if (typeof name !== 'string') throw malformed(`${where}: "event" must be a string.`);
  if (name.length > MAX_EVENT_NAME_CHARS)
    throw malformed(`${where}: "event" is longer than ${MAX_EVENT_NAME_CHARS} characters.`);
  if (LONE_SURROGATE.test(name)) throw malformed(`${where}: "event" is not valid Unicode.`);
  if (typeof payload !== 'string' || !HEX.test(payload)) throw malformed(`${where}: "event_payload" must be hex.`);
  if (version !== undefined && version !== 1 && version !== 2) {
    throw malformed(`${where}: "version" must be 1 or 2.`);
  }
  if (preimage !== undefined && (typeof preimage !== 'string' || !HEX.test(preimage))) {
    throw malformed(`${where}: "preimage" must be hex.`);
  }
  const runtime = eventType === DSTACK_RUNTIME_EVENT_TYPE;
  if (runtime && imr !== DSTACK_RUNTIME_IMR) {
    throw malformed(`${where}: runtime event "${name}" is on IMR ${imr}; dstack runtime events are only on IMR 3.`);
  }
  if (typeof digest !== 'string' || !(DIGEST_HEX.test(digest) || (runtime && digest === ''))) {
    throw malformed(`${where}: "digest" must be 96 hex characters (SHA-384).`);
  }
  const out: DstackEvent & { preimage?: string } = {
    imr,
    event_type: eventType,
    digest: digest.toLowerCase(),
    event: name,
    event_payload: payload.toLowerCase(),
  };
  if (version === 2) out.version = 2;
  if (typeof preimage === 'string') out.preimage = preimage.toLowerCase();
  return out;
}

/** Summed length of the string fields a caller-supplied array carries, stopping once past the ceiling. */
function arrayTextSize(entries: unknown[]): number {
  let size = 0;
  for (const entry of entries) {
    if (!isPlainObject(entry)) continue;
    for (const key of ['digest', 'event', 'event_payload', 'preimage']) {
      const desc = Object.getOwnPropertyDescriptor(entry, key);
      if (desc && 'value' in desc && typeof desc.value === 'string') size += desc.value.length;
    }
    if (size > MAX_EVENT_LOG_CHARS) return size;
  }
  return size;
}

/**
 * Validates and normalizes a dstack event log.
 * @throws AttestError `event_log_malformed` for anything outside the accepted form or limits;
 *   `event_log_mismatch` when a runtime event's supplied `preimage` is not the one its fields produce.
 */
// eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- the union documents the accepted shapes; anything else is refused
export function parseDstackEventLog(input: string | readonly DstackEvent[] | unknown): DstackEvent[] {
  let entries: unknown;
  if (typeof input === 'string') {
    if (input.length > MAX_EVENT_LOG_CHARS)
      throw malformed(`The event log is larger than ${MAX_EVENT_LOG_CHARS} characters.`);
    try {
      entries = JSON.parse(input);
    } catch {
      throw malformed('The event log is not valid JSON.');
    }
  } else {
    entries = input;
  }
  if (!Array.isArray(entries)) throw malformed('The event log is not a JSON array.');
  if (entries.length > MAX_EVENT_LOG_EVENTS) {
    throw malformed(`The event log has ${entries.length} entries; at most ${MAX_EVENT_LOG_EVENTS} are accepted.`);
  }
  if (typeof input !== 'string' && arrayTextSize(entries) > MAX_EVENT_LOG_CHARS) {
    throw malformed(`The event log is larger than ${MAX_EVENT_LOG_CHARS} characters.`);
  }

  const events: DstackEvent[] = [];
  for (let i = 0; i < entries.length; i++) {
    if (!(i in entries)) throw malformed(`Event log entry ${i} is missing.`);
    const parsed = parseEntry(entries[i], i);
    if (parsed.event_type === EV_NO_ACTION) {
      if (i === 0) continue;
      throw malformed(`Event log entry ${i} is an EV_NO_ACTION record, which is only valid as the log header.`);
    }
    const { preimage, ...event } = parsed;
    if (preimage !== undefined && event.event_type === DSTACK_RUNTIME_EVENT_TYPE) {
      const expected = runtimeEventPreimage(runtimeEventFromJson(event.event, event.event_payload, event.version));
      if (preimage !== toHex(expected)) {
        throw new AttestError(
          'event_log_mismatch',
          `Runtime event ${i} ("${event.event}") carries a digest preimage that is not the one its name and payload produce.`,
        );
      }
    }
    events.push(event);
  }
  return events;
}

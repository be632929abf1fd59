import { sha384 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, fromHex, toHex } from '../../bytes';
import { AttestError } from '../errors';
import type { DstackEvent } from '../types';
import { DSTACK_RUNTIME_EVENT_TYPE, runtimeEventDigest, runtimeEventFromJson } from './runtime-event';
import { shortHexPair } from './hex';

/**
 * RTMR replay: each register starts at 48 zero bytes and every event of that register, in log order, extends
 * it as MR := SHA-384(MR ‖ digest). Firmware/kernel events (IMR 0–2) contribute their supplied digest (their
 * payloads may be stripped); dstack runtime events contribute the digest recomputed from name and payload, and
 * a supplied digest that differs from it rejects the log (it would mean the log shows other content than was
 * extended — dstack#1294).
 */

export type Rtmrs = [Uint8Array, Uint8Array, Uint8Array, Uint8Array];

/** The digest an event extends, after checking a runtime event's supplied digest against its content. */
export function extendedDigest(event: DstackEvent, index: number): Uint8Array {
  if (event.event_type !== DSTACK_RUNTIME_EVENT_TYPE) return fromHex(event.digest);
  const digest = runtimeEventDigest(runtimeEventFromJson(event.event, event.event_payload, event.version));
  if (event.digest !== '' && !equalBytes(fromHex(event.digest), digest)) {
    const [claimed, actual] = shortHexPair(event.digest, toHex(digest));
    throw new AttestError(
      'event_log_mismatch',
      `Runtime event ${index} ("${event.event}") claims digest ${claimed}, but its name and payload hash to ${actual}.`,
    );
  }
  return digest;
}

/** Replays all four registers from a parsed log. */
export function replayRtmrs(events: readonly DstackEvent[]): Rtmrs {
  const mrs: Rtmrs = [new Uint8Array(48), new Uint8Array(48), new Uint8Array(48), new Uint8Array(48)];
  events.forEach((event, index) => {
    const imr = event.imr as 0 | 1 | 2 | 3;
    mrs[imr] = sha384(concatBytes(mrs[imr], extendedDigest(event, index)));
  });
  return mrs;
}

/**
 * Compares replayed registers with the quote's (lower-case hex from the TD report), RTMR0 first.
 * @throws AttestError `event_log_mismatch` naming the first register that differs
 */
export function checkReplay(replayed: Rtmrs, quoteRtmrs: readonly [string, string, string, string]): void {
  for (let i = 0; i < 4; i++) {
    const quoted = quoteRtmrs[i]!;
    if (!/^[0-9a-fA-F]{96}$/.test(quoted) || !equalBytes(fromHex(quoted), replayed[i]!)) {
      const [fromLog, fromQuote] = shortHexPair(toHex(replayed[i]!), quoted);
      throw new AttestError(
        'event_log_mismatch',
        `RTMR${i} replayed from the event log is ${fromLog}, but the quote says ${fromQuote}: ` +
          `the event log is not the one this TD measured.`,
      );
    }
  }
}

import { fromHex, utf8Decode } from '../../bytes';
import { AttestError } from '../errors';
import type { DstackEvent } from '../types';
import { DSTACK_RUNTIME_EVENT_TYPE } from './runtime-event';

/**
 * The app identity dstack measures at boot (dstack `dstack-util/src/system_setup.rs`): IMR3 runtime events from
 * `system-preparing` up to `system-ready`. Everything after `system-ready` is emitted by the app through the
 * guest API and is attacker-controlled as far as identity goes, so it is ignored, exactly as dstack's own
 * `find_event` does (near/mpc#735, #795). Before `system-ready` each identity event may appear once: a second
 * `compose-hash` would let a reader pick the wrong one. Call this only on a log that replayed into the quote.
 */

export const SYSTEM_READY = 'system-ready';

export interface BootIdentity {
  composeHash: Uint8Array | null;
  appId: Uint8Array | null;
  instanceId: Uint8Array | null;
  osImageHash: Uint8Array | null;
  keyProvider: { name: string; id: string } | null;
  /** Hex payload of the key-provider event when it is not the `{"name","id"}` JSON form. */
  keyProviderRaw: string | null;
  /** Runtime event names in log order, up to and including `system-ready`. */
  bootEvents: string[];
  /** Whether `system-ready` was seen; without it the boot had not finished and the identity is not final. */
  systemReady: boolean;
}

/** Identity events and the payload sizes dstack writes for them (null = any size). */
const IDENTITY_EVENTS: Record<string, readonly number[] | null> = {
  'app-id': [20],
  'compose-hash': [32],
  // 20 bytes, or empty when the compose sets no_instance_id.
  'instance-id': [20, 0],
  'os-image-hash': [32],
  'key-provider': null,
};

const malformed = (message: string): AttestError => new AttestError('event_log_malformed', message);

const HEX_ID = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Decodes the key-provider payload: UTF-8 JSON `{"name":"kms","id":"<hex>"}` (dstack `KeyProviderInfo`). Any
 * other shape is kept raw for display; policy checks on the key provider then fail closed.
 */
function decodeKeyProvider(payload: Uint8Array): { name: string; id: string } | null {
  let value: unknown;
  try {
    value = JSON.parse(utf8Decode(payload));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { name, id } = value as Record<string, unknown>;
  if (typeof name !== 'string' || typeof id !== 'string' || !HEX_ID.test(id)) return null;
  return { name, id: id.toLowerCase() };
}

/**
 * @throws AttestError `event_log_malformed` for a duplicate identity event before `system-ready` or an identity
 *   payload of the wrong size
 */
export function extractBootIdentity(events: readonly DstackEvent[]): BootIdentity {
  const identity: BootIdentity = {
    composeHash: null,
    appId: null,
    instanceId: null,
    osImageHash: null,
    keyProvider: null,
    keyProviderRaw: null,
    bootEvents: [],
    systemReady: false,
  };
  const seen = new Set<string>();
  for (const event of events) {
    if (event.event_type !== DSTACK_RUNTIME_EVENT_TYPE) continue;
    // parseDstackEventLog already rejects runtime events elsewhere; checked again because this is the
    // boundary that decides what counts as identity.
    if (event.imr !== 3) throw malformed(`Runtime event "${event.event}" is on IMR ${event.imr}, not IMR 3.`);
    identity.bootEvents.push(event.event);
    if (event.event === SYSTEM_READY) {
      identity.systemReady = true;
      break;
    }
    if (!Object.hasOwn(IDENTITY_EVENTS, event.event)) continue;
    if (seen.has(event.event)) {
      throw malformed(
        `The event log has a second "${event.event}" event before system-ready; a boot measures it once.`,
      );
    }
    seen.add(event.event);
    const payload = fromHex(event.event_payload);
    const sizes = IDENTITY_EVENTS[event.event];
    if (sizes && !sizes.includes(payload.length)) {
      throw malformed(
        `The "${event.event}" event carries ${payload.length} bytes; dstack writes ${sizes.join(' or ')}.`,
      );
    }
    switch (event.event) {
      case 'app-id':
        identity.appId = payload;
        break;
      case 'compose-hash':
        identity.composeHash = payload;
        break;
      case 'instance-id':
        identity.instanceId = payload;
        break;
      case 'os-image-hash':
        identity.osImageHash = payload;
        break;
      case 'key-provider':
        identity.keyProvider = decodeKeyProvider(payload);
        identity.keyProviderRaw = identity.keyProvider ? null : event.event_payload;
        break;
    }
  }
  return identity;
}

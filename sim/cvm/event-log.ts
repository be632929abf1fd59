/**
 * The event log of a simulated dstack CVM: the OS image's boot events (IMR 0–2) followed by the runtime events
 * dstack's `system_setup.rs` extends into RTMR3 while the CVM boots (V1 digests), and the registers they replay
 * to. Written independently of lib/attest/dstack (which verifies it), from specs/tdx-verification.md §6.
 */
import { sha384 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { concatBytes, fromHex, toHex, utf8Encode } from '../../lib/bytes';
import type { DstackEvent } from '../../lib/attest/types';
import type { SimOsImage } from './os-image';

export const RUNTIME_EVENT_TYPE = 0x08000001;

/** What the CVM measures about itself at boot (hex strings). */
export interface CvmBootIdentity {
  appId: string; // 20 bytes
  composeHash: string; // 32 bytes: SHA-256 of app-compose.json (or, misbehaving, something else)
  instanceId: string; // 20 bytes
  osImageHash: string; // 32 bytes
  /** Hex DER SPKI of the KMS root CA: the key-provider event's "id". */
  kmsCaPubkey: string;
  storageFs?: string;
}

/** V1 runtime event digest: SHA-384(le32(0x08000001) ‖ ":" ‖ name ‖ ":" ‖ payload). */
export function runtimeDigestV1(name: string, payload: Uint8Array): Uint8Array {
  const type = Uint8Array.of(
    RUNTIME_EVENT_TYPE & 0xff,
    (RUNTIME_EVENT_TYPE >> 8) & 0xff,
    (RUNTIME_EVENT_TYPE >> 16) & 0xff,
    RUNTIME_EVENT_TYPE >>> 24,
  );
  return sha384(concatBytes(type, utf8Encode(':'), utf8Encode(name), utf8Encode(':'), payload));
}

function runtimeEvent(name: string, payload: Uint8Array): DstackEvent {
  return {
    imr: 3,
    event_type: RUNTIME_EVENT_TYPE,
    digest: toHex(runtimeDigestV1(name, payload)),
    event: name,
    event_payload: toHex(payload),
  };
}

/** The key-provider payload dstack writes for a KMS: UTF-8 JSON `{"name":"kms","id":"<hex SPKI>"}`. */
export const keyProviderPayload = (kmsCaPubkey: string): string => JSON.stringify({ name: 'kms', id: kmsCaPubkey });

/** Runtime events up to and including system-ready, in dstack's order. */
export function runtimeEvents(identity: CvmBootIdentity): DstackEvent[] {
  return [
    runtimeEvent('system-preparing', new Uint8Array()),
    runtimeEvent('app-id', fromHex(identity.appId)),
    runtimeEvent('compose-hash', fromHex(identity.composeHash)),
    runtimeEvent('instance-id', fromHex(identity.instanceId)),
    runtimeEvent('boot-mr-done', new Uint8Array()),
    runtimeEvent('os-image-hash', fromHex(identity.osImageHash)),
    runtimeEvent('key-provider', utf8Encode(keyProviderPayload(identity.kmsCaPubkey))),
    runtimeEvent('storage-fs', utf8Encode(identity.storageFs ?? 'zfs')),
    runtimeEvent('system-ready', new Uint8Array()),
  ];
}

/** Folds the digests of one IMR: MR := SHA-384(MR ‖ digest) from 48 zero bytes. */
export function replayImr(events: readonly DstackEvent[], imr: number): string {
  let mr = new Uint8Array(48);
  for (const e of events) if (e.imr === imr) mr = sha384(concatBytes(mr, fromHex(e.digest)));
  return toHex(mr);
}

export interface CvmEventLog {
  events: DstackEvent[];
  rtmrs: [string, string, string, string];
}

export function buildEventLog(image: SimOsImage, identity: CvmBootIdentity): CvmEventLog {
  const events = [...image.bootEvents, ...runtimeEvents(identity)];
  return { events, rtmrs: [replayImr(events, 0), replayImr(events, 1), replayImr(events, 2), replayImr(events, 3)] };
}

/**
 * MRCONFIGID form 2, as dstack's VMM sets it for a KMS-backed app: 02 ‖ Keccak-256(compose_hash ‖ app_id ‖ 0x02
 * (key provider kind "kms") ‖ KMS CA SPKI) ‖ zero padding to 48 bytes.
 */
export function mrConfigIdFor(identity: CvmBootIdentity): string {
  const binding = keccak_256(
    concatBytes(
      fromHex(identity.composeHash),
      fromHex(identity.appId),
      Uint8Array.of(2),
      fromHex(identity.kmsCaPubkey),
    ),
  );
  const out = new Uint8Array(48);
  out[0] = 2;
  out.set(binding, 1);
  return toHex(out);
}

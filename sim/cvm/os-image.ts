/**
 * The simulated dstack OS image: what a real image's firmware, kernel and initrd would measure into MRTD and
 * RTMR0–2. Its boot events are synthetic (digests of fixed labels) but deterministic, so the published
 * measurement is the same at every start and the event log replays to it exactly as a real log does.
 */
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, utf8Encode } from '../../lib/bytes';
import type { DstackEvent } from '../../lib/attest/types';

export interface OsImageMeasurement {
  mrtd: string;
  rtmr0: string;
  rtmr1: string;
  rtmr2: string;
}

export interface SimOsImage {
  name: string;
  version: string;
  /** SHA-256 naming the image (what the os-image-hash runtime event carries), hex. */
  osImageHash: string;
  isDev: boolean;
  measurement: OsImageMeasurement;
  /** Firmware/kernel events on IMR 0–2, in boot order (payloads stripped, as dstack serves them). */
  bootEvents: DstackEvent[];
}

// TCG event types a TDX guest's firmware and bootloader log (UEFI spec / TCG PC Client spec).
const EV_SEPARATOR = 0x4;
const EV_EVENT_TAG = 0x6;
const EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000001;
const EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003;
const EV_EFI_HANDOFF_TABLES2 = 0x8000000b;
const EV_EFI_PLATFORM_FIRMWARE_BLOB2 = 0x8000000a;

const label = (image: string, what: string) => sha384(utf8Encode(`clawkeep-cvm-simulator/${image}/${what}`));

function replay(events: DstackEvent[], imr: number): string {
  let mr = new Uint8Array(48);
  for (const e of events) if (e.imr === imr) mr = sha384(concatBytes(mr, fromHex(e.digest)));
  return toHex(mr);
}

export function simulatedOsImage(name = 'dstack-0.5.4-sim', version = '0.5.4'): SimOsImage {
  const boot = (imr: number, eventType: number, what: string): DstackEvent => ({
    imr,
    event_type: eventType,
    digest: toHex(label(name, what)),
    event: '',
    event_payload: '',
  });
  const bootEvents = [
    boot(0, EV_EFI_HANDOFF_TABLES2, 'td-hob'),
    boot(0, EV_EFI_PLATFORM_FIRMWARE_BLOB2, 'cfv'),
    boot(0, EV_EFI_VARIABLE_DRIVER_CONFIG, 'secure-boot'),
    boot(0, EV_SEPARATOR, 'separator-0'),
    boot(1, EV_EFI_BOOT_SERVICES_APPLICATION, 'kernel'),
    boot(1, EV_SEPARATOR, 'separator-1'),
    boot(2, EV_EVENT_TAG, 'kernel-cmdline'),
    boot(2, EV_EVENT_TAG, 'initrd'),
  ];
  return {
    name,
    version,
    osImageHash: toHex(sha256(utf8Encode(`clawkeep-cvm-simulator/${name}/image`))),
    isDev: false,
    measurement: {
      mrtd: toHex(label(name, 'mrtd')),
      rtmr0: replay(bootEvents, 0),
      rtmr1: replay(bootEvents, 1),
      rtmr2: replay(bootEvents, 2),
    },
    bootEvents,
  };
}

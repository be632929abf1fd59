import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex } from '../../bytes';
import { AttestError } from '../errors';
import type { DstackCheckInput, DstackEvent, DstackIdentity, TdReportFields, VerificationCheck } from '../types';
import { parseDstackEventLog } from './event-log';
import { extractBootIdentity, type BootIdentity } from './identity';
import { checkMrConfigId, mrConfigIdForm } from './mr-config-id';
import { evaluatePolicy } from './policy';
import { checkReplay, replayRtmrs } from './replay';

/**
 * dstack app identity for a TDX quote that already verified (lib/attest/tdx does the quote; this only reads the
 * TD report fields). Order, each step fail-closed (spec §6, pitfall 11): parse the event log → replay RTMR0–3
 * → read the boot identity (IMR3 runtime events up to system-ready) → MRCONFIGID consistent with it → the
 * caller's policy (OS image, compose hash, app id, instance id, OS image hash, key provider, REPORTDATA).
 */

export { parseDstackEventLog, MAX_EVENT_LOG_CHARS, MAX_EVENT_LOG_EVENTS } from './event-log';
export { replayRtmrs, checkReplay, type Rtmrs } from './replay';
export { extractBootIdentity, type BootIdentity } from './identity';
export { checkMrConfigId, mrConfigIdForm, keccakBinding, type MrConfigIdForm } from './mr-config-id';
export {
  DSTACK_RUNTIME_EVENT_TYPE,
  runtimeEventDigest,
  runtimeEventPreimage,
  type RuntimeEventContent,
} from './runtime-event';
export {
  clawkeepReportData,
  dstackTaggedReportData,
  randomNonce,
  CLAWKEEP_REPORT_DATA_TAG,
  MIN_NONCE_BYTES,
} from './report-data';

/** SHA-256 of the exact app-compose.json bytes (what dstack measures as `compose-hash`), lower-case hex. */
export function computeComposeHash(appComposeBytes: Uint8Array): string {
  return toHex(sha256(appComposeBytes));
}

function identityFrom(
  boot: BootIdentity | null,
  replayed: boolean,
  form: string,
  checks: VerificationCheck[],
): DstackIdentity {
  const hex = (b: Uint8Array | null | undefined): string | null => (b ? toHex(b) : null);
  return {
    replayed,
    composeHash: hex(boot?.composeHash),
    appId: hex(boot?.appId),
    instanceId: hex(boot?.instanceId),
    osImageHash: hex(boot?.osImageHash),
    keyProvider: boot?.keyProvider ?? null,
    keyProviderRaw: boot?.keyProviderRaw ?? null,
    mrConfigIdForm: form,
    bootEvents: boot?.bootEvents ?? [],
    policyChecks: checks,
  };
}

function asAttestError(err: unknown): AttestError {
  if (err instanceof AttestError) return err;
  // Everything above throws AttestError; anything else is a bug, reported without guessing at a cause.
  return new AttestError('verifier_failed', 'The dstack identity check failed unexpectedly.', { cause: err });
}

/**
 * Establishes the dstack identity of a verified TD and checks it against `input.policy`.
 *
 * Returns the identity it could establish — nothing from a log that does not replay, since its contents are
 * then unproven — and `error`, the first failure (null when everything passed). `identity.policyChecks` lists
 * every dstack check made: event log, replay, boot identity, MRCONFIGID, then each policy field.
 */
export async function evaluateDstack(
  td: TdReportFields,
  input: DstackCheckInput,
): Promise<{ identity: DstackIdentity; error: AttestError | null }> {
  const checks: VerificationCheck[] = [];
  let error: AttestError | null = null;
  let boot: BootIdentity | null = null;
  let replayed = false;
  const fail = (id: string, label: string, err: unknown): void => {
    const attestError = asAttestError(err);
    checks.push({ id, label, ok: false, detail: attestError.message });
    error ??= attestError;
  };

  const mrConfigId = /^[0-9a-fA-F]{96}$/.test(td.mrConfigId) ? fromHex(td.mrConfigId) : null;
  const form = mrConfigId ? mrConfigIdForm(mrConfigId) : 'unknown';

  let events: DstackEvent[] | null = null;
  try {
    events = parseDstackEventLog(input.eventLog);
    checks.push({
      id: 'dstack.event-log',
      label: 'Event log is well-formed',
      ok: true,
      detail: `${events.length} events`,
    });
  } catch (err) {
    fail('dstack.event-log', 'Event log is well-formed', err);
  }

  if (events) {
    try {
      checkReplay(replayRtmrs(events), td.rtmrs);
      replayed = true;
      checks.push({ id: 'dstack.replay', label: 'Event log replays to RTMR0–3', ok: true });
    } catch (err) {
      fail('dstack.replay', 'Event log replays to RTMR0–3', err);
    }
  }

  if (events && replayed) {
    try {
      boot = extractBootIdentity(events);
      if (!boot.systemReady) {
        throw new AttestError(
          'event_log_malformed',
          'The event log has no system-ready event: the CVM had not finished booting, so its identity is not final.',
        );
      }
      if (!boot.composeHash || !boot.appId) {
        throw new AttestError(
          'identity_mismatch',
          'The event log measured no compose-hash or no app-id before system-ready.',
        );
      }
      checks.push({
        id: 'dstack.boot-identity',
        label: 'Boot identity is complete',
        ok: true,
        detail: boot.bootEvents.join(', '),
      });
    } catch (err) {
      fail('dstack.boot-identity', 'Boot identity is complete', err);
    }
  }

  if (boot && error === null) {
    try {
      if (!mrConfigId) throw new AttestError('identity_mismatch', 'MRCONFIGID is not 48 bytes of hex.');
      const checked = checkMrConfigId(mrConfigId, boot);
      const detail =
        checked === 'document' ? 'form 3 (mr_config document); not recomputable without the document' : checked;
      checks.push({
        id: 'dstack.mr-config-id',
        label: 'MRCONFIGID is consistent with the event log',
        ok: true,
        detail,
      });
    } catch (err) {
      fail('dstack.mr-config-id', 'MRCONFIGID is consistent with the event log', err);
    }
  }

  // Policy fields are checked even after a failure so the details view shows each of them; fields the log did
  // not establish fail as "not measured".
  const policy = evaluatePolicy(td, replayed ? boot : null, input.policy);
  checks.push(...policy.checks);
  error ??= policy.error;

  return { identity: identityFrom(replayed ? boot : null, replayed, form, checks), error };
}

import { toHex } from '../../bytes';
import { AttestError, type AttestErrorCode } from '../errors';
import type { DstackPolicy, TdReportFields, VerificationCheck } from '../types';
import { sameHexBytes, shortHex, shortHexPair } from './hex';
import type { BootIdentity } from './identity';

/**
 * Compares the established identity with what the caller expects. Every field given in the policy is checked
 * (so the details view can list them all); the first failure becomes the error. Hex values compare as bytes,
 * so case does not matter; a policy value that is not hex matches nothing.
 */

export interface PolicyOutcome {
  checks: VerificationCheck[];
  error: AttestError | null;
}

interface FieldCheck {
  id: string;
  /** How a person calls the value in a sentence. */
  noun: string;
  expected: string | undefined;
  /** Hex of the measured value, or null when the log did not establish it. */
  actual: string | null;
  code: AttestErrorCode;
}

function matchOsImage(
  td: TdReportFields,
  policy: DstackPolicy,
): { check: VerificationCheck; error: AttestError | null } {
  const images = policy.allowedOsImages ?? [];
  const index = images.findIndex(
    (image) =>
      sameHexBytes(image.mrtd, td.mrTd) &&
      sameHexBytes(image.rtmr0, td.rtmrs[0]) &&
      sameHexBytes(image.rtmr1, td.rtmrs[1]) &&
      sameHexBytes(image.rtmr2, td.rtmrs[2]),
  );
  const label = 'OS image (MRTD, RTMR0–2) is allowed';
  if (index >= 0) {
    const name = images[index]!.name;
    return {
      check: {
        id: 'dstack.policy.os-image',
        label,
        ok: true,
        detail: name ? `matches ${name}` : `matches allowed image ${index + 1}`,
      },
      error: null,
    };
  }
  const detail =
    `MRTD ${shortHex(td.mrTd)}, RTMR0 ${shortHex(td.rtmrs[0])}, RTMR1 ${shortHex(td.rtmrs[1])}, ` +
    `RTMR2 ${shortHex(td.rtmrs[2])} match none of the ${images.length} allowed OS images`;
  return {
    check: { id: 'dstack.policy.os-image', label, ok: false, detail },
    error: new AttestError('identity_mismatch', `The TD's OS image is not allowed: ${detail}.`),
  };
}

function matchField(field: FieldCheck): { check: VerificationCheck; error: AttestError | null } | null {
  if (field.expected === undefined) return null;
  const label = `${field.noun[0]!.toUpperCase()}${field.noun.slice(1)} is as expected`;
  if (field.actual === null) {
    const detail = `not measured, expected ${shortHex(field.expected)}`;
    return {
      check: { id: field.id, label, ok: false, detail },
      error: new AttestError(field.code, `The ${field.noun} was not measured (expected ${shortHex(field.expected)}).`),
    };
  }
  if (sameHexBytes(field.actual, field.expected)) {
    return { check: { id: field.id, label, ok: true, detail: field.actual.toLowerCase() }, error: null };
  }
  const [actual, expected] = shortHexPair(field.actual, field.expected);
  const detail = `${actual}, expected ${expected}`;
  return {
    check: { id: field.id, label, ok: false, detail },
    error: new AttestError(field.code, `The ${field.noun} is ${actual}, expected ${expected}.`),
  };
}

const hexOrNull = (bytes: Uint8Array | null): string | null => (bytes ? toHex(bytes) : null);

export function evaluatePolicy(
  td: TdReportFields,
  identity: BootIdentity | null,
  policy: DstackPolicy | undefined,
): PolicyOutcome {
  const checks: VerificationCheck[] = [];
  let error: AttestError | null = null;
  if (!policy) return { checks, error };
  const record = (result: { check: VerificationCheck; error: AttestError | null } | null): void => {
    if (!result) return;
    checks.push(result.check);
    error ??= result.error;
  };

  if (policy.allowedOsImages !== undefined) record(matchOsImage(td, policy));
  const fields: FieldCheck[] = [
    {
      id: 'dstack.policy.compose-hash',
      noun: 'compose hash',
      expected: policy.composeHash,
      actual: hexOrNull(identity?.composeHash ?? null),
      code: 'identity_mismatch',
    },
    {
      id: 'dstack.policy.app-id',
      noun: 'app id',
      expected: policy.appId,
      actual: hexOrNull(identity?.appId ?? null),
      code: 'identity_mismatch',
    },
    {
      id: 'dstack.policy.instance-id',
      noun: 'instance id',
      expected: policy.instanceId,
      actual: hexOrNull(identity?.instanceId ?? null),
      code: 'identity_mismatch',
    },
    {
      id: 'dstack.policy.os-image-hash',
      noun: 'OS image hash',
      expected: policy.osImageHash,
      actual: hexOrNull(identity?.osImageHash ?? null),
      code: 'identity_mismatch',
    },
    {
      id: 'dstack.policy.key-provider-id',
      noun: 'key provider id',
      expected: policy.keyProviderId,
      actual: identity?.keyProvider?.id ?? null,
      code: 'identity_mismatch',
    },
    {
      id: 'dstack.policy.report-data',
      noun: 'report data',
      expected: policy.reportData,
      actual: td.reportData,
      code: 'report_data_mismatch',
    },
  ];
  for (const field of fields) record(matchField(field));
  return { checks, error };
}

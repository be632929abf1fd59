import { PhalaApiError } from './errors';

/**
 * Identifiers that go into request paths, checked before anything is sent: each is path-encoded anyway, but a
 * value of the wrong form is a bug or an attack (a `../` would otherwise change which endpoint we call with the
 * API key), so it is refused with a message that names the field and never echoes more than a short prefix.
 */

/** Phala's `{id}` (spec §3): a CVM UUID without dashes, `app_<40 hex>`, or the CVM's name. */
const CVM_UUID = /^[0-9a-f]{32}$/;
const CVM_APP_REF = /^app_[0-9a-f]{40}$/;
const CVM_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const APP_ID = /^[0-9a-f]{40}$/;
/** A KMS id or slug: Phala uses UUIDs, slugs like `phala-prod7` and numeric ids. */
const KMS_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

const preview = (value: unknown): string => {
  const text = typeof value === 'string' ? value : typeof value;
  return JSON.stringify(text.length > 24 ? `${text.slice(0, 24)}…` : text);
};

const invalid = (what: string, value: unknown, form: string): PhalaApiError =>
  new PhalaApiError('invalid_argument', `${what} ${preview(value)} is not ${form}.`);

export function isCvmId(value: unknown): value is string {
  return typeof value === 'string' && (CVM_UUID.test(value) || CVM_APP_REF.test(value) || CVM_NAME.test(value));
}

/** The CVM id as a path segment. @throws PhalaApiError `invalid_argument` */
export function cvmIdSegment(id: unknown): string {
  if (!isCvmId(id)) throw invalid('CVM id', id, 'a CVM UUID without dashes, app_<40 hex> or a name of [a-z0-9-]');
  return encodeURIComponent(id);
}

/** A 20-byte dstack app id, lower-case hex without 0x. @throws PhalaApiError `invalid_argument` */
export function appIdSegment(appId: unknown): string {
  if (typeof appId !== 'string' || !APP_ID.test(appId)) throw invalid('App id', appId, '40 lower-case hex characters');
  return encodeURIComponent(appId);
}

/** @throws PhalaApiError `invalid_argument` */
export function kmsIdSegment(kmsId: unknown): string {
  if (typeof kmsId !== 'string' || !KMS_ID.test(kmsId))
    throw invalid('KMS id', kmsId, 'a KMS id or slug of [A-Za-z0-9_-]');
  return encodeURIComponent(kmsId);
}

/** Lower-case hex of exactly `bytes` bytes (no 0x). @throws PhalaApiError `invalid_argument` */
export function requireHex(what: string, value: unknown, bytes: number): string {
  if (typeof value !== 'string' || value.length !== bytes * 2 || !/^[0-9a-f]*$/.test(value)) {
    throw invalid(what, value, `${bytes * 2} lower-case hex characters`);
  }
  return value;
}

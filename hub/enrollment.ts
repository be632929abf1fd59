import { randomInt } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { appendAudit } from './audit';
import type { HubStore } from './store/port';

/**
 * The one-time enrollment code that lets the first human (their extension's device key) enrol with a fresh hub.
 * Same shape as RFC 8628 §6.1 user codes: 8 characters from 20 consonants (20^8 ≈ 2^34.6; no vowels, so no words),
 * shown as `XXXX-XXXX`, typed case-insensitively with or without the dash. Only its hash is stored, and the
 * enrolment route must rate-limit attempts (RFC 8628 §5.1): 34.6 bits resist online guessing, not offline search.
 */
export const ENROLLMENT_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const ENROLLMENT_CODE_LENGTH = 8;
/** Domain separation, as for claim codes in lib/protocol: this hash can never collide with another kind of code. */
const DOMAIN = utf8ToBytes('clawkeep/v1/enrollment-code\0');

/** A fresh code in display form `XXXX-XXXX`. crypto.randomInt draws without modulo bias. */
export function generateEnrollmentCode(): string {
  let code = '';
  for (let i = 0; i < ENROLLMENT_CODE_LENGTH; i++) code += ENROLLMENT_ALPHABET[randomInt(ENROLLMENT_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What a person typed → the 8 bare uppercase characters, or null if it cannot be a code. */
export function normalizeEnrollmentCode(input: string): string | null {
  const code = input.replace(/[\s-]/g, '').toUpperCase();
  if (code.length !== ENROLLMENT_CODE_LENGTH || [...code].some((ch) => !ENROLLMENT_ALPHABET.includes(ch))) return null;
  return code;
}

/**
 * SHA-256(`"clawkeep/v1/enrollment-code\0"` ‖ normalized code): what the store keeps and looks codes up by.
 * @throws RangeError when `input` is not a well-formed code.
 */
export function enrollmentCodeHash(input: string): Uint8Array {
  const code = normalizeEnrollmentCode(input);
  if (code === null) throw new RangeError('not an enrollment code');
  return sha256(concatBytes(DOMAIN, utf8ToBytes(code)));
}

/**
 * On a fresh hub (no account, no code ever issued) issues the enrollment code, stores its hash with an audit entry
 * in one transaction, and returns the code for the operator to see once. Returns null otherwise: the code is never
 * stored in the clear, so it cannot be shown again.
 */
export async function issueFirstEnrollmentCode(store: HubStore, now: number): Promise<string | null> {
  return await store.transaction(async () => {
    if ((await store.accounts.count()) > 0 || (await store.enrollment.count()) > 0) return null;
    const code = generateEnrollmentCode();
    await store.enrollment.create(enrollmentCodeHash(code), now);
    await appendAudit(store, { time: now, actor: 'hub', action: 'enrollment_code.issued' });
    return code;
  });
}

/**
 * Issues a new enrollment code for an existing hub whose operator lost the previous one
 * (`clawkeep hub enrollment-code`): in one transaction every unused code is retired (it stops working at once, also for a hub
 * process running on the same database), the new code's hash is stored and the audit log records both. Returns the
 * code for the operator to see once.
 */
export async function reissueEnrollmentCode(store: HubStore, now: number): Promise<{ code: string; retired: number }> {
  return await store.transaction(async () => {
    const retired = await store.enrollment.retireUnused();
    const code = generateEnrollmentCode();
    await store.enrollment.create(enrollmentCodeHash(code), now);
    await appendAudit(store, { time: now, actor: 'hub', action: 'enrollment_code.reissued' });
    return { code, retired };
  });
}

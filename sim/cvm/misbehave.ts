/**
 * The CVM simulator's misbehaviour switches. Each one breaks exactly one thing a client must check before it
 * seals secrets to a CVM, and leaves everything checked earlier intact where it can:
 *
 * - `wrong-measurement`  the quote's MRTD is not the published OS image's (quote still genuinely signed)
 * - `compose-mismatch`   the compose-hash event (and MRCONFIGID) measure something other than SHA-256 of the
 *                        app_compose the API returns
 * - `unsigned-env-key`   the KMS pubkey endpoint returns the env key without any signature
 * - `unbound-env-key`    the env key is not the one the KMS derives for the app, and its signature is by a
 *                        secp256k1 key that is not the KMS's
 * - `bad-kms-signature`  the KMS signatures over the (right) env key have one byte flipped
 * - `debug-td`           the TD attributes have the DEBUG bit set (quote still correctly signed)
 * - `stale-collateral`   the PCCS serves collateral whose nextUpdate is already in the past
 * - `replayed-quote`     the provider replays an old genuine quote: every quote it serves (its attestation and the
 *                        guest agent's GetQuote alike) is one recorded from an earlier instance of the app (report
 *                        data zero, whatever was asked), and the CVM object names no instance id
 */
export const MISBEHAVIOURS = [
  'wrong-measurement',
  'compose-mismatch',
  'unsigned-env-key',
  'unbound-env-key',
  'bad-kms-signature',
  'debug-td',
  'stale-collateral',
  'replayed-quote',
] as const;

export type Misbehaviour = (typeof MISBEHAVIOURS)[number];
/** 'none' = behave like an honest Phala Cloud + dstack CVM. */
export type MisbehaveMode = Misbehaviour | 'none';

export function parseMisbehaveMode(value: unknown): MisbehaveMode {
  if (value === 'none' || value === null || value === undefined || value === '') return 'none';
  if (typeof value === 'string' && (MISBEHAVIOURS as readonly string[]).includes(value)) return value as Misbehaviour;
  throw new RangeError(
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- echoes whatever the caller sent, as JavaScript prints it
    `unknown misbehaviour "${String(value).slice(0, 40)}"; one of: none, ${MISBEHAVIOURS.join(', ')}`,
  );
}

import { keccak_256 } from '@noble/hashes/sha3.js';
import { concatBytes, equalBytes, fromHex, toHex } from '../../bytes';
import { AttestError } from '../errors';
import { shortHexPair } from './hex';
import type { BootIdentity } from './identity';

/**
 * MRCONFIGID: 48 bytes the host sets at TD launch, which dstack uses to bind the app configuration
 * (dstack `dstack-types/src/mr_config.rs`; the guest checks the same in `config_id_verifier.rs`):
 * - all zero: unset (older images, dstack#559);
 * - 01 ‖ compose_hash[32] ‖ zeros;
 * - 02 ‖ Keccak-256(compose_hash[32] ‖ app_id[20] ‖ key-provider kind[1] ‖ key_provider_id) ‖ zeros, kind
 *   0 none, 1 local (key-provider name "local-sgx"), 2 kms, 3 tpm; key_provider_id = the key-provider event's
 *   `id` decoded from hex (empty for none/tpm);
 * - 03 ‖ SHA-256("dstack-mr-config-v3:" ‖ 00 ‖ JCS mr_config document) ‖ zeros: needs the document, which
 *   GetQuote does not return, so we only report the form.
 * Anything else is an unknown form and rejected: a value we cannot interpret binds nothing we can check.
 */

export type MrConfigIdForm = 'unset' | 'compose-hash' | 'keccak-binding' | 'document' | 'unknown';

const KEY_PROVIDER_KIND: Record<string, number> = { none: 0, 'local-sgx': 1, kms: 2, tpm: 3 };

const mismatch = (message: string): AttestError => new AttestError('identity_mismatch', message);

/** The form named by byte 0 (for display even when the log could not be used). */
export function mrConfigIdForm(mrConfigId: Uint8Array): MrConfigIdForm {
  if (mrConfigId.every((b) => b === 0)) return 'unset';
  switch (mrConfigId[0]) {
    case 1:
      return 'compose-hash';
    case 2:
      return 'keccak-binding';
    case 3:
      return 'document';
    default:
      return 'unknown';
  }
}

/** The 32-byte value MRCONFIGID form 2 carries for this identity, or the reason it cannot be computed. */
export function keccakBinding(identity: BootIdentity): Uint8Array | string {
  if (!identity.composeHash) return 'the event log has no compose-hash';
  if (!identity.appId) return 'the event log has no app-id';
  if (!identity.keyProvider) return 'the event log has no key-provider in the {"name","id"} form';
  const kind = Object.hasOwn(KEY_PROVIDER_KIND, identity.keyProvider.name)
    ? KEY_PROVIDER_KIND[identity.keyProvider.name]!
    : undefined;
  if (kind === undefined) return `key provider "${identity.keyProvider.name}" has no MRCONFIGID kind`;
  return keccak_256(
    concatBytes(identity.composeHash, identity.appId, Uint8Array.of(kind), fromHex(identity.keyProvider.id)),
  );
}

/**
 * Checks a 48-byte MRCONFIGID against the boot identity from the replayed log.
 * @returns the form, when consistent
 * @throws AttestError `identity_mismatch` for an unknown form, non-zero padding, or a binding that disagrees
 *   with the log
 */
export function checkMrConfigId(mrConfigId: Uint8Array, identity: BootIdentity): MrConfigIdForm {
  if (mrConfigId.length !== 48) throw mismatch(`MRCONFIGID is ${mrConfigId.length} bytes, not 48.`);
  const form = mrConfigIdForm(mrConfigId);
  if (form === 'unset') return form;
  if (form === 'unknown') {
    throw mismatch(`MRCONFIGID has unknown form ${mrConfigId[0]}; dstack defines 1, 2 and 3.`);
  }
  if (!mrConfigId.subarray(33).every((b) => b === 0)) {
    throw mismatch('MRCONFIGID has non-zero bytes after its 33-byte value.');
  }
  const bound = mrConfigId.subarray(1, 33);
  if (form === 'compose-hash') {
    if (!identity.composeHash)
      throw mismatch('MRCONFIGID binds a compose hash, but the event log has no compose-hash.');
    if (!equalBytes(bound, identity.composeHash)) {
      const [inConfig, inLog] = shortHexPair(toHex(bound), toHex(identity.composeHash));
      throw mismatch(`MRCONFIGID binds compose hash ${inConfig}, but the event log measured ${inLog}.`);
    }
  } else if (form === 'keccak-binding') {
    const expected = keccakBinding(identity);
    if (typeof expected === 'string') throw mismatch(`MRCONFIGID binds the app identity, but ${expected}.`);
    if (!equalBytes(bound, expected)) {
      const [inConfig, fromLog] = shortHexPair(toHex(bound), toHex(expected));
      throw mismatch(
        `MRCONFIGID binds ${inConfig}, but compose hash, app id and key provider from the event log give ${fromLog}.`,
      );
    }
  }
  return form;
}

/**
 * Typed errors for everything Clawkeep's core throws on purpose.
 *
 * Callers branch on `code`, never on the message. Messages are written for a person and never contain
 * a secret, a passphrase or a decrypted value.
 */
export type ClawkeepErrorCode =
  | 'wrong_passphrase'
  | 'decrypt_failed'
  | 'format_invalid'
  | 'format_unsupported_version'
  | 'kdf_params_out_of_range'
  | 'kdf_failed'
  | 'vault_missing'
  | 'vault_exists'
  | 'vault_locked'
  | 'item_not_found'
  | 'item_invalid'
  | 'backup_invalid'
  | 'storage_full'
  | 'storage_conflict'
  | 'storage_failed'
  // A persisted value this version cannot use (lib/storage/stored-item.ts): shown, never reset to defaults.
  | 'storage_invalid'
  | 'storage_version_unsupported'
  | 'storage_migration_failed'
  | 'settings_invalid'
  | 'rpc_failed'
  | 'forbidden'
  // Recovery kit (lib/vault/recovery-kit.ts).
  | 'recovery_words_invalid'
  | 'recovery_words_wrong'
  | 'recovery_missing'
  // Hub wire protocol (lib/protocol, docs/protocol.md).
  | 'protocol_invalid'
  | 'approval_invalid'
  | 'claim_invalid'
  | 'sealed_invalid'
  | 'auth_missing'
  | 'auth_stale'
  | 'auth_replayed'
  | 'auth_bad_signature'
  | 'auth_unknown_key'
  | 'device_statement_invalid'
  | 'key_binding_invalid'
  | 'revocation_invalid'
  // The hub's identity key and its signed audit head (hub-identity.ts, audit-head.ts).
  | 'hub_identity_invalid'
  | 'audit_head_invalid';

export class ClawkeepError extends Error {
  readonly code: ClawkeepErrorCode;

  constructor(code: ClawkeepErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClawkeepError';
    this.code = code;
  }

  /** A plain object safe to send across a message channel (no cause, no stack). */
  toJSON(): { code: ClawkeepErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** The passphrase did not open the vault key (AEAD failure on the wrapped key). */
export class WrongPassphraseError extends ClawkeepError {
  constructor(options?: { cause?: unknown; message?: string }) {
    super('wrong_passphrase', options?.message ?? 'Wrong passphrase. Check it and try again.', options);
    this.name = 'WrongPassphraseError';
  }
}

/** Ciphertext failed authentication: tampered, swapped between items, or a wrong key. */
export class DecryptError extends ClawkeepError {
  constructor(message = 'Could not decrypt: the data was changed or belongs elsewhere.', options?: { cause?: unknown }) {
    super('decrypt_failed', message, options);
    this.name = 'DecryptError';
  }
}

/** Bytes that do not parse as the expected format, or a version we do not know. */
export class FormatError extends ClawkeepError {
  constructor(
    message: string,
    code: 'format_invalid' | 'format_unsupported_version' | 'backup_invalid' = 'format_invalid',
  ) {
    super(code, message);
    this.name = 'FormatError';
  }
}

/** KDF parameters below the floor (downgrade) or above the ceiling (denial of service). */
export class KdfParamsError extends ClawkeepError {
  constructor(message: string) {
    super('kdf_params_out_of_range', message);
    this.name = 'KdfParamsError';
  }
}

export class VaultLockedError extends ClawkeepError {
  constructor() {
    super('vault_locked', 'The vault is locked. Unlock it with your passphrase first.');
    this.name = 'VaultLockedError';
  }
}

export class StorageError extends ClawkeepError {
  constructor(code: 'storage_full' | 'storage_conflict' | 'storage_failed', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StorageError';
  }
}

/** Rebuilds a typed error from its JSON form after it crossed a message channel. */
export function errorFromJSON(value: unknown): ClawkeepError {
  if (value && typeof value === 'object' && 'code' in value && 'message' in value) {
    const { code, message } = value as { code: ClawkeepErrorCode; message: string };
    if (code === 'wrong_passphrase') return new WrongPassphraseError({ message: String(message) });
    if (code === 'vault_locked') return new VaultLockedError();
    return new ClawkeepError(code, String(message));
  }
  return new ClawkeepError('rpc_failed', 'The request failed for an unknown reason.');
}

/** Wraps anything thrown into a ClawkeepError without leaking its message if it is not ours. */
export function asClawkeepError(err: unknown, fallback: ClawkeepErrorCode = 'storage_failed'): ClawkeepError {
  if (err instanceof ClawkeepError) return err;
  return new ClawkeepError(fallback, 'Unexpected failure.', { cause: err });
}

/**
 * The one root of every error Clawkeep throws on purpose, and the one mapping used wherever an error crosses a
 * boundary (a message channel, a worker, the CLI's output, the UI).
 *
 * - Every error family (`ProtocolError`, `HubClientError`, `AttestError`, `SealError`, `DeployError`, `AgentError`,
 *   `OpenClawError`, `SyncError`, `HubError`, ...) extends {@link ClawkeepError} and narrows `code` to its own
 *   union; {@link ClawkeepErrorCode} is the union of them all, so tsc refuses a family code the root does not list.
 * - Misuse by a programmer (wrong argument type, out-of-range length) stays a built-in `TypeError`/`RangeError`.
 * - Callers branch on `code`, never on the message. Messages are written for a person and never contain a secret,
 *   a passphrase or a decrypted value.
 * - At a boundary use {@link toErrorInfo} (or {@link errorMessage}); on the receiving side {@link reviveError}.
 *   Anything that is not a ClawkeepError becomes `internal` / "Unexpected failure.": a foreign message (a
 *   `SyntaxError` quoting its input, a `fetch` error naming a URL) may carry data that must not be shown or logged.
 */
import type { AgentLocalErrorCode } from './agent/errors';
import type { ExecRequestErrorCode } from './agent/openclaw-secret';
import type { AttestErrorCode } from './attest/errors';
import type { DeployErrorCode } from './deploy/errors';
import type { HubClientOwnCode } from './hub-client/errors';
import type { ImportErrorCode } from './import/errors';
import type { OpenClawGatewayCode, OpenClawOwnCode } from './openclaw/errors';
import type { ApiErrorCode } from './protocol/api-errors';
import type { ProtocolErrorCode } from './protocol/errors';
import type { SyncErrorCode } from './protocol/sync-errors';
import type { ManifestErrorCode } from './providers/openclaw-manifest/errors';
import type { AppComposeErrorCode } from './providers/phala/app-compose';
import type { PhalaApiErrorCode } from './providers/phala/errors';
import type { SealErrorCode } from './seal/errors';
import type { HttpCallErrorCode } from './http-request/errors';

/** Codes of the vault core and the extension's own errors (the classes below). */
export type CoreErrorCode =
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
  // The page ↔ background service boundary (lib/ext/rpc/service.ts): arguments that fail the method's declared
  // schema, a method the service does not declare, and a failure that is none of ours (its text is not passed on).
  | 'rpc_invalid_args'
  | 'rpc_unknown_method'
  | 'internal'
  // Recovery kit (lib/vault/recovery-kit.ts).
  | 'recovery_words_invalid'
  | 'recovery_words_wrong'
  | 'recovery_missing';

/**
 * Codes of the families that live in `hub/`, `bin/` and `sim/`. They are declared here because `lib/` imports
 * none of those folders; the classes there import these types.
 */
/** The hub's SQLite store (hub/store/errors.ts). */
export type StoreErrorCode =
  /** The row the operation needs does not exist. */
  | 'not_found'
  /** A unique key is taken: same id, same public key, same idempotency key... */
  | 'conflict'
  /** The row exists but is not in a state that allows the operation (e.g. deciding an intent twice). */
  | 'invalid_state'
  /** A foreign key points nowhere (installation for an unknown agent, ...). */
  | 'invalid_reference'
  /** A CHECK constraint refused a value (wrong key length, unknown status, invalid JSON). */
  | 'invalid_value'
  /** Another connection held the write lock for longer than busy_timeout. */
  | 'busy'
  /** The database was written by a newer hub; this one must not touch it. */
  | 'schema_too_new'
  /** A migration failed and was rolled back. */
  | 'migration_failed'
  /** Anything else SQLite reported (disk full, I/O error, corrupt file). */
  | 'storage_failed';

/** The hub's SSRF-safe manifest fetch (hub/manifest-fetch.ts). */
export type ManifestFetchErrorCode =
  | 'manifest_url_invalid'
  | 'manifest_url_forbidden'
  | 'manifest_fetch_failed'
  | 'manifest_fetch_timeout'
  | 'manifest_too_large'
  | 'manifest_bad_type';

/**
 * How the hub listens (hub/listener.ts): `listen_refused` for an address, origin, TLS and proxy combination that
 * would expose the hub unprotected or could never match what clients send; `tls_files_invalid` for a certificate or
 * key file that cannot be read or does not form a pair.
 */
export type ListenErrorCode = 'listen_refused' | 'tls_files_invalid';

/** The `clawkeep` CLI (bin/): bad arguments (exit 2 with usage) and an unusable agent state file (exit 2). */
export type CliErrorCode = 'usage_invalid' | 'state_file_invalid';

/** The CVM simulator (sim/cvm): a request it refuses, answered with an HTTP status. */
export type SimErrorCode = 'sim_refused';

declare const relayed: unique symbol;
/**
 * A code another party chose: the hub's answer (it may send a code this build does not know), an OpenClaw
 * gateway's code (`PAIRING_REQUIRED`, ...), or a code read back from a message channel. Made only by
 * {@link relayedCode}, so a code written in our source is always one of the literal unions above.
 */
export type RelayedErrorCode = string & { readonly [relayed]: true };

/** Marks a code another party sent (see {@link RelayedErrorCode}); the value is unchanged. */
export const relayedCode = (code: string): RelayedErrorCode => code as RelayedErrorCode;

/** Every code any Clawkeep error may carry: the union of every family's codes. */
export type ClawkeepErrorCode =
  | CoreErrorCode
  | ProtocolErrorCode
  | ApiErrorCode
  | SyncErrorCode
  | HubClientOwnCode
  | AgentLocalErrorCode
  | ExecRequestErrorCode
  | AttestErrorCode
  | SealErrorCode
  | HttpCallErrorCode
  | ImportErrorCode
  | DeployErrorCode
  | OpenClawOwnCode
  | OpenClawGatewayCode
  | PhalaApiErrorCode
  | AppComposeErrorCode
  | ManifestErrorCode
  | StoreErrorCode
  | ManifestFetchErrorCode
  | ListenErrorCode
  | CliErrorCode
  | SimErrorCode
  | RelayedErrorCode;

/** What crosses a boundary: a code to branch on and a message safe to show (no cause, no stack). */
export interface ErrorInfo {
  code: ClawkeepErrorCode;
  message: string;
}

/** The message shown for anything that is not a ClawkeepError: it says nothing about what failed. */
export const UNEXPECTED_MESSAGE = 'Unexpected failure.';

/** The root of every error Clawkeep throws on purpose. Families extend it and narrow `code` with `declare`. */
export class ClawkeepError extends Error {
  readonly code: ClawkeepErrorCode;

  constructor(code: ClawkeepErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClawkeepError';
    this.code = code;
  }

  /** A plain object safe to send across a message channel (no cause, no stack). */
  toJSON(): ErrorInfo {
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
  constructor(
    message = 'Could not decrypt: the data was changed or belongs elsewhere.',
    options?: { cause?: unknown },
  ) {
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
  constructor(
    code: 'storage_full' | 'storage_conflict' | 'storage_failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'StorageError';
  }
}

// ---- The boundary mapping -------------------------------------------------------------------------------------

/** A code as it may be shown and sent: a plain identifier, never free text (a peer could put a message there). */
const CODE_SHAPE = /^[A-Za-z0-9_.-]{1,64}$/;

/** A plain `{code, message}` object (what toErrorInfo produced on the other side of a channel). */
function isErrorInfo(value: unknown): value is ErrorInfo {
  if (value === null || typeof value !== 'object') return false;
  const { code, message } = value as { code?: unknown; message?: unknown };
  return typeof code === 'string' && CODE_SHAPE.test(code) && typeof message === 'string';
}

/**
 * Maps anything thrown to what may cross a boundary: a ClawkeepError keeps its code and message (ours, written
 * for a person); anything else (a foreign Error, a thrown string or object) becomes the
 * `fallback` (a code with "Unexpected failure.", or a whole ErrorInfo; default `internal`), because its message
 * is not ours to show. Extra fields a family's toJSON adds (step, retryable, ...) are not carried.
 */
export function toErrorInfo(err: unknown, fallback: ClawkeepErrorCode | ErrorInfo = 'internal'): ErrorInfo {
  if (err instanceof ClawkeepError) return { code: err.code, message: err.message };
  return typeof fallback === 'string'
    ? { code: fallback, message: UNEXPECTED_MESSAGE }
    : { code: fallback.code, message: fallback.message };
}

/** The message to show a person for anything thrown (see toErrorInfo). */
export function errorMessage(err: unknown): string {
  return toErrorInfo(err).message;
}

/** The code of anything thrown: a ClawkeepError's code, else `internal` (see toErrorInfo). */
export function errorCode(err: unknown): ClawkeepErrorCode {
  return toErrorInfo(err).code;
}

/**
 * Rebuilds a typed error from the `{code, message}` a boundary sent (toErrorInfo / toJSON). The two codes the
 * unlock screen branches on by class come back as their classes; a value that is not of that shape becomes
 * `rpc_failed`. The code is kept as sent (our own background sent it), marked as relayed.
 */
export function reviveError(value: unknown): ClawkeepError {
  if (!isErrorInfo(value)) return new ClawkeepError('rpc_failed', 'The request failed for an unknown reason.');
  const { code, message } = value;
  if (code === 'wrong_passphrase') return new WrongPassphraseError({ message });
  if (code === 'vault_locked') return new VaultLockedError();
  return new ClawkeepError(relayedCode(code), message);
}

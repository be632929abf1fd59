/**
 * Typed errors of sealing (lib/seal). Callers (deploy flow, CLI) branch on `code`; the message is written for a
 * person and names what was wrong. Public data (key names, public keys, hashes) may appear in a message; an env
 * value, a private key or a shared secret never does.
 */
import { ClawkeepError } from '../errors';

export type SealErrorCode =
  // The env we were asked to seal.
  | 'env_invalid'
  | 'env_too_large'
  // The recipient's X25519 public key.
  | 'pubkey_invalid'
  // The KMS signature over the env public key.
  | 'signature_invalid'
  | 'signature_stale'
  // The trust gate refused (see TrustReport.failed for the check).
  | 'untrusted_cvm'
  // An envelope that does not open (decryptEnv: simulator and tests).
  | 'envelope_malformed'
  | 'decrypt_failed'
  // Inputs to the KMS key derivation (simulator's KMS).
  | 'derivation_invalid';

export class SealError extends ClawkeepError {
  declare readonly code: SealErrorCode;

  constructor(code: SealErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'SealError';
  }

  /** A plain object safe to send across a message channel (no cause, no stack). */
  override toJSON(): { code: SealErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isSealError(err: unknown): err is SealError {
  return err instanceof SealError;
}

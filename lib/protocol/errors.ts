import { ClawkeepError } from '../errors';

/** The codes the hub wire protocol throws (docs/protocol.md §Errors). Callers branch on `code`. */
export type ProtocolErrorCode =
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
  // Signed device removal (CKDR) and installation revocation (CKIR), revocation.ts.
  | 'revocation_invalid'
  // The hub's identity key and its signed audit head (hub-identity.ts, audit-head.ts).
  | 'hub_identity_invalid'
  | 'audit_head_invalid';

/**
 * A protocol value that is malformed, not canonical, or does not verify. Messages name the field that failed
 * but never echo a secret; crypto failures (`sealed_invalid`, `*_bad_signature`) never say which check failed.
 */
export class ProtocolError extends ClawkeepError {
  declare readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ProtocolError';
  }
}

/** Shorthand for the most common failure: input that is not a valid protocol value. */
export const invalid = (message: string, options?: { cause?: unknown }): ProtocolError =>
  new ProtocolError('protocol_invalid', message, options);

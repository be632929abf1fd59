/**
 * Typed errors of the TDX/SGX quote verifier. Callers (UI, CLI, sealing gate) branch on `code`; the message is
 * written for a person and names the check that failed. Quotes and collateral are public data, so messages may
 * quote field values (FMSPC, dates, statuses) but never anything from the vault.
 */
import { ClawkeepError } from '../errors';

export type AttestErrorCode =
  // Input that does not parse (quote, PEM, DER, collateral JSON).
  | 'quote_malformed'
  | 'quote_unsupported'
  | 'collateral_malformed'
  | 'certificate_malformed'
  | 'crl_malformed'
  // Trust: chains, signatures, revocation, dates.
  | 'test_anchor_forbidden'
  | 'untrusted_root'
  | 'chain_invalid'
  | 'certificate_expired'
  | 'certificate_not_yet_valid'
  | 'certificate_revoked'
  | 'crl_invalid'
  | 'crl_expired'
  | 'crl_not_yet_valid'
  | 'collateral_expired'
  | 'collateral_not_yet_valid'
  | 'collateral_signature_invalid'
  | 'collateral_mismatch'
  | 'quote_signature_invalid'
  | 'qe_report_signature_invalid'
  | 'qe_report_binding_invalid'
  | 'qe_identity_mismatch'
  // TCB evaluation.
  | 'fmspc_mismatch'
  | 'pceid_mismatch'
  | 'tcb_level_not_found'
  | 'tdx_module_mismatch'
  | 'tcb_revoked'
  | 'td_debug'
  | 'td_attributes_invalid'
  // Policy (ours, after a cryptographically valid quote).
  | 'policy_rejected'
  // dstack identity and event log.
  | 'event_log_malformed'
  | 'event_log_mismatch'
  | 'identity_mismatch'
  | 'report_data_mismatch'
  // Fetching collateral from a PCCS.
  | 'collateral_fetch_failed'
  | 'verifier_failed';

export class AttestError extends ClawkeepError {
  declare readonly code: AttestErrorCode;

  constructor(code: AttestErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'AttestError';
  }

  override toJSON(): { code: AttestErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export const isAttestError = (err: unknown): err is AttestError => err instanceof AttestError;

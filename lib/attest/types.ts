/**
 * Shared types of the attestation core (lib/attest). Everything here is plain data: it crosses the comlink
 * boundary to the attest worker and is printed by `clawkeep verify-quote --json`.
 */

/** Intel's TCB statuses, least to most severe (the order matters: the combined status is the most severe). */
export const TCB_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
] as const;
export type TcbStatus = (typeof TCB_STATUSES)[number];

export type TeeType = 'TDX' | 'SGX';

/**
 * Collateral in the JSON form dcap-qvl calls `QuoteCollateralV3` (snake_case keys), which is also what
 * `clawkeep verify-quote --collateral` reads. `tcb_info` and `qe_identity` are the exact signed JSON text:
 * never re-serialize them. CRLs are hex DER; chains are PEM.
 */
export interface Collateral {
  pck_crl_issuer_chain: string;
  root_ca_crl: string;
  pck_crl: string;
  tcb_info_issuer_chain: string;
  tcb_info: string;
  tcb_info_signature: string;
  qe_identity_issuer_chain: string;
  qe_identity: string;
  qe_identity_signature: string;
}

/**
 * Acceptance is our policy, applied after the quote verified cryptographically and matched a TCB level.
 * Default: only UpToDate, non-debug TD, no advisories required to be allowed.
 */
export interface AcceptancePolicy {
  /** Statuses accepted. Default ['UpToDate']. 'Revoked' is never accepted, whatever is listed. */
  allowedStatuses?: TcbStatus[];
  /**
   * Advisory ids accepted when the status is not UpToDate. Omitted = any advisory of an allowed status is
   * accepted; a list = every advisory of the quote must be in it.
   */
  allowedAdvisoryIds?: string[];
  /** TD 1.5: accept a non-zero MRSERVICETD (default false). */
  allowServiceTd?: boolean;
}

/** A trust anchor other than the pinned Intel SGX Root CA. Honoured only in test builds (see trust-anchor.ts). */
export interface TestTrustAnchor {
  /** DER of the self-signed test root certificate. */
  rootCertDer: Uint8Array;
}

export interface VerifyOptions {
  /** Verification time; default the current time. Collateral expires, so tests always pass one. */
  now?: Date | number;
  policy?: AcceptancePolicy;
  /** Replaces the pinned Intel root. Rejected with `test_anchor_forbidden` outside test builds. */
  testTrustAnchor?: TestTrustAnchor;
  /** dstack event log and expected identity; when given, the result carries the dstack identity. */
  dstack?: DstackCheckInput;
}

/** One named step of the verification, for the certificate's details view. */
export interface VerificationCheck {
  id: string;
  label: string;
  ok: boolean;
  detail?: string;
}

export interface TdReportFields {
  teeTcbSvn: string;
  mrSeam: string;
  mrSignerSeam: string;
  seamAttributes: string;
  tdAttributes: string;
  xfam: string;
  mrTd: string;
  mrConfigId: string;
  mrOwner: string;
  mrOwnerConfig: string;
  rtmrs: [string, string, string, string];
  reportData: string;
  /** TD report 1.5 only. */
  teeTcbSvn2?: string;
  mrServiceTd?: string;
}

export interface EnclaveReportFields {
  cpuSvn: string;
  miscSelect: number;
  attributes: string;
  mrEnclave: string;
  mrSigner: string;
  isvProdId: number;
  isvSvn: number;
  reportData: string;
}

export interface CollateralDates {
  tcbInfoIssueDate: string;
  tcbInfoNextUpdate: string;
  qeIdentityIssueDate: string;
  qeIdentityNextUpdate: string;
  pckCrlThisUpdate: string;
  pckCrlNextUpdate: string;
  rootCrlThisUpdate: string;
  rootCrlNextUpdate: string;
  tcbEvaluationDataNumber: number;
}

/** A collateral document by the check that reads it (lib/attest/verify.ts). */
export type CollateralDocumentId = 'tcb-info' | 'qe-identity' | 'pck-crl' | 'root-crl';

/** One collateral document's validity (issue or thisUpdate .. nextUpdate, ISO UTC) and where `verifiedAt` fell. */
export interface CollateralDocumentWindow {
  id: CollateralDocumentId;
  /** "TCB info", "QE identity", "PCK CRL", "Root CA CRL". */
  label: string;
  from: string;
  to: string;
  /** 'expired': verifiedAt is after `to`; 'not-yet-valid': before `from`. */
  state: 'expired' | 'not-yet-valid';
}

/**
 * Genuine but stale: the quote failed ONLY because collateral (TCB info, QE identity, a CRL) was outside its
 * validity at the verification time. Set only when a second pass that sets those dates aside (and nothing else)
 * proved every signature from the quote and the collateral up to the trusted root. The verdict stays
 * `verified: false`: stale evidence is never trusted for sealing. See lib/attest/staleness.ts.
 */
export interface CollateralStaleness {
  /** The documents outside their validity at `verifiedAt` (at least one). */
  outOfWindow: CollateralDocumentWindow[];
  /** When all documents are valid together (latest issue .. earliest next update); null when they never overlap. */
  window: { from: string; to: string } | null;
  /** The time inside `window` nearest the verification time: what a historical re-check uses. Null without window. */
  suggestedTime: string | null;
}

/**
 * The verifier's answer. `verified` is the verdict after policy; when false, `error` says why (the first check
 * that failed). Fields that could not be read (e.g. a quote that does not parse) are null.
 */
export interface QuoteVerification {
  verified: boolean;
  /**
   * The quote is genuine and current before our policy: signatures, chains, CRLs, collateral and a matching TCB
   * level all check out. `verified` additionally requires the policy (status, advisories, dstack identity).
   */
  valid: boolean;
  /** Combined TCB status (platform, TDX module, QE); null when verification stopped before TCB evaluation. */
  status: TcbStatus | null;
  advisoryIds: string[];
  teeType: TeeType | null;
  /** Quote format version: 3 (SGX), 4 or 5 (TDX). */
  version: number | null;
  /** TDX body: 'td10' | 'td15'; SGX: 'sgx'. */
  bodyType: 'td10' | 'td15' | 'sgx' | null;
  /** Upper-case hex as Intel prints it, e.g. "B0C06F000000". */
  fmspc: string | null;
  /** Lower-case hex everywhere below. */
  mrtd: string | null;
  rtmrs: string[] | null;
  mrConfigId: string | null;
  mrOwner: string | null;
  reportData: string | null;
  /** TD attributes decoded. */
  debug: boolean | null;
  td: TdReportFields | null;
  enclave: EnclaveReportFields | null;
  collateral: CollateralDates | null;
  /** ISO time the verification was evaluated at (the injected `now`). */
  verifiedAt: string;
  /** True when the chain ended at an injected test root instead of Intel's. */
  testTrustAnchor: boolean;
  checks: VerificationCheck[];
  dstack: DstackIdentity | null;
  error: { code: string; message: string } | null;
  /** Set only for a genuine quote whose collateral is out of date at `verifiedAt` (see CollateralStaleness). */
  staleCollateral: CollateralStaleness | null;
}

// ---------------------------------------------------------------------------------------------------------------
// dstack (lib/attest/dstack): event log replay and app identity.

/** One entry of the JSON event log dstack's GetQuote returns (the parsed form of `event_log`). */
export interface DstackEvent {
  imr: number;
  event_type: number;
  digest: string;
  event: string;
  event_payload: string;
  /** Newer dstack images mark runtime events with a digest version. */
  version?: number;
}

/** Expected values of the workload; every field given must match. */
export interface DstackPolicy {
  /** Allowed OS images: MRTD + RTMR0..2 (lower-case hex). */
  allowedOsImages?: Array<{ name?: string; mrtd: string; rtmr0: string; rtmr1: string; rtmr2: string }>;
  /** SHA-256 of the app-compose.json bytes (hex). */
  composeHash?: string;
  appId?: string;
  instanceId?: string;
  osImageHash?: string;
  /** Key provider identity (hex of the `id` field of the key-provider event). */
  keyProviderId?: string;
  /** Expected REPORTDATA (128 hex chars), e.g. a binding of our nonce (see dstack/report-data.ts). */
  reportData?: string;
}

export interface DstackCheckInput {
  /** The `event_log` string from GetQuote, or its parsed array. */
  eventLog: string | DstackEvent[];
  policy?: DstackPolicy;
}

export interface DstackIdentity {
  /** RTMR0..3 replayed from the log equal the quote's. */
  replayed: boolean;
  composeHash: string | null;
  appId: string | null;
  instanceId: string | null;
  osImageHash: string | null;
  keyProvider: { name: string; id: string } | null;
  /** Raw key-provider payload when it is not the JSON form. */
  keyProviderRaw: string | null;
  /** Decoded MRCONFIGID form: 'unset' | 'compose-hash' | 'keccak-binding' | 'document' | 'unknown'. */
  mrConfigIdForm: string;
  /** Runtime (IMR3) event names in log order, up to and including system-ready. */
  bootEvents: string[];
  /** Each step of the identity check (event log, replay, boot identity, MRCONFIGID) and each policy field. */
  policyChecks: VerificationCheck[];
}

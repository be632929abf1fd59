import type { AcceptancePolicy, Collateral } from '../attest/types';
import type { ExpectedAppCompose } from '../providers/phala/app-compose';
import type { PhalaClient } from '../providers/phala/client';
import type { CvmEvidence, SealExpectations, TrustReport } from '../seal/trust-gate';

/** One env var as it is sealed: the value is a secret until it is inside the CVM. */
export interface EnvEntry {
  key: string;
  value: string;
}

/** An OS image whose boot measurements the user allows (pinned from the provider's published list). */
export interface PinnedOsImage {
  name?: string;
  version?: string;
  osImageHash?: string;
  mrtd: string;
  rtmr0: string;
  rtmr1: string;
  rtmr2: string;
}

/**
 * What the user decided to trust, stored encrypted in the vault. Sealing refuses any CVM whose key provider is
 * not this KMS or whose boot measurements are not one of these images.
 */
export interface TrustPins {
  kms: { id?: string; slug?: string; name?: string; k256Pubkey: string; caPubkey: string };
  osImages: PinnedOsImage[];
  /** Where the worker fetches the quote's collateral (Intel PCS v4 wire format). */
  pccsUrl: string;
  /** Development only: a test root the verifier may trust instead of Intel's (refused by builds for users). */
  testRootDerHex?: string;
  policy?: AcceptancePolicy;
}

/**
 * The provider, as the flow uses it: the Phala Cloud client of lib/providers/phala (real API or the CVM
 * simulator), including a running CVM's guest API (Info, GetQuote) when the CVM object names one.
 */
export type CloudPort = Pick<
  PhalaClient,
  | 'listKms'
  | 'listOsImages'
  | 'provisionCvm'
  | 'createCvm'
  | 'getCvm'
  | 'getEnvPubkey'
  | 'updateEnv'
  | 'getState'
  | 'getLogs'
  | 'restart'
  | 'deleteCvm'
  | 'getAttestation'
  | 'guestInfo'
  | 'guestGetQuote'
>;

/**
 * A CVM's evidence as the flow collected it (quote from the guest agent's GetQuote or the provider's attestation,
 * env key from the provider)
 * and what it must prove before any secret is sealed to it. The collateral is fetched where the quote is parsed.
 */
export interface CvmCheckRequest {
  evidence: Omit<CvmEvidence, 'quote' | 'collateral'> & { quote: Uint8Array | string };
  collateral: Collateral | { pccsUrl: string };
  expectations: SealExpectations;
}

/** Runs the trust gate in the attest worker: the page never verifies. Resolves with a report in every case. */
export type TrustCheckPort = (request: CvmCheckRequest) => Promise<TrustReport>;

/** Seals env to a trusted CVM (lib/seal sealEnvForCvm); refuses for a report that is not trusted. */
export type SealPort = (report: TrustReport, envPublicKey: string, env: EnvEntry[]) => Promise<string>;

/**
 * What the dashboard needs to find a deployment again. Stored encrypted in the vault; holds no secret value,
 * only the vault item ids the secrets come from.
 */
export interface DeploymentRecord {
  version: 1;
  name: string;
  cvmId: string;
  appId: string;
  kmsId: string;
  apiBaseUrl: string;
  /** Vault item holding the provider API key. */
  apiKeyItemId: string;
  /** The app-compose.json text the CVM was verified to run ('' when it never passed). */
  appCompose: string;
  allowedEnvs: string[];
  /**
   * What we asked to run, so every re-verification checks the attested compose text against it (records from
   * before this field rely on `appCompose` alone).
   */
  expectedCompose?: ExpectedAppCompose;
  /**
   * False when the CVM was created but failed verification: it runs without any secret and should be destroyed.
   * Absent on records of trusted deployments.
   */
  secretsSent?: boolean;
  /** Where each sealed env var's value comes from: a vault item (+ field), or a value typed in the wizard. */
  envSources: EnvSource[];
  /** The env vars the manifest asks for, so "Update secrets" shows the same form. */
  envSpec: EnvSpec[];
  createdAt: string;
  lastVerifiedAt?: string;
  lastVerdict?: { trusted: boolean; failedCheck?: string; message?: string };
  /**
   * Every time the person overrode the refusal of a quote that was not challenge-bound (issue 13 item 10): which
   * CVM, which quote (SHA-256), when, and the warning they accepted. Shown on the dashboard; never removed.
   */
  quoteOverrides?: Array<{ cvmId: string; quoteSha256: string; at: string; warning: string }>;
}

/** One env var a manifest asks for (lib/providers openclaw-tee.json `env` entry). */
export interface EnvSpec {
  key: string;
  description: string;
  required: boolean;
  sensitive: boolean;
  default?: string;
}

export type EnvSource =
  | { key: string; itemId: string; field: 'value' }
  | { key: string; itemId: string; field: 'providerKeys' | 'env'; name: string }
  | { key: string; literal: string };

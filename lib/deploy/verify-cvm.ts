import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex } from '../bytes';
import { clawkeepReportData, randomNonce } from '../attest/dstack/report-data';
import { AppComposeError, checkAppCompose, type ExpectedAppCompose } from '../providers/phala/app-compose';
import type { EnvPubkey, PhalaCvm } from '../providers/phala/wire';
import type { SealExpectations, TrustReport } from '../seal/trust-gate';
import { DeployError } from './errors';
import type { CloudPort, TrustCheckPort, TrustPins } from './types';
import { isRunning, waitForCvm, type PollOptions } from './wait';

/** What a CVM must be proven to be before secrets are sealed to it. */
export interface CvmTarget {
  /** The CVM's id: it must exist (and run) to be attested. */
  cvmId: string;
  appId: string;
  kmsId: string;
  allowedEnvs: string[];
  envKeys: string[];
  /**
   * What we asked to run. When given, the app-compose text the CVM's attestation carries must pass
   * checkAppCompose against it (the gate then proves that text is what the CVM measured).
   */
  expectedCompose?: ExpectedAppCompose;
  /**
   * A compose text already known: the provider's at provisioning (used only when the attestation carries none, and
   * still checked against `expectedCompose`), or a deployment record's verified text when `expectedCompose` is absent.
   */
  knownAppCompose?: string | null;
  /** The env key the provider handed out at provisioning, if any: the signed key must be the same. */
  provisionedEnvPublicKey?: string;
}

export interface VerifyDeps {
  cloud: CloudPort;
  checkTrust: TrustCheckPort;
  trust: TrustPins;
  now?: () => number;
  nonce?: () => Uint8Array;
  /** How to wait for a CVM that is (re)starting: only a running TD can be attested. */
  poll?: PollOptions;
  /**
   * The person overrode the refusal of a provider-served (not challenge-bound) quote after reading
   * UNBOUND_QUOTE_WARNING. The verdict then carries the override record the caller must persist.
   */
  acceptUnboundQuote?: boolean;
}

/** A recorded override of the freshness refusal: which CVM, which quote, when, and the warning the person accepted. */
export interface QuoteOverrideRecord {
  cvmId: string;
  quoteSha256: string;
  /** ISO time. */
  at: string;
  warning: string;
}

/** Where the quote came from: the CVM answering our challenge, or the provider's stored copy. */
export type EvidenceSource = 'guest-agent' | 'provider';

export interface CvmVerdict {
  report: TrustReport;
  /** The X25519 key the env is sealed to (bound into REPORTDATA with our nonce when the CVM was challenged). */
  envPublicKey: string;
  verifiedAt: number;
  source: EvidenceSource;
  /** The exact app-compose.json text the gate checked against the CVM's measured compose hash. */
  appCompose: string;
  /** Present when the report passed only by the person's override of an unbound quote: persist it. */
  override?: QuoteOverrideRecord;
}

const ENV_KEY = /^[0-9a-f]{64}$/i;
const normalizeKey = (key: string): string => key.replace(/^0x/i, '').toLowerCase();

/** The timestamped v1 signature when the KMS gave one (freshness is then checked too), else the legacy one. */
function envKeySignatureOf(key: EnvPubkey): { envKeySignature?: { signature: string; timestamp?: number } } {
  if (key.signatureV1 && key.timestamp !== null)
    return { envKeySignature: { signature: key.signatureV1, timestamp: key.timestamp } };
  if (key.signature) return { envKeySignature: { signature: key.signature } };
  return {};
}

/**
 * The env public key and what signs it: the KMS pubkey endpoint (with the KMS signature), or, when that endpoint
 * fails, the CVM's kms_info key — unsigned, so the gate refuses it (env-key-signature) rather than guessing.
 */
async function envKeyOf(cloud: CloudPort, target: CvmTarget, cvm: PhalaCvm): Promise<EnvPubkey> {
  try {
    return await cloud.getEnvPubkey(target.kmsId, target.appId);
  } catch (err) {
    const fallback = cvm.kmsInfo?.encryptedEnvPubkey;
    if (!fallback) throw err;
    return { publicKey: fallback, signature: null, timestamp: null, signatureV1: null };
  }
}

interface Evidence {
  quote: string;
  eventLog: string;
  /** The compose text the CVM reports running (null when it reports none). */
  appCompose: string | null;
  reportData?: string;
  source: EvidenceSource;
}

/**
 * Fresh evidence when the CVM can be challenged (a guest agent URL on the CVM object: GetQuote with our report
 * data, Info for the compose text); otherwise the provider's attestation, whose report data is not ours.
 */
async function collectEvidence(
  cloud: CloudPort,
  cvm: PhalaCvm,
  envPublicKey: string,
  nonce: () => Uint8Array,
): Promise<Evidence> {
  if (cvm.guestAgentUrl) {
    const reportData = toHex(clawkeepReportData(nonce(), fromHex(envPublicKey)));
    const [quote, info] = await Promise.all([
      cloud.guestGetQuote(cvm.guestAgentUrl, reportData),
      cloud.guestInfo(cvm.guestAgentUrl),
    ]);
    return {
      quote: quote.quote,
      eventLog: quote.eventLog,
      appCompose: info.tcbInfo.appCompose,
      reportData,
      source: 'guest-agent',
    };
  }
  const attestation = await cloud.getAttestation(cvm.id);
  const quote = attestation.quotes[0];
  if (!attestation.tcbInfo || !quote) {
    throw new DeployError(
      'provider_failed',
      'The provider returned no quote and event log for this CVM (is it running?), so it cannot be attested.',
    );
  }
  return {
    quote,
    eventLog: attestation.tcbInfo.eventLog,
    appCompose: attestation.tcbInfo.appCompose,
    source: 'provider',
  };
}

/**
 * The compose text the gate will hold the CVM to. With `expectedCompose`, the CVM's own text (or the provider's
 * from provisioning) must be ours: same compose, env allow-list, KMS key provider, no extra script — the gate then
 * checks that this text is what the CVM measured. Without it (old records), the record's verified text is used.
 * @throws DeployError untrusted_cvm (check compose-hash) when the text is not ours
 */
function composeToCheck(target: CvmTarget, reported: string | null): string {
  if (!target.expectedCompose) {
    if (!target.knownAppCompose)
      throw new DeployError('invalid_request', 'This deployment has no verified app compose to check the CVM against.');
    return target.knownAppCompose;
  }
  const text = reported ?? target.knownAppCompose ?? null;
  if (text === null) {
    throw new DeployError(
      'untrusted_cvm',
      'Failed check “compose-hash”: the provider shows no app compose for this CVM, so what it runs cannot be compared with ours.',
      {
        check: 'compose-hash',
      },
    );
  }
  try {
    checkAppCompose(text, target.expectedCompose);
  } catch (err) {
    if (!(err instanceof AppComposeError)) throw err;
    throw new DeployError('untrusted_cvm', `Failed check “compose-hash”: ${err.message}`, { check: 'compose-hash' });
  }
  return text;
}

/**
 * Collects evidence from the running CVM and runs the trust gate in the worker: the env key (and the KMS signature
 * over it) from the provider, then a quote — challenged with REPORTDATA = clawkeepReportData(fresh nonce, env key)
 * when the CVM exposes a guest agent, else the provider's copy tied to the CVM's instance id (and reported as not
 * challenge-bound). Resolves with the report (trusted or not); throws DeployError when evidence could not be
 * collected, or (untrusted_cvm) when the compose the CVM reports is not ours.
 */
export async function verifyCvm(target: CvmTarget, deps: VerifyDeps): Promise<CvmVerdict> {
  // A CVM that is restarting (after a restart or an env update) has no TD to quote yet: wait until it runs.
  const seen = await deps.cloud.getCvm(target.cvmId);
  if (seen.status === 'stopped') throw new DeployError('unhealthy', 'The CVM is stopped: start it to verify it.');
  const cvm = isRunning(seen) ? seen : await waitForCvm(deps.cloud, target.cvmId, isRunning, deps.poll);
  const key = await envKeyOf(deps.cloud, target, cvm);
  const envPublicKey = normalizeKey(key.publicKey);
  if (!ENV_KEY.test(envPublicKey))
    throw new DeployError('provider_failed', 'The provider’s env public key is not 32 bytes of hex.');
  if (target.provisionedEnvPublicKey && normalizeKey(target.provisionedEnvPublicKey) !== envPublicKey) {
    throw new DeployError(
      'provider_failed',
      'The provider handed out two different env keys for this app; nothing is sealed to either.',
    );
  }

  const evidence = await collectEvidence(deps.cloud, cvm, envPublicKey, deps.nonce ?? randomNonce);
  const appCompose = composeToCheck(target, evidence.appCompose);
  const now = (deps.now ?? Date.now)();
  const { trust } = deps;
  const expectations: SealExpectations = {
    appCompose,
    appId: target.appId,
    trustedKms: { k256Pubkey: trust.kms.k256Pubkey, caPubkey: trust.kms.caPubkey },
    allowedOsImages: trust.osImages.map((o) => ({
      ...(o.name ? { name: o.name } : {}),
      mrtd: o.mrtd,
      rtmr0: o.rtmr0,
      rtmr1: o.rtmr1,
      rtmr2: o.rtmr2,
    })),
    envKeys: target.envKeys,
    allowedEnvs: target.allowedEnvs,
    ...(evidence.reportData
      ? { reportData: evidence.reportData }
      : cvm.instanceId
        ? { instanceId: cvm.instanceId }
        : {}),
    ...(!evidence.reportData && deps.acceptUnboundQuote ? { acceptUnboundQuote: true } : {}),
    now,
    ...(trust.policy ? { policy: trust.policy } : {}),
    ...(trust.testRootDerHex ? { testTrustAnchor: { rootCertDer: fromHex(trust.testRootDerHex) } } : {}),
  };
  const report = await deps.checkTrust({
    evidence: { quote: evidence.quote, eventLog: evidence.eventLog, envPublicKey, ...envKeySignatureOf(key) },
    collateral: { pccsUrl: trust.pccsUrl },
    expectations,
  });
  const override: QuoteOverrideRecord | undefined =
    report.trusted && report.overridden
      ? {
          cvmId: target.cvmId,
          quoteSha256: report.quoteSha256 ?? toHex(sha256(fromHex(evidence.quote))),
          at: new Date(now).toISOString(),
          warning: report.overridden.warning,
        }
      : undefined;
  return {
    report,
    envPublicKey,
    verifiedAt: now,
    source: evidence.source,
    appCompose,
    ...(override ? { override } : {}),
  };
}

/** "Failed check “os-image” (label): message" — what the user reads when the gate refuses. */
export function untrustedMessage(report: TrustReport): string {
  const failed = report.failed;
  if (!failed) return 'The CVM was not proven trustworthy.';
  const label = report.checks.find((c) => c.id === failed.id)?.label;
  return `Failed check “${failed.id}”${label ? ` (${label})` : ''}: ${failed.message}`;
}

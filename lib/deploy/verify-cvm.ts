import { fromHex, toHex } from '../bytes';
import { clawkeepReportData, randomNonce } from '../attest/dstack/report-data';
import type { EnvPubkey } from '../providers/phala/wire';
import type { TrustReport } from '../seal/trust-gate';
import { DeployError } from './errors';
import type { CloudPort, TrustCheckPort, TrustPins } from './types';

/** What a CVM must be proven to be before secrets are sealed to it. */
export interface CvmTarget {
  /** The CVM's id; null before it exists (first deploy: the provisioned app attests through `guestAgentUrl`). */
  cvmId: string | null;
  /** Where its dstack guest API answers; default: the CVM's `guest_agent_url`. */
  guestAgentUrl?: string | null;
  appId: string;
  kmsId: string;
  /** The exact app-compose.json text we deploy. */
  appCompose: string;
  allowedEnvs: string[];
  envKeys: string[];
  /** The env key the provider handed out at provisioning, if any: the signed key must be the same. */
  provisionedEnvPublicKey?: string;
}

export interface VerifyDeps {
  cloud: CloudPort;
  checkTrust: TrustCheckPort;
  trust: TrustPins;
  now?: () => number;
  nonce?: () => Uint8Array;
}

export interface CvmVerdict {
  report: TrustReport;
  /** The X25519 key the env is sealed to; bound into the quote's REPORTDATA with our nonce. */
  envPublicKey: string;
  verifiedAt: number;
}

const ENV_KEY = /^[0-9a-f]{64}$/i;

/** The timestamped v1 signature when the KMS gave one (freshness is then checked too), else the legacy one. */
function envKeySignatureOf(key: EnvPubkey): { envKeySignature?: { signature: string; timestamp?: number } } {
  if (key.signatureV1 && key.timestamp !== null) return { envKeySignature: { signature: key.signatureV1, timestamp: key.timestamp } };
  if (key.signature) return { envKeySignature: { signature: key.signature } };
  return {};
}

/**
 * Collects fresh evidence from the CVM and runs the trust gate in the worker: the env key (and the KMS signature
 * over it) from the provider, then a quote from the CVM's own guest agent with REPORTDATA =
 * clawkeepReportData(fresh nonce, env key), so an old or replayed quote cannot pass. Resolves with the report
 * (trusted or not); throws DeployError only when evidence could not be collected at all.
 */
export async function verifyCvm(target: CvmTarget, deps: VerifyDeps): Promise<CvmVerdict> {
  const guestAgentUrl = target.guestAgentUrl ?? (target.cvmId ? (await deps.cloud.getCvm(target.cvmId)).guestAgentUrl : null);
  if (!guestAgentUrl) throw new DeployError('provider_failed', 'The provider gave no guest agent URL for this CVM, so it cannot be attested.');
  const key = await deps.cloud.getEnvPubkey(target.kmsId, target.appId);
  const envPublicKey = key.publicKey.replace(/^0x/i, '').toLowerCase();
  if (!ENV_KEY.test(envPublicKey)) throw new DeployError('provider_failed', 'The provider’s env public key is not 32 bytes of hex.');
  if (target.provisionedEnvPublicKey && target.provisionedEnvPublicKey.replace(/^0x/i, '').toLowerCase() !== envPublicKey) {
    throw new DeployError('provider_failed', 'The provider handed out two different env keys for this app; nothing is sealed to either.');
  }

  const nonce = (deps.nonce ?? randomNonce)();
  const reportData = toHex(clawkeepReportData(nonce, fromHex(envPublicKey)));
  const { quote, eventLog } = await deps.cloud.guestGetQuote(guestAgentUrl, reportData);
  const now = (deps.now ?? Date.now)();
  const { trust } = deps;
  const report = await deps.checkTrust({
    evidence: {
      quote,
      eventLog,
      envPublicKey,
      ...envKeySignatureOf(key),
    },
    collateral: { pccsUrl: trust.pccsUrl },
    expectations: {
      appCompose: target.appCompose,
      appId: target.appId,
      trustedKms: { k256Pubkey: trust.kms.k256Pubkey, caPubkey: trust.kms.caPubkey },
      allowedOsImages: trust.osImages.map((o) => ({ ...(o.name ? { name: o.name } : {}), mrtd: o.mrtd, rtmr0: o.rtmr0, rtmr1: o.rtmr1, rtmr2: o.rtmr2 })),
      envKeys: target.envKeys,
      allowedEnvs: target.allowedEnvs,
      reportData,
      now,
      ...(trust.policy ? { policy: trust.policy } : {}),
      ...(trust.testRootDerHex ? { testTrustAnchor: { rootCertDer: fromHex(trust.testRootDerHex) } } : {}),
    },
  });
  return { report, envPublicKey, verifiedAt: now };
}

/** "Stopped at “os-image” (label): message" — what the user reads when the gate refuses. */
export function untrustedMessage(report: TrustReport): string {
  const failed = report.failed;
  if (!failed) return 'The CVM was not proven trustworthy.';
  const label = report.checks.find((c) => c.id === failed.id)?.label;
  return `Failed check “${failed.id}”${label ? ` (${label})` : ''}: ${failed.message}`;
}

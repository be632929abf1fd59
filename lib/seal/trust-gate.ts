import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8Encode } from '../bytes';
import { sameHexBytes, shortHex, shortHexPair } from '../attest/dstack/hex';
import type { AcceptancePolicy, Collateral, QuoteVerification, TestTrustAnchor } from '../attest/types';
import { verifyQuote } from '../attest/verify';
import { encryptEnv, ENV_KEY_PATTERN, parseEnvPublicKey } from './env-encryption';
import { SealError } from './errors';
import { verifyEnvKeySignature } from './kms-signature';

/**
 * The trust gate: secrets are sealed to a CVM only after every check below passed on fresh evidence
 * (specs/sealing-to-cvm.md §2.5). It is split in two so each half can be tested on its own:
 *
 * - `verifyEvidenceQuote` runs the TDX verifier (lib/attest) on the quote, with the dstack event log and the
 *   report data we asked for;
 * - `checkIdentity` is pure: it reads that verification result and compares what the CVM proved with what we
 *   deploy (OS image, event log replay, compose hash, app id, KMS, the KMS signature over the env key, the env
 *   names, the challenge).
 *
 * Every check is evaluated, so a person sees all of them; the first failed one (in TRUST_CHECK_IDS order) is
 * named in `failed` with a message that says what differed.
 */

export interface CvmEvidence {
  /** From GetQuote with our report_data. */
  quote: Uint8Array;
  /** The `event_log` JSON string from GetQuote. */
  eventLog: string;
  /** Fetched for this quote (the caller's job, e.g. lib/attest/collateral-cache.ts). */
  collateral: Collateral;
  /** 64 hex (X25519), from provision or the KMS pubkey endpoint. */
  envPublicKey: string;
  /** 130 hex (+ seconds since 1970 for a v1 signature). */
  envKeySignature?: { signature: string; timestamp?: number };
}

export interface SealExpectations {
  /** The exact app-compose.json text WE deploy (compose hash = SHA-256 of its UTF-8). */
  appCompose: string;
  /** 40 hex. */
  appId: string;
  /** k256Pubkey: 33-byte hex SEC1; caPubkey: hex DER SPKI of the KMS root CA (the key-provider event's "id"). */
  trustedKms: { k256Pubkey: string; caPubkey: string };
  allowedOsImages: Array<{ name?: string; mrtd: string; rtmr0: string; rtmr1: string; rtmr2: string }>;
  /** Names we are about to send. */
  envKeys: string[];
  /** From the app compose's allowed_envs. */
  allowedEnvs: string[];
  /**
   * 128 hex we asked for (clawkeepReportData(nonce, envPublicKey)): the quote must carry exactly this (fresh,
   * challenge-bound). Absent when the quote was served by the provider (`GET /cvms/{id}/attestation`), which we
   * cannot challenge: the 'report-data' check then FAILS (issue 13 item 10: a provider can replay an old genuine
   * quote, and the instance id it reports is its own word), unless `acceptUnboundQuote` is set.
   */
  reportData?: string;
  /**
   * The person explicitly overrode the refusal of a quote that is not challenge-bound, after seeing
   * UNBOUND_QUOTE_WARNING; the caller records it (which CVM, which quote, when, the warning). The instance-id tie
   * is still checked. Never set by default.
   */
  acceptUnboundQuote?: boolean;
  /** The CVM's instance id as the provider reports it (40 hex); checked against the quote's instance-id event. */
  instanceId?: string;
  now?: Date | number;
  policy?: AcceptancePolicy;
  testTrustAnchor?: TestTrustAnchor;
}

export const TRUST_CHECK_IDS = [
  'quote',
  'os-image',
  'rtmr3-replay',
  'compose-hash',
  'app-id',
  'key-provider',
  'env-key-signature',
  'allowed-envs',
  'report-data',
] as const;
export type TrustCheckId = (typeof TRUST_CHECK_IDS)[number];

/** What each check establishes, in a person's words (the wizard lists them). */
export const TRUST_CHECK_LABELS: Record<TrustCheckId, string> = {
  quote: 'The CVM’s quote is genuine Intel TDX, current, and accepted by policy',
  'os-image': 'It boots an allowed dstack OS image (MRTD, RTMR0–2)',
  'rtmr3-replay': 'Its event log replays to the measured registers (RTMR3)',
  'compose-hash': 'It runs exactly the app compose we deploy',
  'app-id': 'It is our app',
  'key-provider': 'Its keys come from the trusted KMS',
  'env-key-signature': 'The env encryption key is signed by the trusted KMS',
  'allowed-envs': 'Every secret we send is in the app’s allowed envs',
  'report-data': 'The quote answers our fresh challenge (a provider-served quote is refused unless you override it)',
};

export interface TrustCheck {
  id: TrustCheckId;
  label: string;
  ok: boolean;
  detail?: string;
}

export interface TrustReport {
  trusted: boolean;
  checks: TrustCheck[];
  failed: { id: TrustCheckId; message: string } | null;
  verification: QuoteVerification;
  /** The env public key this report vouches for (lower-case hex); sealEnvForCvm seals to nothing else. */
  envPublicKey?: string;
  /** The env names the allowed-envs check covered; sealEnvForCvm refuses others. */
  envKeys?: string[];
  /**
   * True when the quote answered our fresh challenge (report data); false when it was served by the provider and
   * only tied to the CVM's instance id — then nothing proves it is recent.
   */
  challengeBound?: boolean;
  /** SHA-256 (hex) of the quote bytes the report is about (checkCvmTrust sets it): what an override record names. */
  quoteSha256?: string;
  /** Set when the 'report-data' check passed only because the person overrode an unbound quote. */
  overridden?: { warning: string };
}

/** The 'report-data' detail of a passed check on a quote we could not challenge (the UI shows it as a freshness note). */
export const NOT_CHALLENGE_BOUND = 'not challenge-bound: quote served by the provider';

/** What the person reads (and what is recorded) before overriding the refusal of a quote the CVM did not answer for us. */
export const UNBOUND_QUOTE_WARNING =
  'This quote was served by the provider, not produced by the CVM for our one-time challenge. A provider can replay an ' +
  'old genuine quote (of an earlier instance, or of a compose it has since changed), so nothing proves it describes the ' +
  'CVM that would receive your secrets now. Seal only if you trust the provider not to do that.';

/** The 'report-data' failure message of a provider-served quote (the override control looks for this check). */
export const UNBOUND_QUOTE_REFUSED = `Not challenge-bound: the quote was served by the provider, not produced for our fresh challenge, so it may be an old quote replayed. Refused unless you override it.`;

/**
 * True when the gate refused only because the quote is not challenge-bound (every other check passed, the env key
 * is well formed): the one refusal a person may override, with UNBOUND_QUOTE_WARNING recorded.
 */
export function isUnboundQuoteRefusal(report: TrustReport): boolean {
  if (report.trusted || report.challengeBound !== false || report.failed?.id !== 'report-data' || !report.envPublicKey)
    return false;
  return report.checks.every((c) => c.ok || c.id === 'report-data') && report.failed.message === UNBOUND_QUOTE_REFUSED;
}

/** Runs the TDX verifier on the CVM's quote, with its event log and the report data we asked for. */
export function verifyEvidenceQuote(evidence: CvmEvidence, expectations: SealExpectations): Promise<QuoteVerification> {
  return verifyQuote(evidence.quote, evidence.collateral, {
    ...(expectations.now !== undefined ? { now: expectations.now } : {}),
    ...(expectations.policy ? { policy: expectations.policy } : {}),
    ...(expectations.testTrustAnchor ? { testTrustAnchor: expectations.testTrustAnchor } : {}),
    dstack: {
      eventLog: evidence.eventLog,
      policy: expectations.reportData === undefined ? {} : { reportData: expectations.reportData },
    },
  });
}

interface Outcome {
  ok: boolean;
  /** The person-readable sentence: why it failed, or what matched. */
  detail: string;
}
const pass = (detail: string): Outcome => ({ ok: true, detail });
const fail = (detail: string): Outcome => ({ ok: false, detail });

/** Short forms that still tell two long hex values apart (SPKIs share their first bytes). */
function distinguish(a: string, b: string): [string, string] {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  if (x.slice(0, 8) !== y.slice(0, 8)) return [shortHex(x), shortHex(y)];
  if (x.length > 24 && y.length > 24 && x.slice(-12) !== y.slice(-12)) return [`…${x.slice(-12)}`, `…${y.slice(-12)}`];
  return shortHexPair(x, y);
}

// The dstack steps that make the event log's identity trustworthy (lib/attest/dstack/index.ts evaluateDstack).
const IDENTITY_STEPS = ['dstack.event-log', 'dstack.replay', 'dstack.boot-identity', 'dstack.mr-config-id'];

function checkQuote(v: QuoteVerification): Outcome {
  if (v.teeType !== null && v.teeType !== 'TDX') return fail(`The quote is ${v.teeType}, not Intel TDX.`);
  // The verifier's own dstack step is judged by the identity checks below, each with its own message.
  const quoteSteps = v.checks.filter((c) => c.id !== 'dstack');
  const firstFailed = quoteSteps.find((c) => !c.ok);
  const policyPassed = quoteSteps.some((c) => c.id === 'policy' && c.ok);
  if (!v.valid || firstFailed || !policyPassed) {
    const why = firstFailed?.detail ?? v.error?.message ?? 'it was not verified';
    return fail(`The CVM’s quote did not verify: ${why}`);
  }
  const anchor = v.testTrustAnchor ? ' (chains to a TEST root, not Intel)' : '';
  return pass(
    `${v.status ?? 'verified'}${v.advisoryIds.length ? `, advisories ${v.advisoryIds.join(', ')}` : ''}${anchor}`,
  );
}

function checkOsImage(v: QuoteVerification, images: SealExpectations['allowedOsImages']): Outcome {
  const td = v.td;
  if (!td) return fail('OS image not measured: the quote has no TD report to read MRTD and RTMR0–2 from.');
  const index = images.findIndex(
    (i) =>
      sameHexBytes(i.mrtd, td.mrTd) &&
      sameHexBytes(i.rtmr0, td.rtmrs[0]) &&
      sameHexBytes(i.rtmr1, td.rtmrs[1]) &&
      sameHexBytes(i.rtmr2, td.rtmrs[2]),
  );
  if (index >= 0)
    return pass(images[index]!.name ? `matches ${images[index]!.name}` : `matches allowed image ${index + 1}`);
  return fail(
    `OS image not allowed: MRTD ${shortHex(td.mrTd)}, RTMR0 ${shortHex(td.rtmrs[0])}, RTMR1 ${shortHex(td.rtmrs[1])}, ` +
      `RTMR2 ${shortHex(td.rtmrs[2])} match none of the ${images.length} allowed OS image${images.length === 1 ? '' : 's'}.`,
  );
}

function checkReplay(v: QuoteVerification): Outcome {
  const dstack = v.dstack;
  if (!dstack) return fail('RTMR3 not replayed: the quote was not verified far enough to read its event log.');
  const broken = dstack.policyChecks.find((c) => IDENTITY_STEPS.includes(c.id) && !c.ok);
  if (broken) return fail(`RTMR3 replay failed: ${broken.detail ?? broken.label}`);
  if (!dstack.replayed) return fail('RTMR3 replay failed: the event log does not reproduce the quote’s RTMR0–3.');
  return pass(`${dstack.bootEvents.length} boot events replayed`);
}

/** The compose check on its own: SHA-256 of the exact compose text we deploy against the measured compose-hash. */
export function checkComposeHash(measured: string | null, appCompose: string): Outcome {
  const ours = toHex(sha256(utf8Encode(appCompose)));
  if (measured === null)
    return fail(`Compose hash not measured: the CVM’s event log has no compose-hash (we deploy ${shortHex(ours)}).`);
  if (sameHexBytes(measured, ours)) return pass(ours);
  const [theirs, mine] = distinguish(measured, ours);
  return fail(`Compose hash mismatch: the CVM runs ${theirs}, we deploy ${mine}.`);
}

function checkAppId(measured: string | null, appId: string): Outcome {
  if (!/^[0-9a-fA-F]{40}$/.test(appId))
    return fail('App id check impossible: the expected app id is not 40 hex digits.');
  if (measured === null)
    return fail(`App id not measured: the CVM’s event log has no app-id (we deploy app ${shortHex(appId)}).`);
  if (sameHexBytes(measured, appId)) return pass(measured.toLowerCase());
  const [theirs, ours] = distinguish(measured, appId);
  return fail(`App id mismatch: the CVM is app ${theirs}, we deploy app ${ours}.`);
}

function checkKeyProvider(v: QuoteVerification, caPubkey: string): Outcome {
  const provider = v.dstack?.keyProvider ?? null;
  if (!provider) {
    const raw = v.dstack?.keyProviderRaw;
    return fail(
      raw
        ? 'Key provider unreadable: the key-provider event is not the {"name","id"} JSON a KMS writes.'
        : 'Key provider not measured: the CVM’s event log has no key-provider event.',
    );
  }
  if (provider.name !== 'kms')
    return fail(`Key provider is "${provider.name}", not a KMS: the CVM’s keys are not from the trusted KMS.`);
  if (sameHexBytes(provider.id, caPubkey)) return pass(`KMS …${provider.id.toLowerCase().slice(-12)}`);
  const [theirs, ours] = distinguish(provider.id, caPubkey);
  return fail(`Key provider mismatch: the CVM gets its keys from KMS ${theirs}, we trust KMS ${ours}.`);
}

function checkEnvKeySignature(
  evidence: Pick<CvmEvidence, 'envPublicKey' | 'envKeySignature'>,
  x: SealExpectations,
): Outcome {
  if (!evidence.envKeySignature) {
    return fail('The env key is not signed by the KMS: no signature came with it, so it could be anyone’s key.');
  }
  try {
    verifyEnvKeySignature({
      appId: x.appId,
      publicKey: evidence.envPublicKey,
      signature: evidence.envKeySignature.signature,
      ...(evidence.envKeySignature.timestamp !== undefined ? { timestamp: evidence.envKeySignature.timestamp } : {}),
      trustedK256Pubkey: x.trustedKms.k256Pubkey,
      ...(x.now !== undefined ? { now: x.now } : {}),
    });
  } catch (err) {
    if (err instanceof SealError) return fail(err.message);
    return fail('The env key signature could not be checked.');
  }
  return pass(
    evidence.envKeySignature.timestamp === undefined ? 'legacy signature' : 'timestamped (v1) signature, fresh',
  );
}

/** allowed_envs of the exact compose we deploy (measured, via the compose hash), or null if it has none. */
function composeAllowedEnvs(appCompose: string): string[] | null {
  try {
    const doc = JSON.parse(appCompose) as { allowed_envs?: unknown };
    const list = doc?.allowed_envs;
    return Array.isArray(list) && list.every((k) => typeof k === 'string') ? list : null;
  } catch {
    return null;
  }
}

function checkAllowedEnvs(x: SealExpectations): Outcome {
  const badNames = x.envKeys.filter((k) => typeof k !== 'string' || !ENV_KEY_PATTERN.test(k));
  if (badNames.length)
    return fail(`Env key names not allowed by dstack: ${badNames.map((k) => JSON.stringify(k)).join(', ')}.`);
  const measured = composeAllowedEnvs(x.appCompose);
  // A name must be in the allow-list we were given and, when the compose states one, in the attested one: the
  // guest silently drops any other name, so the agent would start without that secret.
  const missing = x.envKeys.filter((k) => !x.allowedEnvs.includes(k) || (measured !== null && !measured.includes(k)));
  if (missing.length) {
    return fail(`Env keys not in the app’s allowed_envs: ${missing.join(', ')} (the CVM would drop them).`);
  }
  return pass(x.envKeys.length ? x.envKeys.join(', ') : 'no env keys');
}

function checkReportData(v: QuoteVerification, x: SealExpectations): Outcome {
  const reportData = x.reportData;
  if (reportData === undefined) {
    const tie = checkProviderQuoteInstance(v, x.instanceId);
    if (!tie.ok) return tie;
    // Fail closed (issue 13 item 10): a quote carries no time, and the provider that serves it also reports the
    // instance id it is compared with; only our own nonce in REPORTDATA proves it is this CVM, now.
    if (!x.acceptUnboundQuote) return fail(UNBOUND_QUOTE_REFUSED);
    return pass(`OVERRIDDEN by you: ${tie.detail}`);
  }
  if (!/^[0-9a-fA-F]{128}$/.test(reportData))
    return fail('Report data check impossible: the challenge we asked for is not 64 bytes of hex.');
  if (v.reportData === null) return fail('Report data not readable from the quote.');
  if (sameHexBytes(v.reportData, reportData)) return pass(shortHex(reportData));
  const [theirs, ours] = distinguish(v.reportData, reportData);
  return fail(`Report data mismatch: the quote answers ${theirs}, we asked for ${ours} (an old or foreign quote).`);
}

/**
 * A quote the provider served (not an answer to our challenge): its REPORTDATA is not ours, so freshness cannot
 * be shown. What can be checked is that it is this CVM's quote: the measured instance-id equals the id the API
 * reports for the CVM (when the API reports one and the log measures one).
 */
function checkProviderQuoteInstance(v: QuoteVerification, instanceId: string | undefined): Outcome {
  if (instanceId === undefined) return pass(NOT_CHALLENGE_BOUND);
  if (!/^[0-9a-fA-F]{40}$/.test(instanceId))
    return fail('Instance id check impossible: the provider’s instance id is not 40 hex digits.');
  const measured = v.dstack?.replayed ? v.dstack.instanceId : null;
  if (!measured)
    return fail(
      `Instance id not measured: the quote’s event log has no instance-id, so it cannot be tied to CVM instance ${shortHex(instanceId)}.`,
    );
  if (!sameHexBytes(measured, instanceId)) {
    const [theirs, ours] = distinguish(measured, instanceId);
    return fail(
      `Instance id mismatch: the quote is from instance ${theirs}, the provider reports instance ${ours} (another CVM’s quote).`,
    );
  }
  return pass(`${NOT_CHALLENGE_BOUND}; instance ${measured.toLowerCase()}`);
}

/**
 * Compares what a verified quote proves with what we deploy. Pure: no I/O; reads `verification` (from
 * `verifyEvidenceQuote`), the env key with its signature, and our expectations.
 */
export function checkIdentity(
  verification: QuoteVerification,
  evidence: Pick<CvmEvidence, 'envPublicKey' | 'envKeySignature'>,
  expectations: SealExpectations,
): TrustReport {
  const replayed = verification.dstack?.replayed === true;
  const identity = replayed ? verification.dstack : null;
  const outcomes: Record<TrustCheckId, Outcome> = {
    quote: checkQuote(verification),
    'os-image': checkOsImage(verification, expectations.allowedOsImages),
    'rtmr3-replay': checkReplay(verification),
    'compose-hash': checkComposeHash(identity?.composeHash ?? null, expectations.appCompose),
    'app-id': checkAppId(identity?.appId ?? null, expectations.appId),
    'key-provider': identity
      ? checkKeyProvider(verification, expectations.trustedKms.caPubkey)
      : fail('Key provider not measured: no replayed event log.'),
    'env-key-signature': checkEnvKeySignature(evidence, expectations),
    'allowed-envs': checkAllowedEnvs(expectations),
    'report-data': checkReportData(verification, expectations),
  };
  // Belt and braces: every check above passing must agree with the verifier's own verdict.
  if (TRUST_CHECK_IDS.every((id) => outcomes[id].ok) && !verification.verified) {
    outcomes.quote = fail(`The CVM’s quote did not verify: ${verification.error?.message ?? 'no verdict'}`);
  }
  const checks: TrustCheck[] = TRUST_CHECK_IDS.map((id) => ({
    id,
    label: TRUST_CHECK_LABELS[id],
    ok: outcomes[id].ok,
    detail: outcomes[id].detail,
  }));
  const first = checks.find((c) => !c.ok);
  let envPublicKey: string | undefined;
  try {
    envPublicKey = toHex(parseEnvPublicKey(evidence.envPublicKey));
  } catch {
    envPublicKey = undefined;
  }
  return {
    trusted: first === undefined && envPublicKey !== undefined,
    checks,
    failed: first
      ? { id: first.id, message: first.detail! }
      : envPublicKey
        ? null
        : { id: 'env-key-signature', message: 'The env encryption public key is not 64 hex digits.' },
    verification,
    ...(envPublicKey ? { envPublicKey } : {}),
    envKeys: [...expectations.envKeys],
    challengeBound: expectations.reportData !== undefined,
    ...(expectations.reportData === undefined && expectations.acceptUnboundQuote && outcomes['report-data'].ok
      ? { overridden: { warning: UNBOUND_QUOTE_WARNING } }
      : {}),
  };
}

/** The full gate on fresh evidence. Never rejects: a failure is `trusted: false` with the failed check named. */
export async function checkCvmTrust(evidence: CvmEvidence, expectations: SealExpectations): Promise<TrustReport> {
  const verification = await verifyEvidenceQuote(evidence, expectations);
  return { ...checkIdentity(verification, evidence, expectations), quoteSha256: toHex(sha256(evidence.quote)) };
}

/**
 * Seals only with a trusted report for exactly this public key, and only env names the report checked.
 * @throws SealError untrusted_cvm (plus encryptEnv's env_invalid | env_too_large | pubkey_invalid)
 */
export async function sealEnvForCvm(
  report: TrustReport,
  envPublicKey: string,
  env: Array<{ key: string; value: string }>,
): Promise<string> {
  if (!report?.trusted || report.failed) {
    const why = report?.failed ? report.failed.message : 'the CVM was not checked';
    throw new SealError('untrusted_cvm', `Refusing to seal: ${why}`);
  }
  // A report that passed must carry every check, each passed, and the verifier's verdict — not just `trusted: true`.
  const missing = TRUST_CHECK_IDS.find((id) => !report.checks?.some((c) => c.id === id && c.ok));
  if (missing || report.verification?.verified !== true) {
    throw new SealError(
      'untrusted_cvm',
      `Refusing to seal: the trust report does not show the ${missing ?? 'quote'} check passed.`,
    );
  }
  const key = parseEnvPublicKey(envPublicKey);
  if (!report.envPublicKey || !sameHexBytes(report.envPublicKey, toHex(key))) {
    throw new SealError(
      'untrusted_cvm',
      'Refusing to seal: this is not the env encryption key the CVM check verified.',
    );
  }
  const unchecked = env.filter((e) => !report.envKeys?.includes(e?.key)).map((e) => e?.key);
  if (unchecked.length) {
    throw new SealError(
      'untrusted_cvm',
      `Refusing to seal: env keys not covered by the CVM check: ${unchecked.join(', ')}.`,
    );
  }
  return encryptEnv(env, envPublicKey);
}

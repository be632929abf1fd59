// @vitest-environment node
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../lib/bytes';
import { clawkeepReportData } from '../../../lib/attest/dstack';
import type { Collateral, QuoteVerification } from '../../../lib/attest/types';
import { decryptEnv } from '../../../lib/seal/env-decryption';
import type { SealError } from '../../../lib/seal/errors';
import { envKeySignatureMessage } from '../../../lib/seal/kms-signature';
import {
  checkComposeHash,
  checkCvmTrust,
  checkIdentity,
  NOT_CHALLENGE_BOUND,
  sealEnvForCvm,
  verifyEvidenceQuote,
  TRUST_CHECK_IDS,
  type CvmEvidence,
  type SealExpectations,
  type TrustCheckId,
  type TrustReport,
  UNBOUND_QUOTE_REFUSED,
  UNBOUND_QUOTE_WARNING,
} from '../../../lib/seal/trust-gate';

// The gate's identity checks are tested on what the real verifier answers for the real dstack simulator quotes
// (test/fixtures/tdx/dstack, README "dstack event-log fixtures"). Those quotes are genuinely signed, so the
// verifier reads and replays their event logs, but no collateral gives them a TCB level: the `quote` check fails
// on every one of them, and a fully trusted report (all nine checks passing) is exercised end to end by the CVM
// simulator's tests, whose quotes chain to a test root.

const TDX = resolve(process.cwd(), 'test/fixtures/tdx');
const SEALING = resolve(process.cwd(), 'test/fixtures/sealing');
const read = (dir: string, path: string): Buffer => readFileSync(resolve(dir, path));

interface ExpectedCase {
  id: string;
  now_iso: string;
  quote_summary: { td_report: Record<string, string> };
}
const expectedCases = JSON.parse(read(TDX, 'expected.json').toString('utf8')) as ExpectedCase[];
const expectedCase = (id: string): ExpectedCase => expectedCases.find((c) => c.id === id)!;
const collateral = (name: string): Collateral =>
  JSON.parse(read(TDX, `collateral/${name}`).toString('utf8')) as Collateral;
const osImageOf = (id: string, name: string) => {
  const td = expectedCase(id).quote_summary.td_report;
  return { name, mrtd: td.mr_td!, rtmr0: td.rtmr0!, rtmr1: td.rtmr1!, rtmr2: td.rtmr2! };
};

// The key-provider id both simulator logs carry (fixture README: `{"name":"kms","id":"3059…82c0"}`).
const KMS_CA =
  '3059301306072a8648ce3d020106082a8648ce3d0301070342000419b2457dd9b8aa6446d980f136fff7812ecd6c77740eeb0e28b10d5' +
  '6c0c00028a5b6e59dcea307d583bd1f70769e9c116df2bcfb1758a95d8613e7de1c8482c0';
// Another P-256 SPKI (the KMS of the sealing rtmr3-replay fixture): same first bytes, different key.
const OTHER_KMS_CA =
  '3059301306072a8648ce3d020106082a8648ce3d030107034200042f71e234d7339a1ceaca09c3c391eb816c533f980adaab34f16ead093ff0ac1' +
  '00d9c03253a3056f6d27735125433180b3e61c54a78f3fd13337869e0051dee06';

// A test KMS signing key (TEST ONLY, from pubkey-signature.json) and an env key pair (env-encryption.json).
const signatureVectors = JSON.parse(read(SEALING, 'pubkey-signature.json').toString('utf8')) as {
  vectors: Array<{
    name: string;
    kms_k256_private_TEST_ONLY?: string;
    kms_k256_pubkey_compressed?: string;
    expected_signer_compressed?: string;
  }>;
};
const kmsVector = signatureVectors.vectors.find((v) => v.name === 'synthetic-v1')!;
const KMS_K256_PRIVATE = fromHex(kmsVector.kms_k256_private_TEST_ONLY!);
const KMS_K256 = kmsVector.kms_k256_pubkey_compressed!;
const OTHER_K256 = signatureVectors.vectors.find((v) => v.name === 'official-legacy')!.expected_signer_compressed!;
const envVectors = JSON.parse(read(SEALING, 'env-encryption.json').toString('utf8')) as {
  vectors: Array<{ recipient_x25519_private: string; recipient_x25519_public: string }>;
};
const ENV_PRIVATE = envVectors.vectors[0]!.recipient_x25519_private;
const ENV_PUBLIC = envVectors.vectors[0]!.recipient_x25519_public;
const OTHER_ENV_PUBLIC = envVectors.vectors[1]!.recipient_x25519_public;

/** Signs like the dstack KMS (Keccak-256 prehash, r ‖ s ‖ recid) — what a KMS holding the test key would return. */
function kmsSign(appId: string, publicKey: string, timestamp?: number, key = KMS_K256_PRIVATE): string {
  const digest = keccak_256(envKeySignatureMessage(fromHex(appId), fromHex(publicKey), timestamp));
  const recovered = secp256k1.sign(digest, key, { prehash: false, format: 'recovered' });
  return toHex(recovered.subarray(1)) + toHex(recovered.subarray(0, 1));
}

const ZERO_REPORT_DATA = '00'.repeat(64);

interface SimFixture {
  caseId: string;
  quote: Uint8Array;
  eventLog: string;
  collateral: Collateral;
  now: Date;
  appId: string;
  composeHash: string;
}
const SIM2025: SimFixture = {
  caseId: 'dstack-sim-2025-no-tcb-level',
  quote: fromHex(read(TDX, 'dstack/sim-2025/quote.hex').toString('utf8').trim()),
  eventLog: read(TDX, 'dstack/sim-2025/eventlog.json').toString('utf8'),
  collateral: collateral('tdx-b0c06f-2025-06-19.json'),
  now: new Date(expectedCase('dstack-sim-2025-no-tcb-level').now_iso),
  appId: 'ea549f02e1a25fabd1cb788380e033ec5461b2ff',
  composeHash: 'ea549f02e1a25fabd1cb788380e033ec5461b2ffe4328d753642cf035452e48b',
};
const SIM2026: SimFixture = {
  caseId: 'dstack-sim-2026-fmspc-mismatch',
  quote: new Uint8Array(read(TDX, 'dstack/sim-2026/quote.bin')),
  eventLog: JSON.stringify(
    (JSON.parse(read(TDX, 'dstack/sim-2026/attestation.decoded.json').toString('utf8')) as { tdx_event_log: unknown })
      .tdx_event_log,
  ),
  collateral: collateral('tdx-90c06f-2026-02-18.json'),
  now: new Date(expectedCase('dstack-sim-2026-fmspc-mismatch').now_iso),
  appId: '5bb4ff9a3837357f19dc176407a5709c62eb6c56',
  composeHash: 'c143116fef3940e7f776bfc0919c256232ae5338a6e948c96b711e0b2383483a',
};
// The compose upstream shipped next to sim-2025, which that simulator did NOT measure (README: a88c6d12… ≠ ea549f02…).
const NOT_MEASURED_COMPOSE = read(TDX, 'dstack/sim-2025/app-compose.NOT-MEASURED.json').toString('utf8');

function evidenceFor(sim: SimFixture, overrides: Partial<CvmEvidence> = {}): CvmEvidence {
  return {
    quote: sim.quote,
    eventLog: sim.eventLog,
    collateral: sim.collateral,
    envPublicKey: ENV_PUBLIC,
    envKeySignature: { signature: kmsSign(sim.appId, ENV_PUBLIC) },
    ...overrides,
  };
}

function expectationsFor(sim: SimFixture, overrides: Partial<SealExpectations> = {}): SealExpectations {
  return {
    appCompose: NOT_MEASURED_COMPOSE,
    appId: sim.appId,
    trustedKms: { k256Pubkey: KMS_K256, caPubkey: KMS_CA },
    allowedOsImages: [osImageOf(SIM2025.caseId, 'sim-2025 image'), osImageOf(SIM2026.caseId, 'sim-2026 image')],
    // That compose's allowed_envs is empty: any name we sent would be dropped, so by default we send none.
    envKeys: [],
    allowedEnvs: [],
    reportData: ZERO_REPORT_DATA,
    now: sim.now,
    // Permissive on statuses: these quotes fail before any status exists (no TCB level / FMSPC), whatever we allow.
    policy: {
      allowedStatuses: [
        'UpToDate',
        'SWHardeningNeeded',
        'ConfigurationNeeded',
        'ConfigurationAndSWHardeningNeeded',
        'OutOfDate',
        'OutOfDateConfigurationNeeded',
      ],
    },
    ...overrides,
  };
}

const verdicts = (report: TrustReport): Record<TrustCheckId, boolean> =>
  Object.fromEntries(report.checks.map((c) => [c.id, c.ok])) as Record<TrustCheckId, boolean>;
const detailOf = (report: TrustReport, id: TrustCheckId): string =>
  report.checks.find((c) => c.id === id)!.detail ?? '';

const verifications = new Map<SimFixture, QuoteVerification>();
beforeAll(async () => {
  for (const sim of [SIM2025, SIM2026])
    verifications.set(sim, await verifyEvidenceQuote(evidenceFor(sim), expectationsFor(sim)));
});
const verificationOf = (sim: SimFixture): QuoteVerification => verifications.get(sim)!;

describe('verifyEvidenceQuote on the real dstack simulator quotes', () => {
  it('the quotes are signed (identity read and replayed) but not valid: no TCB level / FMSPC mismatch', () => {
    const v25 = verificationOf(SIM2025);
    expect(v25.valid).toBe(false);
    expect(v25.error?.code).toBe('tcb_level_not_found');
    expect(v25.dstack).toMatchObject({ replayed: true, appId: SIM2025.appId, composeHash: SIM2025.composeHash });
    const v26 = verificationOf(SIM2026);
    expect(v26.error?.code).toBe('fmspc_mismatch');
    expect(v26.dstack).toMatchObject({ replayed: true, appId: SIM2026.appId, composeHash: SIM2026.composeHash });
  });
});

describe('checkIdentity', () => {
  for (const sim of [SIM2025, SIM2026]) {
    it(`${sim.caseId}: every identity check passes except the quote and the (unmeasured) compose`, () => {
      const report = checkIdentity(verificationOf(sim), evidenceFor(sim), expectationsFor(sim));
      expect(report.checks.map((c) => c.id)).toEqual([...TRUST_CHECK_IDS]);
      expect(verdicts(report)).toEqual({
        quote: false,
        'os-image': true,
        'rtmr3-replay': true,
        'compose-hash': false,
        'app-id': true,
        'key-provider': true,
        'env-key-signature': true,
        'allowed-envs': true,
        'report-data': true,
      });
      expect(report.trusted).toBe(false);
      expect(report.failed?.id).toBe('quote');
      expect(report.failed?.message).toMatch(/quote did not verify/);
      expect(report.envPublicKey).toBe(ENV_PUBLIC);
      expect(detailOf(report, 'os-image')).toBe(`matches ${sim === SIM2025 ? 'sim-2025' : 'sim-2026'} image`);
    });
  }

  it('names the compose hash the CVM runs and the one we deploy', () => {
    const report = checkIdentity(verificationOf(SIM2025), evidenceFor(SIM2025), expectationsFor(SIM2025));
    expect(detailOf(report, 'compose-hash')).toBe(
      'Compose hash mismatch: the CVM runs ea549f02…, we deploy a88c6d12….',
    );
  });

  it('os-image: a CVM on an image that is not allowed', () => {
    const report = checkIdentity(
      verificationOf(SIM2025),
      evidenceFor(SIM2025),
      expectationsFor(SIM2025, { allowedOsImages: [osImageOf(SIM2026.caseId, 'x')] }),
    );
    expect(verdicts(report)['os-image']).toBe(false);
    expect(detailOf(report, 'os-image')).toMatch(
      /^OS image not allowed: MRTD [0-9a-f]{8}…, RTMR0 .* match none of the 1 allowed OS image\.$/,
    );
    const empty = checkIdentity(
      verificationOf(SIM2025),
      evidenceFor(SIM2025),
      expectationsFor(SIM2025, { allowedOsImages: [] }),
    );
    expect(verdicts(empty)['os-image']).toBe(false);
  });

  it('app-id: another app', () => {
    const report = checkIdentity(
      verificationOf(SIM2025),
      evidenceFor(SIM2025),
      expectationsFor(SIM2025, { appId: SIM2026.appId }),
    );
    expect(verdicts(report)['app-id']).toBe(false);
    expect(detailOf(report, 'app-id')).toBe('App id mismatch: the CVM is app ea549f02…, we deploy app 5bb4ff9a….');
    // The KMS signed the key for the CVM's app, not for the one we expect: that fails too.
    expect(verdicts(report)['env-key-signature']).toBe(false);
  });

  it('key-provider: another KMS (same SPKI prefix, told apart by the key bytes)', () => {
    const report = checkIdentity(
      verificationOf(SIM2026),
      evidenceFor(SIM2026),
      expectationsFor(SIM2026, { trustedKms: { k256Pubkey: KMS_K256, caPubkey: OTHER_KMS_CA } }),
    );
    expect(verdicts(report)['key-provider']).toBe(false);
    expect(detailOf(report, 'key-provider')).toBe(
      `Key provider mismatch: the CVM gets its keys from KMS …${KMS_CA.slice(-12)}, we trust KMS …${OTHER_KMS_CA.slice(-12)}.`,
    );
    // Upper-case hex of the right key is the same bytes.
    const upper = checkIdentity(
      verificationOf(SIM2026),
      evidenceFor(SIM2026),
      expectationsFor(SIM2026, { trustedKms: { k256Pubkey: KMS_K256, caPubkey: KMS_CA.toUpperCase() } }),
    );
    expect(verdicts(upper)['key-provider']).toBe(true);
  });

  it('env-key-signature: missing, by another key, over another env key, stale v1, fresh v1', () => {
    const run = (evidence: Partial<CvmEvidence>, x: Partial<SealExpectations> = {}) =>
      checkIdentity(verificationOf(SIM2025), evidenceFor(SIM2025, evidence), expectationsFor(SIM2025, x));

    const unsigned = run({ envKeySignature: undefined });
    expect(verdicts(unsigned)['env-key-signature']).toBe(false);
    expect(detailOf(unsigned, 'env-key-signature')).toMatch(/^The env key is not signed by the KMS/);

    const wrongSigner = run({
      envKeySignature: { signature: kmsSign(SIM2025.appId, ENV_PUBLIC, undefined, fromHex('11'.repeat(32))) },
    });
    expect(detailOf(wrongSigner, 'env-key-signature')).toMatch(/not signed by the trusted KMS/);
    expect(verdicts(run({}, { trustedKms: { k256Pubkey: OTHER_K256, caPubkey: KMS_CA } }))['env-key-signature']).toBe(
      false,
    );

    // A key substituted after the KMS signed (unbound env key): the signature no longer recovers to the KMS.
    const swapped = run({ envPublicKey: OTHER_ENV_PUBLIC });
    expect(verdicts(swapped)['env-key-signature']).toBe(false);

    const ts = Math.floor(SIM2025.now.getTime() / 1000);
    expect(
      verdicts(
        run({ envKeySignature: { signature: kmsSign(SIM2025.appId, ENV_PUBLIC, ts - 10), timestamp: ts - 10 } }),
      )['env-key-signature'],
    ).toBe(true);
    const stale = run({
      envKeySignature: { signature: kmsSign(SIM2025.appId, ENV_PUBLIC, ts - 301), timestamp: ts - 301 },
    });
    expect(verdicts(stale)['env-key-signature']).toBe(false);
    expect(detailOf(stale, 'env-key-signature')).toMatch(/more than 300 s old/);

    const badKey = run({ envPublicKey: `0x${ENV_PUBLIC.slice(2)}` });
    expect(verdicts(badKey)['env-key-signature']).toBe(false);
    expect(badKey.envPublicKey).toBeUndefined();
  });

  it('allowed-envs: a key the compose does not allow, and a name dstack would refuse', () => {
    const withKeys = {
      envKeys: ['API_KEY', 'SECRET_X'],
      allowedEnvs: ['API_KEY'],
      appCompose: JSON.stringify({ allowed_envs: ['API_KEY'] }),
    };
    const report = checkIdentity(verificationOf(SIM2025), evidenceFor(SIM2025), expectationsFor(SIM2025, withKeys));
    expect(verdicts(report)['allowed-envs']).toBe(false);
    expect(detailOf(report, 'allowed-envs')).toBe(
      'Env keys not in the app’s allowed_envs: SECRET_X (the CVM would drop them).',
    );
    // The fixture's compose allows no env at all, although our own list would.
    const none = checkIdentity(
      verificationOf(SIM2025),
      evidenceFor(SIM2025),
      expectationsFor(SIM2025, { envKeys: ['API_KEY'], allowedEnvs: ['API_KEY'] }),
    );
    expect(detailOf(none, 'allowed-envs')).toBe(
      'Env keys not in the app’s allowed_envs: API_KEY (the CVM would drop them).',
    );
    const badName = checkIdentity(
      verificationOf(SIM2025),
      evidenceFor(SIM2025),
      expectationsFor(SIM2025, { envKeys: ['1BAD'], allowedEnvs: ['1BAD'] }),
    );
    expect(verdicts(badName)['allowed-envs']).toBe(false);
    // The compose we deploy states its own allow-list (attested through the compose hash): it must agree.
    const ours = { envKeys: ['API_KEY'], allowedEnvs: ['API_KEY', 'OTHER'] };
    const stated = checkIdentity(
      verificationOf(SIM2025),
      evidenceFor(SIM2025),
      expectationsFor(SIM2025, { ...ours, appCompose: JSON.stringify({ allowed_envs: ['OTHER'] }) }),
    );
    expect(verdicts(stated)['allowed-envs']).toBe(false);
    const agrees = checkIdentity(
      verificationOf(SIM2025),
      evidenceFor(SIM2025),
      expectationsFor(SIM2025, { ...ours, appCompose: JSON.stringify({ allowed_envs: ['API_KEY'] }) }),
    );
    expect(verdicts(agrees)['allowed-envs']).toBe(true);
  });

  it('report-data: the quote does not answer our challenge', async () => {
    const reportData = toHex(clawkeepReportData(new Uint8Array(32).fill(7), fromHex(ENV_PUBLIC)));
    const x = expectationsFor(SIM2025, { reportData });
    // Run the verifier again with this challenge, as the gate does.
    const report = checkIdentity(await verifyEvidenceQuote(evidenceFor(SIM2025), x), evidenceFor(SIM2025), x);
    expect(verdicts(report)['report-data']).toBe(false);
    expect(detailOf(report, 'report-data')).toBe(
      `Report data mismatch: the quote answers 00000000…, we asked for ${reportData.slice(0, 8)}… (an old or foreign quote).`,
    );
    const malformed = checkIdentity(
      verificationOf(SIM2025),
      evidenceFor(SIM2025),
      expectationsFor(SIM2025, { reportData: 'zz' }),
    );
    expect(verdicts(malformed)['report-data']).toBe(false);
  });

  it('report-data without a challenge (provider-served quote): refused unless overridden; the override still ties it to the instance id', () => {
    const v = verificationOf(SIM2025);
    const measured = v.dstack!.instanceId!;
    expect(measured).toMatch(/^[0-9a-f]{40}$/);
    const { reportData: _dropped, ...withoutChallenge } = expectationsFor(SIM2025);
    // Fail closed: even tied to the instance id the provider reports (its own word), a served quote is refused.
    const refused = checkIdentity(v, evidenceFor(SIM2025), { ...withoutChallenge, instanceId: measured.toUpperCase() });
    expect(verdicts(refused)['report-data']).toBe(false);
    expect(detailOf(refused, 'report-data')).toBe(UNBOUND_QUOTE_REFUSED);
    expect(refused.challengeBound).toBe(false);
    expect(refused.overridden).toBeUndefined();
    expect(verdicts(checkIdentity(v, evidenceFor(SIM2025), withoutChallenge))['report-data']).toBe(false);
    // The person's explicit override: passes, says so, carries the warning to record.
    const bound = checkIdentity(v, evidenceFor(SIM2025), {
      ...withoutChallenge,
      instanceId: measured.toUpperCase(),
      acceptUnboundQuote: true,
    });
    expect(verdicts(bound)['report-data']).toBe(true);
    expect(detailOf(bound, 'report-data')).toBe(`OVERRIDDEN by you: ${NOT_CHALLENGE_BOUND}; instance ${measured}`);
    expect(bound.overridden).toEqual({ warning: UNBOUND_QUOTE_WARNING });
    // Without an instance id from the API there is nothing to tie it to; the override alone lets it pass.
    const unbound = checkIdentity(v, evidenceFor(SIM2025), { ...withoutChallenge, acceptUnboundQuote: true });
    expect(verdicts(unbound)['report-data']).toBe(true);
    expect(detailOf(unbound, 'report-data')).toBe(`OVERRIDDEN by you: ${NOT_CHALLENGE_BOUND}`);
    // Another CVM's quote: the instance id differs — refused even with the override.
    const other = 'ab'.repeat(20);
    const foreign = checkIdentity(v, evidenceFor(SIM2025), {
      ...withoutChallenge,
      instanceId: other,
      acceptUnboundQuote: true,
    });
    expect(verdicts(foreign)['report-data']).toBe(false);
    expect(detailOf(foreign, 'report-data')).toMatch(
      /^Instance id mismatch: the quote is from instance [0-9a-f]{8}…, the provider reports instance abababab…/,
    );
    expect(
      verdicts(checkIdentity(v, evidenceFor(SIM2025), { ...withoutChallenge, instanceId: 'zz' }))['report-data'],
    ).toBe(false);
    // With a challenge the quote must answer it; a challenge report says so.
    expect(checkIdentity(v, evidenceFor(SIM2025), expectationsFor(SIM2025)).challengeBound).toBe(true);
  });

  it('rtmr3-replay: an event log that does not replay proves nothing (identity checks fail as not measured)', async () => {
    const events = JSON.parse(SIM2025.eventLog) as Array<{ event: string; event_payload: string }>;
    const composeEvent = events.find((e) => e.event === 'compose-hash')!;
    composeEvent.event_payload = '00'.repeat(32);
    const evidence = evidenceFor(SIM2025, { eventLog: JSON.stringify(events) });
    const x = expectationsFor(SIM2025);
    const report = checkIdentity(await verifyEvidenceQuote(evidence, x), evidence, x);
    expect(verdicts(report)).toMatchObject({
      'rtmr3-replay': false,
      'compose-hash': false,
      'app-id': false,
      'key-provider': false,
    });
    expect(detailOf(report, 'rtmr3-replay')).toMatch(/^RTMR3 replay failed: /);
    expect(detailOf(report, 'compose-hash')).toMatch(/^Compose hash not measured/);
  });

  it('a quote whose signature does not verify yields no identity at all', async () => {
    const forged = SIM2025.quote.slice();
    forged[48 + 520] = forged[48 + 520]! ^ 1; // one REPORTDATA bit: the signed region changed
    const evidence = evidenceFor(SIM2025, { quote: forged });
    const x = expectationsFor(SIM2025);
    const v = await verifyEvidenceQuote(evidence, x);
    expect(v.error?.code).toBe('quote_signature_invalid');
    const report = checkIdentity(v, evidence, x);
    expect(verdicts(report)).toMatchObject({
      quote: false,
      'rtmr3-replay': false,
      'compose-hash': false,
      'app-id': false,
      'key-provider': false,
    });
    expect(report.failed?.message).toMatch(/quote signature does not verify/);
  });
});

describe('checkComposeHash', () => {
  it('compares SHA-256 of the exact compose text with the measured hash (as bytes)', () => {
    expect(
      checkComposeHash(
        'a88c6d12ab4d525ce49aadf63c9f5bc16b03ddabef426c8de773376504b00d1c'.toUpperCase(),
        NOT_MEASURED_COMPOSE,
      ).ok,
    ).toBe(true);
    // One changed byte (a trailing newline) is another compose.
    expect(
      checkComposeHash('a88c6d12ab4d525ce49aadf63c9f5bc16b03ddabef426c8de773376504b00d1c', `${NOT_MEASURED_COMPOSE}\n`)
        .ok,
    ).toBe(false);
    expect(checkComposeHash(null, NOT_MEASURED_COMPOSE).detail).toMatch(/^Compose hash not measured/);
  });
});

describe('checkCvmTrust', () => {
  it('runs the whole gate on the real evidence and refuses, naming the quote', async () => {
    const report = await checkCvmTrust(evidenceFor(SIM2026), expectationsFor(SIM2026));
    expect(report.trusted).toBe(false);
    expect(report.failed).toEqual({ id: 'quote', message: expect.stringMatching(/FMSPC/) });
    expect(report.verification.error?.code).toBe('fmspc_mismatch');
  });

  it('never rejects, even for garbage evidence', async () => {
    const report = await checkCvmTrust(
      evidenceFor(SIM2025, { quote: new Uint8Array(10), eventLog: 'not json' }),
      expectationsFor(SIM2025),
    );
    expect(report.trusted).toBe(false);
    expect(report.failed?.id).toBe('quote');
  });
});

describe('sealEnvForCvm', () => {
  const env = [{ key: 'API_KEY', value: 'sk-live-do-not-leak' }];

  it('refuses a report that is not trusted, with the failed check’s message', async () => {
    const report = checkIdentity(verificationOf(SIM2025), evidenceFor(SIM2025), expectationsFor(SIM2025));
    await expect(sealEnvForCvm(report, ENV_PUBLIC, env)).rejects.toMatchObject({
      code: 'untrusted_cvm',
      message: expect.stringMatching(/^Refusing to seal: The CVM’s quote did not verify/),
    });
  });

  /**
   * The rules sealEnvForCvm adds on top of `trusted` (key binding, checked names, every check present), tested on
   * a report edited by hand into the shape a passing gate returns. This is input to the function under test,
   * not a stand-in for the gate: the gate's verdict on real evidence is tested above and in the simulator tests.
   */
  const passingShape = (): TrustReport => {
    const x = expectationsFor(SIM2025, { envKeys: ['API_KEY'], allowedEnvs: ['API_KEY'] });
    const report = checkIdentity(verificationOf(SIM2025), evidenceFor(SIM2025), x);
    return {
      ...report,
      trusted: true,
      failed: null,
      checks: report.checks.map((c) => ({ ...c, ok: true })),
      verification: { ...report.verification, verified: true },
    };
  };

  it('seals to exactly the key the report vouches for, and only the names it checked', async () => {
    const sealed = await sealEnvForCvm(passingShape(), ENV_PUBLIC.toUpperCase(), env);
    expect(await decryptEnv(sealed, fromHex(ENV_PRIVATE))).toEqual(env);
    await expect(sealEnvForCvm(passingShape(), OTHER_ENV_PUBLIC, env)).rejects.toMatchObject({
      code: 'untrusted_cvm',
      message: expect.stringMatching(/not the env encryption key/),
    });
    const extra = [...env, { key: 'OTHER', value: 'x' }];
    await expect(sealEnvForCvm(passingShape(), ENV_PUBLIC, extra)).rejects.toMatchObject({
      code: 'untrusted_cvm',
      message: expect.stringMatching(/OTHER/),
    });
  });

  it('refuses `trusted: true` when a check is missing or failed, or the verifier did not verify', async () => {
    const noCheck = passingShape();
    noCheck.checks = noCheck.checks.filter((c) => c.id !== 'env-key-signature');
    await expect(sealEnvForCvm(noCheck, ENV_PUBLIC, env)).rejects.toMatchObject({ code: 'untrusted_cvm' });
    const failedCheck = passingShape();
    failedCheck.checks[3] = { ...failedCheck.checks[3]!, ok: false };
    await expect(sealEnvForCvm(failedCheck, ENV_PUBLIC, env)).rejects.toMatchObject({ code: 'untrusted_cvm' });
    const unverified = passingShape();
    unverified.verification = { ...unverified.verification, verified: false };
    await expect(sealEnvForCvm(unverified, ENV_PUBLIC, env)).rejects.toMatchObject({ code: 'untrusted_cvm' });
    const noKey = passingShape();
    delete noKey.envPublicKey;
    await expect(sealEnvForCvm(noKey, ENV_PUBLIC, env)).rejects.toMatchObject({ code: 'untrusted_cvm' });
  });

  it('never puts a value in an error message', async () => {
    const report = checkIdentity(verificationOf(SIM2025), evidenceFor(SIM2025), expectationsFor(SIM2025));
    const err = await sealEnvForCvm(report, ENV_PUBLIC, env).then(
      () => null,
      (e: SealError) => e,
    );
    expect(err?.message).not.toContain('sk-live');
    const err2 = await sealEnvForCvm(passingShape(), ENV_PUBLIC, [{ key: 'API_KEY', value: 'sk-live\0x' }]).then(
      () => null,
      (e: SealError) => e,
    );
    expect(err2?.code).toBe('env_invalid');
    expect(err2?.message).not.toContain('sk-live');
  });
});

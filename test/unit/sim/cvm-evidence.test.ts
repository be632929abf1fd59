// @vitest-environment node
/**
 * The CVM simulator's evidence generators, checked by the product's own verifier (lib/attest) and against the
 * upstream-derived vectors: its quotes verify only under its test root, its event log replays, its KMS derives
 * and signs env keys like dstack's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../../../lib/bytes';
import { collateralNeeds } from '../../../lib/attest/collateral-needs';
import { computeComposeHash } from '../../../lib/attest/dstack/index';
import { verifyQuote } from '../../../lib/attest/verify';
import { verifyEnvKeySignature } from '../../../lib/seal/kms-signature';
import { buildCollateral, freshWindow, staleWindow } from '../../../sim/cvm/collateral';
import {
  buildEventLog,
  mrConfigIdFor,
  replayImr,
  runtimeDigestV1,
  type CvmBootIdentity,
} from '../../../sim/cvm/event-log';
import { TestKms } from '../../../sim/cvm/kms';
import { simulatedOsImage } from '../../../sim/cvm/os-image';
import { randomFmspc } from '../../../sim/cvm/platform';
import { buildTdxQuote, createQuotingEnclave, type QuotingEnclave } from '../../../sim/cvm/quote';
import { generateTestPki, type TestPki } from '../../../sim/cvm/test-pki';
import type { Collateral } from '../../../lib/attest/types';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const FMSPC = randomFmspc();
const fixture = (name: string) => JSON.parse(readFileSync(path.resolve('test/fixtures/sealing', name), 'utf8'));

let pki: TestPki;
let qe: QuotingEnclave;
let collateral: Collateral;
const image = simulatedOsImage();
const kms = new TestKms();
const appCompose = '{"manifest_version":2,"name":"demo","docker_compose_file":"services: {}"}';
const identity: CvmBootIdentity = {
  appId: computeComposeHash(utf8Encode(appCompose)).slice(0, 40),
  composeHash: computeComposeHash(utf8Encode(appCompose)),
  instanceId: 'ab'.repeat(20),
  osImageHash: image.osImageHash,
  kmsCaPubkey: kms.caPubkey,
};

beforeAll(async () => {
  pki = await generateTestPki(NOW, [FMSPC]);
  qe = await createQuotingEnclave(pki.platforms[0]!);
  collateral = await buildCollateral(pki, freshWindow(NOW), FMSPC);
});

async function quoteFor(reportData: string, tdAttributes?: string) {
  const log = buildEventLog(image, identity);
  const quote = await buildTdxQuote(qe, {
    mrTd: image.measurement.mrtd,
    rtmrs: log.rtmrs,
    mrConfigId: mrConfigIdFor(identity),
    reportData,
    ...(tdAttributes ? { tdAttributes } : {}),
  });
  return { quote, eventLog: JSON.stringify(log.events) };
}

describe('CVM simulator quotes', () => {
  it('verify with the simulator test root: UpToDate, dstack identity replayed, REPORTDATA echoed', async () => {
    const reportData = toHex(crypto.getRandomValues(new Uint8Array(64)));
    const { quote, eventLog } = await quoteFor(reportData);
    const result = await verifyQuote(quote, collateral, {
      now: NOW,
      testTrustAnchor: { rootCertDer: pki.root.der },
      dstack: {
        eventLog,
        policy: {
          allowedOsImages: [{ ...image.measurement }],
          composeHash: identity.composeHash,
          appId: identity.appId,
          osImageHash: image.osImageHash,
          keyProviderId: kms.caPubkey,
          reportData,
        },
      },
    });
    expect(result.error).toBeNull();
    expect(result.verified).toBe(true);
    expect(result.status).toBe('UpToDate');
    expect(result.testTrustAnchor).toBe(true);
    expect(result.version).toBe(4);
    expect(result.bodyType).toBe('td10');
    expect(result.debug).toBe(false);
    expect(result.reportData).toBe(reportData);
    expect(result.mrtd).toBe(image.measurement.mrtd);
    expect(result.dstack).toMatchObject({
      replayed: true,
      composeHash: identity.composeHash,
      appId: identity.appId,
      instanceId: identity.instanceId,
      osImageHash: image.osImageHash,
      keyProvider: { name: 'kms', id: kms.caPubkey },
      mrConfigIdForm: 'keccak-binding',
    });
    expect(result.dstack!.bootEvents).toEqual([
      'system-preparing',
      'app-id',
      'compose-hash',
      'instance-id',
      'boot-mr-done',
      'os-image-hash',
      'key-provider',
      'storage-fs',
      'system-ready',
    ]);
  });

  it("are rejected under Intel's pinned root (what production trusts)", async () => {
    const { quote } = await quoteFor('00'.repeat(64));
    const result = await verifyQuote(quote, collateral, { now: NOW });
    expect(result.verified).toBe(false);
    expect(result.valid).toBe(false);
    expect(result.testTrustAnchor).toBe(false);
    // Its chain ends at the simulator's own test root: refused before any collateral is looked at.
    expect(result.error?.code).toBe('untrusted_root');
    expect(result.error?.message).toContain("not at Intel's SGX Root CA");
    expect(result.checks.find((c) => c.id === 'quote-signature')).toBeUndefined();
  });

  it('name the test PKI, the Platform CA and the simulated FMSPC for collateral fetching', async () => {
    const { quote } = await quoteFor('00'.repeat(64));
    expect(collateralNeeds(quote)).toEqual({ teeType: 'TDX', fmspc: FMSPC, pckCa: 'platform' });
  });

  it('with the debug bit verify as signed but fail the attributes check', async () => {
    const { quote } = await quoteFor('00'.repeat(64), '0100001000000000');
    const result = await verifyQuote(quote, collateral, { now: NOW, testTrustAnchor: { rootCertDer: pki.root.der } });
    expect(result.error?.code).toBe('td_debug');
    expect(result.checks.find((c) => c.id === 'quote-signature')?.ok).toBe(true);
    expect(result.checks.find((c) => c.id === 'attributes')?.ok).toBe(false);
  });

  it('with stale collateral fail on freshness, not on a signature', async () => {
    const stale = await buildCollateral(pki, staleWindow(NOW), FMSPC);
    const { quote } = await quoteFor('00'.repeat(64));
    const result = await verifyQuote(quote, stale, { now: NOW, testTrustAnchor: { rootCertDer: pki.root.der } });
    expect(result.verified).toBe(false);
    expect(result.error?.code).toBe('crl_expired');
    expect(result.error?.message).toContain('root CA CRL expired');
  });

  it('each carry a fresh QE auth binding and signature (two quotes differ, both verify)', async () => {
    const a = await quoteFor('11'.repeat(64));
    const b = await quoteFor('11'.repeat(64));
    expect(toHex(a.quote)).not.toBe(toHex(b.quote));
    for (const q of [a, b]) {
      expect(
        (await verifyQuote(q.quote, collateral, { now: NOW, testTrustAnchor: { rootCertDer: pki.root.der } })).verified,
      ).toBe(true);
    }
  });
});

describe('CVM simulator event log', () => {
  it('computes V1 runtime digests exactly like the real dstack vector (rtmr3-replay.json)', () => {
    const vector = fixture('rtmr3-replay.json') as {
      events: Array<{ event: string; event_payload: string; digest_sha384: string }>;
      expected_rtmr3: string;
    };
    for (const e of vector.events)
      expect(toHex(runtimeDigestV1(e.event, fromHex(e.event_payload)))).toBe(e.digest_sha384);
    const events = vector.events.map((e) => ({
      imr: 3,
      event_type: 0x08000001,
      event: e.event,
      event_payload: e.event_payload,
      digest: e.digest_sha384,
    }));
    expect(replayImr(events, 3)).toBe(vector.expected_rtmr3);
  });

  it('publishes an OS image measurement its boot events replay to', () => {
    const log = buildEventLog(image, identity);
    expect(log.rtmrs.slice(0, 3)).toEqual([image.measurement.rtmr0, image.measurement.rtmr1, image.measurement.rtmr2]);
    expect(simulatedOsImage().measurement).toEqual(image.measurement); // stable across starts
  });
});

describe('CVM simulator KMS', () => {
  it('derives env keys like dstack: a KMS with the kdf.json root key gives the vector app its env key', () => {
    const vector = (fixture('kdf.json').vectors as Array<Record<string, string>>).find(
      (v) => v.name === 'env-encrypt-key-for-app',
    )!;
    const official = (fixture('kdf.json').vectors as Array<Record<string, string>>).find(
      (v) => v.name === 'official-derive-dh-secret',
    )!;
    const pinned = new TestKms(fromHex(official.root_scalar!));
    expect(toHex(pinned.envKeyPair(vector.app_id!).publicKey)).toBe(vector.env_x25519_public);
    expect(toHex(pinned.envKeyPair(vector.app_id!).privateKey)).toBe(vector.env_x25519_private);
    // Its ca_pubkey is the SPKI of that root key (the vector's PKCS#8 embeds the same public point).
    expect(official.root_key_pkcs8_der!.endsWith(pinned.caPubkey.slice(-130))).toBe(true);
  });

  it('signs env keys so that lib/seal verifies them against k256_pubkey (legacy and v1)', () => {
    const appId = identity.appId;
    const key = kms.envKeyPair(appId).publicKey;
    const ts = Math.floor(NOW / 1000);
    const signed = kms.signEnvKey(appId, key, ts);
    const base = { appId, publicKey: toHex(key), trustedK256Pubkey: kms.k256Pubkey, now: NOW };
    expect(() => verifyEnvKeySignature({ ...base, signature: signed.signature })).not.toThrow();
    expect(() =>
      verifyEnvKeySignature({ ...base, signature: signed.signature_v1, timestamp: signed.timestamp }),
    ).not.toThrow();
    expect(kms.caPubkey).toMatch(/^3059301306072a8648ce3d020106082a8648ce3d03010703420004[0-9a-f]{128}$/);
    expect(kms.k256Pubkey).toMatch(/^0[23][0-9a-f]{64}$/);
  });

  it("a rogue signature over a rogue key is not the KMS's", () => {
    const appId = identity.appId;
    const rogue = kms.rogueEnvKeyPair(appId).publicKey;
    expect(toHex(rogue)).not.toBe(toHex(kms.envKeyPair(appId).publicKey));
    const signed = kms.signEnvKey(appId, rogue, Math.floor(NOW / 1000), 'rogue');
    expect(() =>
      verifyEnvKeySignature({
        appId,
        publicKey: toHex(rogue),
        signature: signed.signature,
        trustedK256Pubkey: kms.k256Pubkey,
      }),
    ).toThrow(/not signed by the trusted KMS/);
    expect(() =>
      verifyEnvKeySignature({
        appId,
        publicKey: toHex(rogue),
        signature: signed.signature,
        trustedK256Pubkey: kms.rogueK256Pubkey,
      }),
    ).not.toThrow();
  });
});

// @vitest-environment node
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../lib/bytes';
import {
  clawkeepReportData,
  dstackTaggedReportData,
  evaluateDstack,
  randomNonce,
  CLAWKEEP_REPORT_DATA_TAG,
} from '../../../lib/attest/dstack';

const sha512 = (...parts: (Uint8Array | string)[]): string => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const u32be = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

describe('dstack tag hashing', () => {
  it('is SHA-512(tag ‖ ":" ‖ content), 64 bytes', () => {
    const content = new TextEncoder().encode('hello');
    for (const tag of ['app-data', 'ratls-cert', 'kms-root-ca', 'my-prefix']) {
      const out = dstackTaggedReportData(tag, content);
      expect(out).toHaveLength(64);
      expect(toHex(out)).toBe(sha512(`${tag}:`, content));
    }
    expect(toHex(dstackTaggedReportData('app-data', new Uint8Array()))).toBe(sha512('app-data:'));
  });
});

describe('clawkeepReportData', () => {
  it('hashes the documented bytes', () => {
    const nonce = Uint8Array.from({ length: 32 }, (_, i) => i);
    const key = Uint8Array.from({ length: 65 }, (_, i) => 255 - i);
    const expected = sha512(Buffer.from('clawkeep-attest-v1:', 'ascii'), u32be(32), nonce, u32be(65), key);
    expect(toHex(clawkeepReportData(nonce, key))).toBe(expected);
    expect(CLAWKEEP_REPORT_DATA_TAG).toBe('clawkeep-attest-v1');
    // The same value through dstack's tag hashing, which a CVM can use.
    expect(
      toHex(dstackTaggedReportData(CLAWKEEP_REPORT_DATA_TAG, Buffer.concat([u32be(32), nonce, u32be(65), key]))),
    ).toBe(expected);
  });

  it('changes with every input bit and cannot shift bytes between nonce and key', () => {
    const nonce = bytes(17, 7);
    const key = bytes(32, 9);
    const base = toHex(clawkeepReportData(nonce, key));
    const n2 = nonce.slice();
    n2[16]! ^= 1;
    const k2 = key.slice();
    k2[0]! ^= 0x80;
    expect(toHex(clawkeepReportData(n2, key))).not.toBe(base);
    expect(toHex(clawkeepReportData(nonce, k2))).not.toBe(base);
    // Moving the boundary: same concatenation, different split.
    const joined = new Uint8Array([...nonce, ...key]);
    expect(toHex(clawkeepReportData(joined.subarray(0, 16), joined.subarray(16)))).not.toBe(base);
  });

  it('refuses a nonce too short to make a quote fresh, and an empty key', () => {
    expect(() => clawkeepReportData(bytes(15, 1), bytes(32, 1))).toThrow(RangeError);
    expect(() => clawkeepReportData(bytes(16, 1), new Uint8Array())).toThrow(RangeError);
    expect(() => clawkeepReportData(bytes(0x10000, 1), bytes(32, 1))).toThrow(RangeError);
    expect(clawkeepReportData(bytes(16, 1), bytes(1, 1))).toHaveLength(64);
  });

  it('randomNonce gives 32 fresh bytes', () => {
    const a = randomNonce();
    const b = randomNonce();
    expect(a).toHaveLength(32);
    expect(toHex(a)).not.toBe(toHex(b));
  });

  it('is what the reportData policy compares against', async () => {
    const nonce = randomNonce();
    const key = bytes(32, 0x42);
    const reportData = toHex(clawkeepReportData(nonce, key));
    const td = {
      teeTcbSvn: '',
      mrSeam: '',
      mrSignerSeam: '',
      seamAttributes: '',
      tdAttributes: '',
      xfam: '',
      mrTd: '00'.repeat(48),
      mrConfigId: '00'.repeat(48),
      mrOwner: '',
      mrOwnerConfig: '',
      rtmrs: ['00'.repeat(48), '00'.repeat(48), '00'.repeat(48), '00'.repeat(48)] as [string, string, string, string],
      reportData,
    };
    // An empty log replays to all-zero RTMRs; this TD only stands in for the REPORTDATA comparison.
    const ok = await evaluateDstack(td, {
      eventLog: '[]',
      policy: { reportData: toHex(clawkeepReportData(nonce, key)) },
    });
    expect(ok.identity.policyChecks.find((c) => c.id === 'dstack.policy.report-data')?.ok).toBe(true);
    const other = await evaluateDstack(td, {
      eventLog: '[]',
      policy: { reportData: toHex(clawkeepReportData(randomNonce(), key)) },
    });
    expect(other.identity.policyChecks.find((c) => c.id === 'dstack.policy.report-data')?.ok).toBe(false);
  });
});

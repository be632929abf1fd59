// @vitest-environment node
// `clawkeep verify-quote` end to end: the real command in a child process on the real fixtures.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PccsSimulator } from '../../../sim/pccs/pccs-simulator';
import { loadCollateralFixtures } from '../../sim/collateral-fixtures';
import { ROOT, runClawkeep as clawkeep } from './run-clawkeep';

const FIXTURES = path.resolve(ROOT, 'test/fixtures/tdx');
const fixture = (rel: string) => path.resolve(FIXTURES, rel);

interface TdReport {
  mr_td: string;
  rtmr0: string;
  rtmr1: string;
  rtmr2: string;
  rtmr3: string;
  report_data: string;
}
interface ExpectedCase {
  id: string;
  quote: string;
  quote_encoding: 'binary' | 'hex-text';
  collateral: string;
  now_iso: string;
  expected: { accept: boolean; status?: string; advisory_ids?: string[]; reason?: string };
  quote_summary: {
    header: { version: number; tee_type: string };
    td_report?: TdReport;
    sgx_report?: { report_data: string };
    pck: { fmspc: string };
  };
}
const CASES = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as ExpectedCase[];
const caseById = (id: string) => CASES.find((c) => c.id === id)!;

/** What the README says each rejection is about, as the verifier's error codes (a set where several fit). */
const REJECTION_CODES: Record<string, string[]> = {
  'tdx-v5-td15-no-tcb-level': ['tcb_level_not_found'],
  'tdx-v4-tappd-no-tcb-level': ['tcb_level_not_found'],
  'dstack-sim-2025-no-tcb-level': ['tcb_level_not_found'],
  'dstack-sim-2026-pck-not-yet-valid': ['certificate_not_yet_valid'],
  'dstack-sim-2026-fmspc-mismatch': ['fmspc_mismatch'],
  // SGX-typed TCB info / QE identity and a Processor-CA CRL for a Platform-CA leaf: whichever check runs first.
  'tdx-v4-wrong-collateral-sgx-typed': ['collateral_mismatch', 'crl_invalid', 'chain_invalid'],
};

/** Failures that stop verification before the PCK leaf (and so the FMSPC) is trusted. */

interface JsonResult {
  verified: boolean;
  status: string | null;
  advisoryIds: string[];
  teeType: string | null;
  version: number | null;
  fmspc: string | null;
  mrtd: string | null;
  rtmrs: string[] | null;
  reportData: string | null;
  error: { code: string; message: string } | null;
}

async function verifyJson(c: ExpectedCase, extra: string[] = []) {
  const res = await clawkeep([
    'verify-quote',
    fixture(c.quote),
    '--collateral',
    fixture(c.collateral),
    '--now',
    c.now_iso,
    '--json',
    ...extra,
  ]);
  let json: JsonResult | undefined;
  try {
    json = JSON.parse(res.stdout) as JsonResult;
  } catch {
    throw new Error(`stdout is not one JSON object (exit ${res.code}): ${res.stdout}\n${res.stderr}`);
  }
  return { ...res, json };
}

const tmp = mkdtempSync(path.join(tmpdir(), 'clawkeep-verify-quote-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Each case spawns the CLI (a cold Node start with the verifier): seconds on a loaded 2-core machine, so these
// suites get the policy suite's 30 s like it; what they check does not depend on time.
describe('clawkeep verify-quote: every case of expected.json', { timeout: 30_000 }, () => {
  for (const c of CASES) {
    it(`${c.id} (${c.quote_encoding} quote)`, async () => {
      const { code, json } = await verifyJson(c);
      const s = c.quote_summary;

      // Fields of the quote are reported whatever the verdict.
      expect(json.version).toBe(s.header.version);
      expect(json.teeType).toBe(s.header.tee_type === '0x81' ? 'TDX' : 'SGX');
      // The FMSPC the quote's PCK leaf states is reported even when its chain fails later.
      expect(json.fmspc).toBe(s.pck.fmspc);
      if (s.td_report) {
        const td = s.td_report;
        expect(json.mrtd).toBe(td.mr_td);
        expect(json.rtmrs).toEqual([td.rtmr0, td.rtmr1, td.rtmr2, td.rtmr3]);
        expect(json.reportData).toBe(td.report_data);
      } else {
        expect(json.mrtd).toBeNull();
        expect(json.reportData).toBe(s.sgx_report!.report_data);
      }
      expect(json.reportData).toMatch(/^[0-9a-f]{128}$/);

      if (c.expected.accept) {
        // The TCB evaluation matches; acceptance is the default policy (only UpToDate).
        expect(json.status).toBe(c.expected.status);
        expect(json.advisoryIds).toEqual(c.expected.advisory_ids);
        const accepted = c.expected.status === 'UpToDate';
        expect(json.verified).toBe(accepted);
        expect(code).toBe(accepted ? 0 : 1);
        if (accepted) expect(json.error).toBeNull();
        else expect(json.error?.code).toBe('policy_rejected');
      } else {
        expect(json.verified).toBe(false);
        expect(code).toBe(1);
        expect(REJECTION_CODES[c.id]).toContain(json.error?.code);
        expect(json.error?.message).toBeTruthy();
      }
    });
  }
});

// Each test starts the CLI once or twice (tsx compiles it first): seconds each on a busy machine.
describe('clawkeep verify-quote: policy', { timeout: 30_000 }, () => {
  const sgx = caseById('sgx-v3-config-swhardening');

  it('--allow ConfigurationAndSWHardeningNeeded accepts the SGX quote the default policy rejects', async () => {
    const strict = await verifyJson(sgx);
    expect(strict.code).toBe(1);
    expect(strict.json.verified).toBe(false);

    const widened = await verifyJson(sgx, ['--allow', 'SWHardeningNeeded,ConfigurationAndSWHardeningNeeded']);
    expect(widened.code).toBe(0);
    expect(widened.json.verified).toBe(true);
    expect(widened.json.status).toBe('ConfigurationAndSWHardeningNeeded');
    expect(widened.json.advisoryIds).toEqual(['INTEL-SA-00289', 'INTEL-SA-00615']);
    expect(widened.json.error).toBeNull();
  });

  it('--allow of another status does not accept it', async () => {
    const res = await verifyJson(sgx, ['--allow', 'SWHardeningNeeded']);
    expect(res.code).toBe(1);
    expect(res.json.error?.code).toBe('policy_rejected');
  });

  it('--allow never turns a failed check into a pass', async () => {
    const res = await verifyJson(caseById('dstack-sim-2026-pck-not-yet-valid'), [
      '--allow',
      'OutOfDate,ConfigurationAndSWHardeningNeeded',
    ]);
    expect(res.code).toBe(1);
    expect(res.json.error?.code).toBe('certificate_not_yet_valid');
  });
});

describe('clawkeep verify-quote: input', { timeout: 30_000 }, () => {
  const up = caseById('tdx-v4-uptodate');

  it('prints a certificate-style summary without --json', async () => {
    const res = await clawkeep([
      'verify-quote',
      fixture(up.quote),
      '--collateral',
      fixture(up.collateral),
      '--now',
      up.now_iso,
    ]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Intel TDX quote: VERIFIED$/m);
    expect(res.stdout).toMatch(/TCB status\s+UpToDate/);
    expect(res.stdout).toContain(up.quote_summary.td_report!.mr_td);
    expect(res.stdout).toContain('B0C06F000000');
    expect(res.stdout).toContain('2025-07-01T00:00:00.000Z');
  });

  it('the summary of a rejected quote names the reason', async () => {
    const c = caseById('dstack-sim-2026-fmspc-mismatch');
    const res = await clawkeep([
      'verify-quote',
      fixture(c.quote),
      '--collateral',
      fixture(c.collateral),
      '--now',
      c.now_iso,
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^Intel TDX quote: NOT VERIFIED$/m);
    expect(res.stdout).toMatch(/Reason\s+.*\[fmspc_mismatch\]/);
  });

  it('a hex-text copy of a binary quote verifies the same', async () => {
    const file = path.join(tmp, 'quote.hex');
    writeFileSync(file, `${readFileSync(fixture(up.quote)).toString('hex')}\n`);
    const res = await verifyJson({ ...up, quote: file });
    expect(res.code).toBe(0);
    expect(res.json.mrtd).toBe(up.quote_summary.td_report!.mr_td);
  });

  it('a quote with one flipped byte in its body is not verified (exit 1, JSON error)', async () => {
    const bytes = readFileSync(fixture(up.quote));
    bytes[200]! ^= 0x01;
    const file = path.join(tmp, 'flipped.bin');
    writeFileSync(file, bytes);
    const res = await verifyJson({ ...up, quote: file });
    expect(res.code).toBe(1);
    expect(res.json.verified).toBe(false);
    expect(res.json.error?.code).toBe('quote_signature_invalid');
  });

  it('a file that is not a quote is a failed verification, not a crash', async () => {
    const file = path.join(tmp, 'not-a-quote.txt');
    writeFileSync(file, 'hello, this is not a quote\n');
    const res = await verifyJson({ ...up, quote: file });
    expect(res.code).toBe(1);
    expect(res.json.verified).toBe(false);
    expect(res.json.error?.code).toBe('quote_malformed');
    expect(res.json.mrtd).toBeNull();
  });

  it('collateral that is not collateral JSON is a failed verification', async () => {
    const file = path.join(tmp, 'bad-collateral.json');
    writeFileSync(file, '{"tcb_info": 1}');
    const res = await clawkeep([
      'verify-quote',
      fixture(up.quote),
      '--collateral',
      file,
      '--now',
      up.now_iso,
      '--json',
    ]);
    expect(res.code).toBe(1);
    expect((JSON.parse(res.stdout) as JsonResult).error?.code).toBe('collateral_malformed');
  });
});

describe('clawkeep verify-quote --event-log', { timeout: 30_000 }, () => {
  const c = caseById('dstack-sim-2025-no-tcb-level');
  // README "dstack event-log fixtures": values verified independently of our code.
  const COMPOSE_HASH = 'ea549f02e1a25fabd1cb788380e033ec5461b2ffe4328d753642cf035452e48b';
  const INSTANCE_ID = '59df8036b824b0aac54f8998b9e1fb2a0cfc5d3a';

  it('replays the log and reports the identity, marked as unproven when the quote is not verified', async () => {
    const args = [
      'verify-quote',
      fixture(c.quote),
      '--collateral',
      fixture(c.collateral),
      '--now',
      c.now_iso,
      '--event-log',
      fixture('dstack/sim-2025/eventlog.json'),
    ];
    const json = await clawkeep([...args, '--json']);
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout) as JsonResult & {
      dstack: { replayed: boolean; composeHash: string; appId: string; instanceId: string } | null;
    };
    expect(result.error?.code).toBe('tcb_level_not_found');
    expect(result.dstack?.replayed).toBe(true);
    expect(result.dstack?.composeHash).toBe(COMPOSE_HASH);
    expect(result.dstack?.appId).toBe(COMPOSE_HASH.slice(0, 40));
    expect(result.dstack?.instanceId).toBe(INSTANCE_ID);

    const human = await clawkeep(args);
    expect(human.stdout).toMatch(/dstack\s+event log replays to RTMR0-3 \(quote not verified: for information only\)/);
    expect(human.stdout).toMatch(new RegExp(`Compose hash\\s+${COMPOSE_HASH}`));
  });

  it('reads a GetQuote response ({quote, event_log: "<JSON text>"}) as well', async () => {
    const file = path.join(tmp, 'getquote.json');
    const eventLog = readFileSync(fixture('dstack/sim-2025/eventlog.json'), 'utf8');
    writeFileSync(file, JSON.stringify({ quote: readFileSync(fixture(c.quote), 'utf8').trim(), event_log: eventLog }));
    const res = await clawkeep([
      'verify-quote',
      fixture(c.quote),
      '--collateral',
      fixture(c.collateral),
      '--now',
      c.now_iso,
      '--event-log',
      file,
      '--json',
    ]);
    expect((JSON.parse(res.stdout) as { dstack: { composeHash: string } | null }).dstack?.composeHash).toBe(
      COMPOSE_HASH,
    );
  });

  it('a log that does not match the quote is reported as not replaying', async () => {
    const file = path.join(tmp, 'other-log.json');
    const events = JSON.parse(readFileSync(fixture('dstack/sim-2025/eventlog.json'), 'utf8')) as Array<{
      imr: number;
      digest: string;
    }>;
    const firstImr0 = events.find((e) => e.imr === 0)!;
    firstImr0.digest = firstImr0.digest.replace(/^./, (ch) => (ch === '0' ? '1' : '0'));
    writeFileSync(file, JSON.stringify(events));
    const res = await clawkeep([
      'verify-quote',
      fixture(c.quote),
      '--collateral',
      fixture(c.collateral),
      '--now',
      c.now_iso,
      '--event-log',
      file,
      '--json',
    ]);
    expect(res.code).toBe(1);
    const dstack = (JSON.parse(res.stdout) as { dstack: { replayed: boolean; composeHash: string | null } | null })
      .dstack;
    expect(dstack?.replayed).toBe(false);
    // Nothing from a log that does not replay is presented as the workload's identity.
    expect(dstack?.composeHash).toBeNull();
  });
});

describe('clawkeep verify-quote --pccs (PCCS simulator on loopback)', () => {
  it("fetches the collateral for the quote's FMSPC and PCK CA, then verifies", async () => {
    const up = caseById('tdx-v4-uptodate');
    const sim = await PccsSimulator.start();
    try {
      const fixtures = await loadCollateralFixtures();
      sim.publish(fixtures.find((f) => fixture(up.collateral).endsWith(f.name))!.collateral);
      const res = await clawkeep(['verify-quote', fixture(up.quote), '--pccs', sim.url, '--now', up.now_iso, '--json']);
      const json = JSON.parse(res.stdout) as JsonResult;
      expect(res.code).toBe(0);
      expect(json.verified).toBe(true);
      expect(json.status).toBe('UpToDate');
      expect(res.stderr).toContain('fetching TDX collateral for FMSPC B0C06F000000 (platform CA)');
      expect(sim.requestCount('/tdx/certification/v4/tcb')).toBe(1);
      expect(sim.requestCount('/sgx/certification/v4/pckcrl')).toBe(1);
    } finally {
      await sim.close();
    }
  });

  it('a PCCS without this platform is a failed verification (exit 1), not a usage error', async () => {
    const c = caseById('tdx-v5-td15-no-tcb-level');
    const sim = await PccsSimulator.start();
    try {
      const fixtures = await loadCollateralFixtures();
      // Only the B0C06F set is published; the v5 quote is from platform 90C06F.
      sim.publish(fixtures.find((f) => f.name.startsWith('tdx-b0c06f'))!.collateral);
      const res = await clawkeep(['verify-quote', fixture(c.quote), '--pccs', sim.url, '--now', c.now_iso, '--json']);
      expect(res.code).toBe(1);
      expect((JSON.parse(res.stdout) as JsonResult).error?.code).toBe('collateral_fetch_failed');
    } finally {
      await sim.close();
    }
  });
});

describe('clawkeep verify-quote: usage errors exit 2', { timeout: 30_000 }, () => {
  const up = caseById('tdx-v4-uptodate');
  const base = [fixture(up.quote), '--collateral', fixture(up.collateral)];
  const cases: Array<[string, string[], RegExp]> = [
    ['no quote file', ['--collateral', fixture(up.collateral)], /missing the quote file/],
    ['two quote files', [...base, fixture(up.quote)], /expected one quote file/],
    [
      'an unreadable quote file',
      [path.join(tmp, 'missing.bin'), '--collateral', fixture(up.collateral)],
      /cannot read quote file .*ENOENT/,
    ],
    [
      'an unreadable collateral file',
      [fixture(up.quote), '--collateral', path.join(tmp, 'missing.json')],
      /cannot read collateral file/,
    ],
    ['--collateral and --pccs', [...base, '--pccs', 'intel'], /give --collateral or --pccs, not both/],
    [
      '--pccs over plain http to a remote host',
      [fixture(up.quote), '--pccs', 'http://pccs.example.com'],
      /--pccs: .*must use https/,
    ],
    ['--pccs that is not a URL', [fixture(up.quote), '--pccs', 'not a url'], /--pccs: PCCS URL is not a valid URL/],
    ['an unknown option', [...base, '--frobnicate'], /Unknown option '--frobnicate'/],
    ['--now that is not an ISO time', [...base, '--now', 'yesterday'], /--now must be an ISO time/],
    ['--now that is not a date', [...base, '--now', '2025-13-45T00:00:00Z'], /--now is not a valid time/],
    ['--allow of an unknown status', [...base, '--allow', 'UpToDate,Fine'], /unknown TCB status "Fine"/],
    ['--allow Revoked', [...base, '--allow', 'OutOfDate,Revoked'], /Revoked is never accepted/],
    [
      'an unreadable --event-log',
      [...base, '--event-log', path.join(tmp, 'missing-log.json')],
      /cannot read event log file/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const res = await clawkeep(['verify-quote', ...args]);
      expect(res.code).toBe(2);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(message);
      expect(res.stderr).toContain('Usage: clawkeep verify-quote');
    });
  }
});

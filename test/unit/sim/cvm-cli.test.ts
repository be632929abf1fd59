// @vitest-environment node
/**
 * `clawkeep sim` as a process: prints its URLs and test root, serves, stops on SIGTERM. And the simulator's test
 * root outside test builds: plain Node refuses it unless CLAWKEEP_ALLOW_TEST_ANCHOR=1.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, runClawkeep } from '../cli/run-clawkeep';

function waitForListening(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (/listening on http:\/\/127\.0\.0\.1:\d+\n/.test(out)) resolve(out);
    });
    child.on('close', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
}

const exitOf = (child: ChildProcessWithoutNullStreams) =>
  new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

describe('clawkeep sim', () => {
  it('prints its base URLs and test root, serves the API, and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'sim', '--port', '0', '--misbehave', 'debug-td', '--api-key', 'cli-key'],
      { cwd: ROOT },
    );
    const exited = exitOf(child);
    try {
      const out = await waitForListening(child);
      expect(out).toMatch(/^CVM SIMULATOR \(test only/);
      const apiUrl = /^api:\s+(http:\/\/127\.0\.0\.1:\d+\/api\/v1)$/m.exec(out)![1]!;
      expect(out).toMatch(/^pccs:\s+http:\/\/127\.0\.0\.1:\d+\/pccs$/m);
      expect(out).toMatch(/^guest:\s+http:\/\/127\.0\.0\.1:\d+\/guest\/<app_id>$/m);
      const rootHex = /^test root: ([0-9a-f]+)$/m.exec(out)![1]!;
      expect(out).not.toContain('cli-key');
      expect(out).toMatch(/^auth:\s+X-API-Key as given with --api-key$/m);
      const origin = apiUrl.replace('/api/v1', '');

      expect((await fetch(`${apiUrl}/auth/me`, { headers: { 'X-API-Key': 'cli-key' } })).status).toBe(200);
      expect((await fetch(`${apiUrl}/auth/me`, { headers: { 'X-API-Key': 'sim-key' } })).status).toBe(401);
      expect(await (await fetch(`${origin}/_sim/misbehave`)).json()).toEqual({ mode: 'debug-td' });
      expect(await (await fetch(`${origin}/_sim/test-root`)).json()).toEqual({ root_der_hex: rootHex });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 30_000);

  it('rejects an unknown --misbehave with exit 2', async () => {
    const res = await runClawkeep(['sim', '--port', '0', '--misbehave', 'explode']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('unknown misbehaviour "explode"');
  }, 30_000);
});

describe('clawkeep sim without --api-key', () => {
  it('names where the credential comes from, never its value (not even the default test key)', async () => {
    const child = spawn(process.execPath, [BIN, 'sim', '--port', '0'], { cwd: ROOT });
    const exited = exitOf(child);
    try {
      const out = await waitForListening(child);
      expect(out).toMatch(/^auth:\s+X-API-Key the simulator default \(see --help\)$/m);
      expect(out).not.toContain('sim-key');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});

describe("the simulator's test root outside test builds", () => {
  const probe = (allow: boolean) =>
    new Promise<{ verified: boolean; code: string | null }>((resolve, reject) => {
      const env = { ...process.env };
      delete env.CLAWKEEP_ALLOW_TEST_ANCHOR;
      if (allow) env.CLAWKEEP_ALLOW_TEST_ANCHOR = '1';
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'test/unit/sim/production-trust-probe.ts')],
        { cwd: ROOT, env },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) =>
        code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`probe exited ${code}: ${err}`)),
      );
    });

  it('is refused by plain Node (test_anchor_forbidden) and honoured only with CLAWKEEP_ALLOW_TEST_ANCHOR=1', async () => {
    expect(await probe(false)).toEqual({ verified: false, code: 'test_anchor_forbidden' });
    expect(await probe(true)).toEqual({ verified: true, code: null });
  }, 60_000);
});

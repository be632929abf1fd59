// @vitest-environment node
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, runClawkeep as clawkeep } from './run-clawkeep';

describe('clawkeep command', () => {
  it('--help lists the subcommands', async () => {
    const res = await clawkeep(['--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Usage: clawkeep <command>/);
    expect(res.stdout).toMatch(/^\s+web\s+serve the built web vault/m);
  });

  it('--version prints the package.json version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const res = await clawkeep(['--version']);
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toBe(version);
  });

  it('an unknown command prints usage on stderr and exits 2', async () => {
    const res = await clawkeep(['frobnicate']);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('unknown command "frobnicate"');
    expect(res.stderr).toContain('Usage: clawkeep');
  });

  it('no command prints usage on stderr and exits 2', async () => {
    const res = await clawkeep([]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('Usage: clawkeep');
  });

  it('web rejects a bad --port with exit 2', async () => {
    const res = await clawkeep(['web', '--port', '99999']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--port must be 0-65535');
  });

  it('web serves a directory and prints its URL', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clawkeep-bin-'));
    writeFileSync(path.join(dir, 'index.html'), '<title>Clawkeep</title>');
    const child = spawn(process.execPath, [BIN, 'web', '--port', '0', '--dir', dir], { cwd: ROOT });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('close', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
      });
      const res = await fetch(url + '/');
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('Clawkeep');
      const exited = new Promise((resolve) => child.on('close', resolve));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

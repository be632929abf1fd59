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

  it('web refuses a --hub-origin that is not an origin, with exit 2', async () => {
    const res = await clawkeep(['web', '--port', '0', '--hub-origin', 'https://hub.example.com/v1']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--hub-origin: not a hub origin: "https://hub.example.com/v1"');
  });

  it('web serves a directory and prints its URL', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clawkeep-bin-'));
    writeFileSync(path.join(dir, 'index.html'), '<title>Clawkeep</title>');
    // prettier-ignore
    const child = spawn(process.execPath, [BIN, 'web', '--port', '0', '--dir', dir,
      '--hub-origin', 'https://hub.example.com,https://hub.test:8443', '--hub-origin', 'https://hub2.example.com'], { cwd: ROOT });
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
      // Repeatable and comma-separated: exactly these hubs besides loopback.
      expect(/connect-src ([^;]*)/.exec(res.headers.get('content-security-policy')!)?.[1]).toBe(
        "'self' http://127.0.0.1:* http://localhost:* https://hub.example.com https://hub.test:8443 https://hub2.example.com",
      );
      const exited = new Promise((resolve) => child.on('close', resolve));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// @vitest-environment node
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, type ClawkeepResult } from '../cli/run-clawkeep';
import { referenceDecrypt } from './reference';

// `clawkeep seal` run as a real process; its output is opened by the node:crypto reference (test/unit/seal/reference.ts),
// not by lib/seal. Keys: the derived app key of env-encryption.json / pubkey-signature.json (TEST ONLY).

const SEALING = resolve(ROOT, 'test/fixtures/sealing');
const sig = JSON.parse(readFileSync(join(SEALING, 'pubkey-signature.json'), 'utf8')) as {
  vectors: Array<{
    name: string;
    app_id: string;
    public_key: string;
    signature?: string;
    signature_v1?: string;
    timestamp?: number;
    kms_k256_pubkey_compressed?: string;
    must_not_equal?: string;
  }>;
};
const enc = JSON.parse(readFileSync(join(SEALING, 'env-encryption.json'), 'utf8')) as {
  vectors: Array<{ recipient_x25519_private: string; recipient_x25519_public: string }>;
};
const legacy = sig.vectors.find((v) => v.name === 'synthetic-legacy')!;
const v1 = sig.vectors.find((v) => v.name === 'synthetic-v1')!;
const tampered = sig.vectors.find((v) => v.name === 'tampered-public-key')!;
const KMS = legacy.kms_k256_pubkey_compressed!;
const OTHER_KMS = '0217610d74cbd39b6143842c6d8bc310d79da1d82cc9d17f8876376221eda0c38f';
// The signed key (bf72…) is the derived recipient of env-encryption.json: we hold its private half.
const PUB = legacy.public_key;
const PRIV = enc.vectors.find((v) => v.recipient_x25519_public === PUB)!.recipient_x25519_private;
const SECRET = 'sk-live-7f3c-DO-NOT-PRINT';

function seal(args: string[], env: Record<string, string> = {}): Promise<ClawkeepResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, 'seal', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

function opened(stdout: string): unknown {
  expect(stdout).toMatch(/^[0-9a-f]+\n$/);
  return JSON.parse(referenceDecrypt(stdout.trim(), PRIV));
}

const dir = mkdtempSync(join(tmpdir(), 'clawkeep-seal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const signedLegacy = ['--app-id', legacy.app_id, '--signature', legacy.signature!, '--kms-pubkey', KMS];
const signedV1 = [
  '--app-id',
  v1.app_id,
  '--signature',
  v1.signature_v1!,
  '--timestamp',
  String(v1.timestamp),
  '--kms-pubkey',
  KMS,
];
const iso = (unix: number) => new Date(unix * 1000).toISOString();

// Each case starts a Node process with tsx (about a second on a busy 2-core machine), hence the generous timeout.
describe('clawkeep seal', { timeout: 30_000 }, () => {
  it('seals --env pairs; the output opens with the independent reference to exactly that env', async () => {
    const res = await seal([
      '--pubkey',
      PUB,
      '--env',
      `API_KEY=${SECRET}`,
      '--env',
      'EMPTY=',
      '--env',
      'URL=postgres://u:p@h/db?x=1',
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    expect(opened(res.stdout)).toEqual({
      env: [
        { key: 'API_KEY', value: SECRET },
        { key: 'EMPTY', value: '' },
        { key: 'URL', value: 'postgres://u:p@h/db?x=1' },
      ],
    });
    expect(res.stdout).not.toContain(Buffer.from(SECRET).toString('hex'));
  });

  it('reads --env KEY from the environment and --env-file lines', async () => {
    const file = join(dir, 'agent.env');
    writeFileSync(
      file,
      ['# comment', '', 'export A="quoted value"', "B='x=y'", 'C = spaced ', 'UNICODE=世界'].join('\n'),
    );
    const res = await seal(['--pubkey', PUB, '--env', 'FROM_ENV', '--env-file', file], { FROM_ENV: SECRET });
    expect(res.code, res.stderr).toBe(0);
    expect(opened(res.stdout)).toEqual({
      env: [
        { key: 'FROM_ENV', value: SECRET },
        { key: 'A', value: 'quoted value' },
        { key: 'B', value: 'x=y' },
        { key: 'C', value: 'spaced' },
        { key: 'UNICODE', value: '世界' },
      ],
    });
  });

  it('with a valid legacy or fresh v1 KMS signature: seals', async () => {
    const a = await seal(['--pubkey', PUB, '--env', `API_KEY=${SECRET}`, ...signedLegacy]);
    expect(a.code, a.stderr).toBe(0);
    expect(opened(a.stdout)).toEqual({ env: [{ key: 'API_KEY', value: SECRET }] });
    const b = await seal([
      '--pubkey',
      PUB,
      '--env',
      `API_KEY=${SECRET}`,
      ...signedV1,
      '--now',
      iso(v1.timestamp! + 10),
    ]);
    expect(b.code, b.stderr).toBe(0);
    expect(opened(b.stdout)).toEqual({ env: [{ key: 'API_KEY', value: SECRET }] });
  });

  const refusals: Array<{ name: string; args: string[]; stderr: RegExp }> = [
    {
      name: 'the tampered public key',
      args: ['--pubkey', tampered.public_key, ...signedLegacy],
      stderr: /not signed by the trusted KMS/,
    },
    {
      name: 'another KMS key',
      args: ['--pubkey', PUB, ...signedLegacy.slice(0, 4), '--kms-pubkey', OTHER_KMS],
      stderr: /not signed by the trusted KMS/,
    },
    {
      name: 'another app id',
      args: ['--pubkey', PUB, '--app-id', '00'.repeat(20), ...signedLegacy.slice(2)],
      stderr: /not signed by the trusted KMS/,
    },
    {
      name: 'recovery id 2',
      args: [
        '--pubkey',
        PUB,
        '--app-id',
        legacy.app_id,
        '--signature',
        `${legacy.signature!.slice(0, 128)}02`,
        '--kms-pubkey',
        KMS,
      ],
      stderr: /recovery id/,
    },
    {
      name: 'v1 301 s old',
      args: ['--pubkey', PUB, ...signedV1, '--now', iso(v1.timestamp! + 301)],
      stderr: /more than 300 s old/,
    },
    {
      name: 'v1 61 s ahead',
      args: ['--pubkey', PUB, ...signedV1, '--now', iso(v1.timestamp! - 61)],
      stderr: /in the future/,
    },
  ];
  for (const c of refusals) {
    it(`refuses (exit 1, empty stdout): ${c.name}`, async () => {
      const res = await seal([...c.args, '--env', `API_KEY=${SECRET}`]);
      expect(res.code, res.stderr).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(c.stderr);
      expect(res.stderr).not.toContain(SECRET);
    });
  }

  it('a malformed or low-order public key exits 1 with nothing on stdout', async () => {
    for (const pubkey of [`0x${PUB.slice(2)}`, PUB.slice(0, 62), '00'.repeat(32)]) {
      const res = await seal(['--pubkey', pubkey, '--env', `API_KEY=${SECRET}`]);
      expect(res.code).toBe(1);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(/public key/);
    }
  });

  const usageErrors: string[][] = [
    ['--env', `API_KEY=${SECRET}`],
    ['--pubkey', PUB],
    ['--pubkey', PUB, '--env', SECRET],
    ['--pubkey', PUB, '--env', `=${SECRET}`],
    ['--pubkey', PUB, '--env', 'NOT_SET_ANYWHERE_42'],
    ['--pubkey', PUB, '--env', `API_KEY=${SECRET}`, '--signature', legacy.signature!],
    ['--pubkey', PUB, '--env', `API_KEY=${SECRET}`, ...signedLegacy, '--timestamp', 'yesterday'],
    ['--pubkey', PUB, '--env', `API_KEY=${SECRET}`, '--now', 'soon'],
    ['--pubkey', PUB, '--env', `API_KEY=${SECRET}`, '--bogus'],
    ['--pubkey', PUB, '--env', `API_KEY=${SECRET}`, SECRET],
    // Env the guest would refuse: a bad name, a duplicate.
    ['--pubkey', PUB, '--env', `1BAD=${SECRET}`],
    ['--pubkey', PUB, '--env', `API_KEY=${SECRET}`, '--env', `API_KEY=${SECRET}`],
  ];
  usageErrors.forEach((args, index) => {
    it(`usage error ${index + 1} exits 2 with nothing on stdout and no value on stderr`, async () => {
      const res = await seal(args);
      expect(res.code, `${args.join(' ')}\n${res.stderr}`).toBe(2);
      expect(res.stdout).toBe('');
      expect(res.stderr).not.toContain(SECRET);
      expect(res.stderr).toMatch(/^clawkeep seal: /);
    });
  });

  it('a missing --env file is a usage error (in process: Node 20 itself exits 9 on a missing `--env-file` path anywhere in argv)', async () => {
    const { main } = await import('../../../bin/main');
    const errors: string[] = [];
    const original = console.error;
    console.error = (...parts: unknown[]) => void errors.push(parts.join(' '));
    try {
      expect(await main(['seal', '--pubkey', PUB, '--env-file', join(dir, 'missing.env')])).toBe(2);
    } finally {
      console.error = original;
    }
    expect(errors.join('\n')).toMatch(/cannot read --env-file .*missing\.env: ENOENT/);
    const spawned = await seal(['--pubkey', PUB, '--env-file', join(dir, 'missing.env')]);
    expect(spawned.code).not.toBe(0);
    expect(spawned.stdout).toBe('');
  });

  it('--help prints the usage on stdout', async () => {
    const res = await seal(['--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Usage: clawkeep seal --pubkey HEX/);
  });
});

// @vitest-environment node
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../../../hub/audit';
import { openSqliteStore } from '../../../hub/store/sqlite';
import { ROOT, tempDir } from './helpers';

const FIXTURE = path.join(ROOT, 'test', 'unit', 'hub', 'fixtures', 'commit-then-wait.ts');

describe('hub store durability', () => {
  it('a committed transaction survives SIGKILL of the process right after the commit', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const signal = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('committed')) child.kill('SIGKILL');
      });
      child.on('error', reject);
      child.on('exit', (code, sig) => (sig ? resolve(sig) : reject(new Error(`exited ${code}: ${stderr}`))));
    });
    expect(signal).toBe('SIGKILL');
    // Killed before any close or checkpoint: the commit lives in the WAL only.
    expect(statSync(path.join(dir, 'hub.sqlite-wal')).size).toBeGreaterThan(0);

    const store = openSqliteStore({ file: path.join(dir, 'hub.sqlite') });
    expect(await store.accounts.get('acct-durable')).toMatchObject({ createdAt: 42 });
    expect(await verifyAudit(store)).toMatchObject({ ok: true, count: 1 });
    await store.close();
    expect(existsSync(path.join(dir, 'hub.sqlite'))).toBe(true);
  }, 20_000);
});

// @vitest-environment node
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers';
import { runClawkeep as clawkeep } from '../cli/run-clawkeep';
import { startHubProcess } from './hub-process';

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('clawkeep hub / audit verify', () => {
  it('hub prints the enrollment code once, serves /v1/health on loopback, and stops on SIGTERM', async () => {
    const data = path.join(tempDir(), 'hub');
    const first = await startHubProcess(data);
    expect(first.out).toMatch(/^Enrollment code: [BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4} \(shown once\)$/m);
    const res = await fetch(`${first.url}/v1/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
    expect(await stop(first.child)).toBe(0);

    const second = await startHubProcess(data);
    expect(second.out).not.toContain('Enrollment code');
    expect(await stop(second.child)).toBe(0);
  }, 30_000);

  it('hub without --data or with a bad --port is a usage error (exit 2)', async () => {
    expect((await clawkeep(['hub', '--port', '0'])).code).toBe(2);
    const bad = await clawkeep(['hub', '--port', '70000', '--data', tempDir()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port must be 0-65535');
  });

  it('audit verify: 0 when intact (also while the hub runs), 1 naming the entry when tampered, 2 on usage errors', async () => {
    const data = path.join(tempDir(), 'hub');
    const hub = await startHubProcess(data);
    const live = await clawkeep(['audit', 'verify', '--data', data]);
    expect(live).toMatchObject({ code: 0, stdout: 'audit log intact: 1 entries\n' });
    expect(await stop(hub.child)).toBe(0);

    const db = new Database(path.join(data, 'hub.sqlite'));
    db.exec("DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'someone-else' WHERE seq = 1");
    db.close();
    const broken = await clawkeep(['audit', 'verify', '--data', data]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^audit log broken at entry 1: entry_hash does not match/);

    expect((await clawkeep(['audit', 'verify'])).code).toBe(2);
    expect((await clawkeep(['audit', '--data', data])).code).toBe(2);
    expect((await clawkeep(['audit', 'verify', '--data', data, '--bogus'])).code).toBe(2);
    const missing = await clawkeep(['audit', 'verify', '--data', path.join(data, 'nothing-here')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no hub database');
  }, 30_000);
});

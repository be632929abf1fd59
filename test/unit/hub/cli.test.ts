// @vitest-environment node
import type { ChildProcess } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { appendAudit, auditEntryHash, GENESIS_HASH } from '../../../hub/audit';
import { signedAuditHead } from '../../../hub/audit/head';
import { generateHubIdentity, IDENTITY_FILE, loadOrCreateHubIdentity } from '../../../hub/identity';
import { dbFileIn, openSqliteStore } from '../../../hub/store/sqlite';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../../lib/bytes';
import { deviceKeyId, encodePublicKey } from '../../../lib/protocol/keys';
import { signRequest } from '../../../lib/protocol/request-signing';
import { tempDir } from './helpers';
import { runClawkeep as clawkeep } from '../cli/run-clawkeep';
import { startHubProcess } from './hub-process';
import { auditRows } from './audit-rows';

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
    const health = await res.json();
    expect(health).toMatchObject({ ok: true });
    // The identity key: created on first start, owner-only, next to hub.sqlite; only its fingerprint is printed.
    expect(statSync(path.join(data, IDENTITY_FILE)).mode & 0o777).toBe(0o600);
    const identity = loadOrCreateHubIdentity(data);
    expect(health.hub_key).toBe(identity.hubKey);
    expect(first.out).toContain(`Hub identity: ${identity.fingerprint}`);
    expect(await stop(first.child)).toBe(0);

    const second = await startHubProcess(data);
    expect(second.out).not.toContain('Enrollment code');
    expect(await stop(second.child)).toBe(0);
  }, 30_000);

  it('hub enrollment-code issues a new code once while the hub runs; the lost one stops working', async () => {
    const data = path.join(tempDir(), 'hub');
    const hub = await startHubProcess(data);
    const lost = /Enrollment code: (\S+)/.exec(hub.out)![1]!;
    const issued = await clawkeep(['hub', 'enrollment-code', '--data', data]);
    expect(issued.code).toBe(0);
    const code = /^Enrollment code: ([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}) \(shown once\)$/m.exec(
      issued.stdout,
    )![1]!;
    expect(code).not.toBe(lost);
    expect(issued.stdout).toContain('The previous unused code no longer works (1 retired).');

    const enrol = async (enrollmentCode: string) => {
      const privateKey = ed25519.utils.randomSecretKey();
      const publicKey = ed25519.getPublicKey(privateKey);
      const body = JSON.stringify({ enrollment_code: enrollmentCode, device_key: encodePublicKey(publicKey) });
      const headers = {
        'content-type': 'application/json',
        ...signRequest({
          role: 'human',
          keyId: deviceKeyId(publicKey),
          privateKey,
          method: 'POST',
          path: '/v1/accounts',
          body: utf8Encode(body),
          hub: hub.url,
        }),
      };
      const res = await fetch(`${hub.url}/v1/accounts`, { method: 'POST', headers, body });
      return { status: res.status, json: (await res.json()) as { error?: { code: string } } };
    };
    // The running process sees the retirement: the code it printed at start no longer enrols anyone.
    const old = await enrol(lost);
    expect(old.status).toBe(404);
    expect(old.json.error?.code).toBe('enrollment_code_invalid');
    expect((await enrol(code)).status).toBe(201);
    expect((await enrol(code)).json.error?.code).toBe('enrollment_code_invalid');
    expect(await stop(hub.child)).toBe(0);

    // Both the issue and the reissue are in the audit chain, which still verifies.
    const verified = await clawkeep(['audit', 'verify', '--data', data]);
    expect(verified.code).toBe(0);
    const store = openSqliteStore({ file: path.join(data, 'hub.sqlite'), readonly: true });
    const actions = (await auditRows(store)).map((r) => r.action);
    await store.close();
    expect(actions).toContain('enrollment_code.reissued');

    // No hub there, or an option that belongs to serving: usage errors, nothing created.
    const none = await clawkeep(['hub', 'enrollment-code', '--data', path.join(data, 'nothing-here')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no hub database');
    expect((await clawkeep(['hub', 'enrollment-code', '--data', data, '--port', '1'])).code).toBe(2);
    expect((await clawkeep(['hub', 'enrolment-code', '--data', data])).code).toBe(2);
  }, 60_000);

  it('hub without --data or with a bad --port is a usage error (exit 2)', async () => {
    expect((await clawkeep(['hub', '--port', '0'])).code).toBe(2);
    const bad = await clawkeep(['hub', '--port', '70000', '--data', tempDir()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port must be 0-65535');
    const retention = await clawkeep(['hub', '--port', '0', '--data', tempDir(), '--intent-retention-days', '30.5']);
    expect(retention.code).toBe(2);
    expect(retention.stderr).toContain('--intent-retention-days takes a whole number of days');
  }, 20_000);

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

  it('audit verify --head: 0 when the exported head is in the chain, 1 when history was cut and recomputed, 2 for a bad file', async () => {
    const data = path.join(tempDir(), 'hub');
    const store = openSqliteStore({ file: dbFileIn(data) });
    const identity = loadOrCreateHubIdentity(data);
    for (let i = 0; i < 5; i++)
      await appendAudit(store, { time: 1_700_000_000_000 + i, actor: 'hub', action: `test.${i}` });
    const head = (await signedAuditHead(store, identity, 'http://127.0.0.1:8787', 1_700_000_001_000))!.signed;
    await appendAudit(store, { time: 1_700_000_002_000, actor: 'hub', action: 'test.later' });
    await store.close();
    const headFile = path.join(tempDir(), 'head.json');
    writeFileSync(headFile, JSON.stringify(head));
    const ok = await clawkeep(['audit', 'verify', '--data', data, '--head', headFile]);
    expect(ok).toMatchObject({
      code: 0,
      stdout: 'audit log intact: 6 entries; it contains the exported head (entry 5)\n',
    });

    // A head signed by another key (not this hub's identity file) is not evidence about this log.
    const otherFile = path.join(tempDir(), 'other.json');
    const other = openSqliteStore({ file: ':memory:' });
    for (let i = 0; i < 5; i++)
      await appendAudit(other, { time: 1_700_000_000_000 + i, actor: 'hub', action: `test.${i}` });
    writeFileSync(
      otherFile,
      JSON.stringify((await signedAuditHead(other, generateHubIdentity(), 'http://127.0.0.1:8787', 1))!.signed),
    );
    const foreign = await clawkeep(['audit', 'verify', '--data', data, '--head', otherFile]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('signed by another hub key');

    // The operator deletes entry 3 and recomputes the chain: the chain alone is intact, the head proves otherwise.
    const db = new Database(path.join(data, 'hub.sqlite'));
    const rows = db.prepare('SELECT * FROM audit ORDER BY seq').all() as Record<string, any>[];
    db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; DELETE FROM audit');
    let prev = GENESIS_HASH;
    let seq = 1;
    for (const r of rows.filter((r) => r.seq !== 3)) {
      const hash = auditEntryHash(prev, {
        seq,
        time: r.time,
        actor: r.actor,
        agent: r.agent,
        resource: r.resource,
        action: r.action,
        requestId: r.request_id,
        idempotencyKey: r.idempotency_key,
      });
      db.prepare(
        'INSERT INTO audit (seq, time, actor, agent, resource, action, request_id, idempotency_key, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(seq, r.time, r.actor, r.agent, r.resource, r.action, r.request_id, r.idempotency_key, prev, hash);
      prev = hash;
      seq++;
    }
    db.close();
    expect((await clawkeep(['audit', 'verify', '--data', data])).code).toBe(0);
    const rewritten = await clawkeep(['audit', 'verify', '--data', data, '--head', headFile]);
    expect(rewritten.code).toBe(1);
    expect(rewritten.stderr).toMatch(
      /^the exported head \(entry 5, signed .*\) is not in this audit log: entry 5 is not the one the device saw/,
    );

    writeFileSync(headFile, JSON.stringify({ ...head, statement: { ...head.statement, seq: 4 } }));
    const tampered = await clawkeep(['audit', 'verify', '--data', data, '--head', headFile]);
    expect(tampered.code).toBe(2);
    expect(tampered.stderr).toContain('signature does not verify');
  }, 60_000);
});

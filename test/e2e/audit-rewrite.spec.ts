import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { auditEntryHash, GENESIS_HASH } from '../../hub/audit';
import { pauseHub, registerAgent, restartHub, setUpVaultAndEnroll, spawnCli, stopProcess, test, expect } from './hub';

const SHOTS = '/tmp/i13-audit-identity-shots';

/** The hub operator's rewrite: delete entry `seq`, renumber and rehash everything after it (the hub is stopped). */
function deleteAndRecompute(dataDir: string, seq: number): void {
  const db = new Database(path.join(dataDir, 'hub.sqlite'));
  const rows = db.prepare('SELECT * FROM audit ORDER BY seq').all() as Record<string, any>[];
  db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; DELETE FROM audit');
  const insert = db.prepare(
    'INSERT INTO audit (seq, time, actor, agent, resource, action, request_id, idempotency_key, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  let prev = GENESIS_HASH;
  let n = 1;
  for (const r of rows.filter((r) => r.seq !== seq)) {
    const hash = auditEntryHash(prev, {
      seq: n,
      time: r.time,
      actor: r.actor,
      agent: r.agent,
      resource: r.resource,
      action: r.action,
      requestId: r.request_id,
      idempotencyKey: r.idempotency_key,
    });
    insert.run(n, r.time, r.actor, r.agent, r.resource, r.action, r.request_id, r.idempotency_key, prev, hash);
    prev = hash;
    n++;
  }
  db.close();
}

test('Activity warns when the hub rewrote its log after this device saw it; the Agents tab refuses a different hub on the same port', async ({
  openVault,
  hub,
  scratch,
}) => {
  mkdirSync(SHOTS, { recursive: true });
  const vault = await openVault();
  await setUpVaultAndEnroll(vault, hub, []);
  await registerAgent(hub, scratch, 'research-bot', ['action:action.approve']);
  await registerAgent(hub, scratch, 'mail-bot', ['action:action.approve']);

  await vault.getByRole('tab', { name: 'Activity' }).click();
  await expect(vault.getByLabel('Audit log check')).toContainText('The hub signed its log');
  await expect(vault.getByRole('button', { name: 'Export signed head' })).toBeVisible();

  // The operator stops the hub, deletes an entry and recomputes the chain, starts it again and life goes on.
  await pauseHub(hub);
  deleteAndRecompute(hub.dataDir, 2);
  await restartHub(hub);
  await registerAgent(hub, scratch, 'late-bot', ['action:action.approve']);
  await registerAgent(hub, scratch, 'later-bot', ['action:action.approve']);
  await vault.getByRole('button', { name: 'Refresh' }).click();
  const warning = vault.getByLabel('Audit log warning');
  await expect(warning).toContainText("The hub's activity log was rewritten since");
  await expect(warning).toContainText('entries seen before unchanged');
  await vault.setViewportSize({ width: 1280, height: 800 });
  await vault.screenshot({ path: `${SHOTS}/activity-warning-1280.png`, fullPage: true });
  await vault.setViewportSize({ width: 360, height: 800 });
  await vault.screenshot({ path: `${SHOTS}/activity-warning-360.png`, fullPage: true });

  // The exported head is what `clawkeep audit verify --head` checks on the hub's machine: not in this chain → exit 1.
  const download = vault.waitForEvent('download');
  await vault.getByRole('button', { name: 'Export signed head' }).click();
  const file = path.join(scratch, 'head.json');
  await (await download).saveAs(file);
  await pauseHub(hub);
  const verify = await spawnCli(['audit', 'verify', '--data', hub.dataDir, '--head', file]).result;
  expect(verify.code, verify.stderr).toBe(1);
  expect(verify.stderr).toContain('is not in this audit log');

  // Another hub on the same port (new data, new identity key): refused, with a clear message.
  const otherData = mkdtempSync(path.join(tmpdir(), 'clawkeep-squatter-'));
  const squatter = spawnCli(['hub', '--port', new URL(hub.url).port, '--data', otherData]);
  try {
    await expect.poll(() => squatter.stdout(), { timeout: 30_000 }).toContain('listening on');
    await vault.setViewportSize({ width: 1280, height: 800 });
    await vault.getByRole('tab', { name: 'Agents' }).click();
    await vault
      .getByRole('button', { name: 'Refresh' })
      .first()
      .click()
      .catch(() => {});
    await expect(vault.getByText(/This is not the hub you enrolled with/).first()).toBeVisible({ timeout: 30_000 });
    await vault.screenshot({ path: `${SHOTS}/agents-not-your-hub-1280.png`, fullPage: true });
    await vault.setViewportSize({ width: 360, height: 800 });
    await vault.screenshot({ path: `${SHOTS}/agents-not-your-hub-360.png`, fullPage: true });
  } finally {
    await stopProcess(squatter.child);
    rmSync(otherData, { recursive: true, force: true });
    await restartHub(hub);
  }
});

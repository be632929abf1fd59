import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page, Worker } from '@playwright/test';
import { test as base, expect } from './fixtures';
import { addSecret, createVault, PASSPHRASE, type SecretInput } from './helpers';
import { MaliciousHub } from '../adversary/malicious-hub';
import { startHub, stopHub, stopProcess, type Hub } from './hub-process';

export * from './hub-process';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLAWKEEP = path.join(ROOT, 'bin/clawkeep.mjs');

/** The badge text, read in the extension's service worker. */
export const badgeText = (sw: Worker) =>
  sw.evaluate(() =>
    (
      globalThis as unknown as { chrome: { action: { getBadgeText(d: object): Promise<string> } } }
    ).chrome.action.getBadgeText({}),
  );

// ---- The agent CLI --------------------------------------------------------------------------------------------

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** performance.now() when the process exited. */
  exitedAt: number;
}

export interface CliRun {
  child: ChildProcess;
  /** Settles when the process has exited and its output is fully read. */
  result: Promise<CliResult>;
  /** Output so far. */
  stdout: () => string;
  stderr: () => string;
}

const cliProcesses = new Set<ChildProcess>();

/** `node bin/clawkeep.mjs ...args` in the background (with `input` on stdin), output captured. Killed by `killCliProcesses()`. */
export function spawnCli(args: string[], input?: string): CliRun {
  const child = spawn(process.execPath, [CLAWKEEP, ...args], {
    cwd: ROOT,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  cliProcesses.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let exitedAt = 0;
  child.once('exit', () => {
    exitedAt = performance.now();
    cliProcesses.delete(child);
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, exitedAt }));
  });
  return { child, result, stdout: () => stdout, stderr: () => stderr };
}

export const runCli = (args: string[]): Promise<CliResult> => spawnCli(args).result;

export async function killCliProcesses(): Promise<void> {
  await Promise.all([...cliProcesses].map((c) => stopProcess(c)));
}

/** Waits until `agent secret`/`agent request --wait` has created its intent and is polling for the decision. */
export async function waitUntilWaiting(run: CliRun): Promise<void> {
  await expect
    .poll(() => (run.child.exitCode === null ? run.stderr() : `exited ${run.child.exitCode}: ${run.stderr()}`), {
      timeout: 20_000,
    })
    .toContain('Waiting for the human');
}

export interface RegisteredAgent {
  name: string;
  state: string;
  agent_id: string;
  claim_code: string;
  fingerprint: string;
}

/** `clawkeep agent register ... --json` with a manifest file; the state file goes to `<dir>/<name>.json`. */
export async function registerAgent(hub: Hub, dir: string, name: string, scopes: string[]): Promise<RegisteredAgent> {
  const manifest = path.join(dir, `${name}.md`);
  writeFileSync(manifest, `# ${name}\n\nAn end-to-end test agent.\n`);
  const state = path.join(dir, `${name}.json`);
  const r = await runCli([
    'agent',
    'register',
    '--hub',
    hub.url,
    '--name',
    name,
    '--manifest',
    manifest,
    '--state',
    state,
    '--scopes',
    scopes.join(','),
    '--json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as Omit<RegisteredAgent, 'name' | 'state'>;
  expect(out.claim_code).toMatch(/^[B-Z]{4}-[B-Z]{4}$/);
  return { name, state, ...out };
}

// ---- The extension UI -----------------------------------------------------------------------------------------

/** Creates the vault with `secrets`, saves the hub URL and enrols this device in the Agents tab. Returns its fingerprint. */
export async function setUpVaultAndEnroll(vault: Page, hub: Hub, secrets: SecretInput[]): Promise<string> {
  await createVault(vault, PASSPHRASE, 'floor');
  for (const s of secrets) await addSecret(vault, s);
  await vault.getByRole('tab', { name: 'Agents' }).click();
  await vault.getByLabel('Hub URL').fill(hub.url);
  await vault.getByRole('button', { name: 'Save hub URL' }).click();
  await expect(vault.getByRole('status')).toContainText('Hub URL saved');
  await vault.getByLabel('Enrollment code').fill(hub.enrollmentCode);
  await vault.getByRole('button', { name: 'Enroll' }).click();
  await expect(vault.getByText('Approving as')).toBeVisible();
  return (await vault.getByText('Approving as').locator('code').textContent())!.trim();
}

/**
 * Claims a registered agent in the Agents tab, checking the preview by its labels: one look (the fingerprint) and one
 * click on Claim after checking each scope to grant (they start unchecked: nothing is granted by default).
 */
export async function claimAgent(vault: Page, agent: RegisteredAgent, scopes: string[]): Promise<void> {
  await vault.getByLabel('Claim code').fill(agent.claim_code);
  await vault.getByRole('button', { name: 'Look up' }).click();
  const preview = vault.getByRole('group', { name: 'Agent to claim' });
  await expect(preview.getByText(agent.fingerprint)).toBeVisible();
  await expect(preview.getByText(agent.name, { exact: true })).toBeVisible();
  for (const s of scopes) {
    await expect(preview.getByRole('checkbox', { name: s })).not.toBeChecked();
    await preview.getByRole('checkbox', { name: s }).check();
  }
  await vault.getByRole('button', { name: 'Claim agent' }).click();
  await expect(vault.getByRole('region', { name: 'Claim an agent' }).getByRole('status')).toContainText(
    `Claimed ${agent.name}`,
  );
  await expect(vault.getByRole('list', { name: 'Claimed agents' })).toContainText(agent.fingerprint);
}

// ---- Fixtures -------------------------------------------------------------------------------------------------

export interface HubFixtures {
  /** A real hub child for this test; stopped and its data removed afterwards. */
  hub: Hub;
  /** A private temp directory for manifests and agent state files; CLI processes are killed before it goes. */
  scratch: string;
}

export const test = base.extend<HubFixtures>({
  // eslint-disable-next-line no-empty-pattern
  hub: async ({}, use) => {
    const hub = await startHub();
    try {
      await use(hub);
    } finally {
      await stopHub(hub);
    }
  },
  // eslint-disable-next-line no-empty-pattern
  scratch: async ({}, use) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clawkeep-agent-e2e-'));
    try {
      await use(dir);
    } finally {
      await killCliProcesses();
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

export { expect };

/** A real hub behind the MaliciousHub reverse proxy: `via` is what clients use, `evil` rewrites what they see. */
export async function proxiedHub(allowOrigins: string[] = []) {
  let real: Hub | undefined;
  const evil = MaliciousHub.overHttp(() => real!.url);
  const proxy = await evil.listen();
  real = await startHub(allowOrigins, { publicOrigin: proxy.url });
  // Everything the extension, the web vault and the CLI see goes through the proxy.
  const via: Hub = { ...real, url: proxy.url };
  return {
    evil,
    via,
    close: async () => {
      await proxy.close();
      await stopHub(real);
    },
  };
}

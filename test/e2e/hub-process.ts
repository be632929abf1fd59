// The hub and child processes for end-to-end tests, without Playwright Test: shared by the Playwright specs (through
// ./hub.ts) and the Firefox runs (test/firefox/), which drive the browser with puppeteer-core under Vitest.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLAWKEEP = path.join(ROOT, 'bin/clawkeep.mjs');
// ---- Processes ------------------------------------------------------------------------------------------------

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. No-op if it already has. */
export async function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// ---- The hub --------------------------------------------------------------------------------------------------

export interface Hub {
  url: string;
  enrollmentCode: string;
  dataDir: string;
  child: ChildProcess;
  /** Pages (the web vault) the hub answers CORS for. */
  allowOrigins: string[];
  /** `--public-origin`: the origin clients use when a proxy (e.g. a MaliciousHub) stands in front of the hub. */
  publicOrigin?: string;
  /** The raw output chunks behind log() (kept across a restart). */
  output: Buffer[];
  /** Everything the hub wrote so far, stdout and stderr interleaved in arrival order. */
  log: () => string;
}

/** Spawns `clawkeep hub` on `port` (0 = free) over `hub.dataDir` and waits until it listens (and, first time, printed its code). */
async function spawnHub(hub: Hub, port: string): Promise<void> {
  const chunks = hub.output;
  const cors = hub.allowOrigins.length ? ['--allow-origin', hub.allowOrigins.join(',')] : [];
  const publicOrigin = hub.publicOrigin ? ['--public-origin', hub.publicOrigin] : [];
  const child = spawn(
    process.execPath,
    [CLAWKEEP, 'hub', '--port', port, '--data', hub.dataDir, ...cors, ...publicOrigin],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  hub.child = child;
  const from = Buffer.concat(chunks).length;
  const fresh = () => Buffer.concat(chunks).subarray(from).toString('utf8');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start:\n${hub.log()}`)), 30_000);
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      const url = /listening on (http:\/\/\S+)/.exec(fresh())?.[1];
      const code = hub.enrollmentCode || /Enrollment code: (\S+)/.exec(fresh())?.[1];
      if (url && code) {
        clearTimeout(timer);
        Object.assign(hub, { url, enrollmentCode: code });
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (c) => reject(new Error(`hub exited with ${c}:\n${hub.log()}`)));
    child.once('error', reject);
  });
}

/**
 * A real `clawkeep hub` child on a free loopback port, with a fresh data directory; its whole output is kept.
 * `allowOrigins`: pages (the web vault) the hub answers CORS for.
 */
export async function startHub(allowOrigins: string[] = [], options: { publicOrigin?: string } = {}): Promise<Hub> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'clawkeep-hub-e2e-'));
  const output: Buffer[] = [];
  const log = () => Buffer.concat(output).toString('utf8');
  const hub: Hub = {
    url: '',
    enrollmentCode: '',
    dataDir,
    child: null as unknown as ChildProcess,
    allowOrigins,
    publicOrigin: options.publicOrigin,
    output,
    log,
  };
  try {
    await spawnHub(hub, '0');
  } catch (err) {
    if (hub.child) await stopHub(hub);
    throw err;
  }
  return hub;
}

/** Stops the hub process only (its data stays): every device is offline until restartHub. */
export async function pauseHub(hub: Hub): Promise<void> {
  await stopProcess(hub.child);
}

/** Starts the hub again on the same port over the same data (after pauseHub). */
export async function restartHub(hub: Hub): Promise<void> {
  await spawnHub(hub, new URL(hub.url).port);
}

/** Stops the hub (idempotent) and removes its data directory. */
export async function stopHub(hub: Hub): Promise<void> {
  await stopProcess(hub.child);
  rmSync(hub.dataDir, { recursive: true, force: true });
}

/** Every file in the hub's data directory (hub.sqlite and, while it runs, -wal/-shm), by name. */
export function hubFiles(hub: Hub): Map<string, Buffer> {
  return new Map(readdirSync(hub.dataDir).map((f) => [f, readFileSync(path.join(hub.dataDir, f))]));
}

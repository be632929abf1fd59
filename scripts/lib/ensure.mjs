// Shared by scripts/test.mjs, start.mjs and bench.mjs. Node builtins only: this runs on a fresh clone
// before `npm ci` has put anything in node_modules.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Path of a locally installed npm binary (node_modules/.bin/<name>). */
export const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);

/**
 * Runs a command with the parent's stdio (output streams live) and resolves with its exit code.
 * Never rejects for a non-zero exit; rejects only if the command could not be started.
 */
export function run(cmd, args = [], { env, cwd = ROOT, capture = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    });
    let stdout = '';
    if (capture) child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', (err) => reject(new Error(`could not start ${cmd}: ${err.message}`)));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), signal, stdout }));
  });
}

/**
 * Why node_modules must be (re)installed, or null if it is current.
 * "Older than package-lock.json" is judged on npm's hidden lockfile (node_modules/.package-lock.json, written by
 * every install). An mtime alone is not enough: `npm i` can write package-lock.json a few ms after the hidden
 * lockfile, and a needless `npm ci` deletes node_modules under everyone sharing this tree. So a newer
 * package-lock.json only counts as stale when some locked package version differs from what is installed.
 */
export function installReason() {
  const lockPath = path.join(ROOT, 'package-lock.json');
  const hiddenPath = path.join(ROOT, 'node_modules', '.package-lock.json');
  if (!existsSync(path.join(ROOT, 'node_modules'))) return 'node_modules is missing';
  if (!existsSync(hiddenPath)) return 'node_modules has no .package-lock.json (not installed by npm)';
  if (statSync(hiddenPath).mtimeMs >= statSync(lockPath).mtimeMs) return null;
  const locked = JSON.parse(readFileSync(lockPath, 'utf8')).packages ?? {};
  const installed = JSON.parse(readFileSync(hiddenPath, 'utf8')).packages ?? {};
  for (const [key, meta] of Object.entries(locked)) {
    if (key === '' || meta.link) continue;
    const have = installed[key];
    if (!have) {
      if (!meta.optional && !meta.devOptional) return `package-lock.json is newer and ${key} is not installed`;
      continue;
    }
    if (have.version !== meta.version) return `package-lock.json is newer and ${key} differs`;
  }
  for (const key of Object.keys(installed)) {
    if (!(key in locked)) return `package-lock.json is newer and no longer lists ${key}`;
  }
  return null;
}

/** Runs `npm ci` if node_modules is missing or stale, and `wxt prepare` if .wxt/ is missing. Throws on failure. */
export async function ensureDeps() {
  const reason = installReason();
  if (reason) {
    console.log(`[ensure] ${reason}: running npm ci`);
    const t0 = performance.now();
    const { code } = await run('npm', ['ci'], {
      env: { npm_config_loglevel: process.env.npm_config_loglevel ?? 'error' },
    });
    if (code !== 0) throw new Error(`npm ci failed with exit code ${code}`);
    console.log(`[ensure] npm ci took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  // postinstall normally does this; .wxt/ is git-ignored and tsconfig.json extends .wxt/tsconfig.json.
  if (!existsSync(path.join(ROOT, '.wxt', 'tsconfig.json'))) {
    console.log('[ensure] .wxt/ is missing: running wxt prepare');
    const { code } = await run(bin('wxt'), ['prepare']);
    if (code !== 0) throw new Error(`wxt prepare failed with exit code ${code}`);
  }
}

/** True when this process may run apt-get itself. */
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Makes sure a Chromium binary exists (CHROMIUM_PATH or /usr/bin/chromium) and returns its path.
 * As root it installs Debian's chromium; otherwise it prints the command and exits the process with code 2.
 */
export async function ensureChromium() {
  const chromium = process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM;
  if (existsSync(chromium)) return chromium;
  const command = 'apt-get update && apt-get install -y chromium';
  if (chromium !== DEFAULT_CHROMIUM) {
    console.error(
      `[ensure] CHROMIUM_PATH=${chromium} does not exist. Unset it to use ${DEFAULT_CHROMIUM} (${command}).`,
    );
    process.exit(2);
  }
  if (!isRoot()) {
    console.error(
      `[ensure] Chromium is missing at ${chromium}. Install it as root, then rerun:\n  sudo ${command.replace('&& ', '&& sudo ')}`,
    );
    process.exit(2);
  }
  console.log(`[ensure] Chromium is missing: running ${command}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if ((await run('apt-get', ['update'], { env })).code !== 0) throw new Error('apt-get update failed');
  if ((await run('apt-get', ['install', '-y', 'chromium'], { env })).code !== 0)
    throw new Error('apt-get install -y chromium failed');
  if (!existsSync(chromium)) throw new Error(`apt-get installed chromium but ${chromium} still does not exist`);
  return chromium;
}

/**
 * Makes sure Debian's PostgreSQL server binaries exist (the store suite on PostgreSQL starts throwaway clusters
 * from them, test/support/postgres-cluster.ts). As root it installs the postgresql package and stops the cluster
 * the package may have started (the tests never use it); otherwise it prints the command and exits with code 2.
 * `npm start` never needs this: the hub's default store is SQLite.
 */
export async function ensurePostgres() {
  const root = '/usr/lib/postgresql';
  const present = () =>
    existsSync(root) && readdirSync(root).some((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl')));
  if (present()) return;
  const command = 'apt-get update && apt-get install -y postgresql';
  if (!isRoot()) {
    console.error(
      `[ensure] PostgreSQL's server is missing (needed by the store tests). Install it as root, then rerun:\n  sudo ${command.replace('&& ', '&& sudo ')}`,
    );
    process.exit(2);
  }
  console.log(`[ensure] PostgreSQL is missing: running ${command}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if ((await run('apt-get', ['update'], { env })).code !== 0) throw new Error('apt-get update failed');
  if ((await run('apt-get', ['install', '-y', 'postgresql'], { env })).code !== 0)
    throw new Error('apt-get install -y postgresql failed');
  await run('service', ['postgresql', 'stop']).catch(() => {});
  if (!present()) throw new Error('apt-get installed postgresql but no pg_ctl is under /usr/lib/postgresql');
}

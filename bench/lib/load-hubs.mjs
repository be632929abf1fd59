// Hub instances for the load harness (bench/hub-load.mjs), each the real CLI a user runs:
//   clawkeep hub --data DIR --store sqlite:DIR|postgres://… --port N [--public-origin ORIGIN]
// started, stopped (SIGTERM: the hub closes cleanly), SIGKILLed and restarted on the same port and data directory.
// Several instances on one PostgreSQL share the identity file of the first (hub/identity.ts; startHub refuses
// another key on the same database). Each instance's stdout (its JSON-lines access log, with per-request
// durations) goes to a file, summarised per route after the run. Also: CPU time of processes from /proc, for
// "where does the time go" (hub instances, PostgreSQL server processes).
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const IDENTITY_FILE = 'hub-identity.key'; // hub/identity.ts IDENTITY_FILE
const START_TIMEOUT_MS = 30_000;

/**
 * One hub instance. `start()` spawns it and resolves once it prints "listening on"; the first start on a fresh
 * database also yields the one-time enrollment code it printed. The port is fixed after the first start, so a
 * restart (after stop or kill) comes back on the same address.
 */
export class HubInstance {
  constructor({ name, dataDir, store, port = 0, publicOrigin, logFile, cpuProfDir }) {
    Object.assign(this, { name, dataDir, store, port, publicOrigin, logFile, cpuProfDir });
    this.child = null;
    this.enrollmentCode = null;
    this.starts = 0;
    /** pid → wall-clock ms when it was spawned (to place its CPU profile's samples in time). */
    this.spawnedAt = new Map();
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  get pid() {
    return this.child?.pid ?? null;
  }

  get up() {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start() {
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    const args = [
      ...(this.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${this.cpuProfDir}`] : []),
      path.join(ROOT, 'bin/clawkeep.mjs'),
      'hub',
      '--data',
      this.dataDir,
      '--store',
      this.store,
      '--port',
      String(this.port),
      ...(this.publicOrigin ? ['--public-origin', this.publicOrigin] : []),
    ];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.spawnedAt.set(child.pid, performance.timeOrigin + performance.now());
    // Nothing started here may outlive the harness, even if it dies without reaching its finally blocks.
    const reap = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
    process.on('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    this.starts++;
    let head = '';
    child.stderr.on('data', (c) => this.log.write(c));
    const started = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name} did not start: ${head.slice(0, 500)}`)),
        START_TIMEOUT_MS,
      );
      const onData = (chunk) => {
        this.log.write(chunk);
        if (head.length < 4096) head += chunk;
        const url = /listening on (http:\/\/\S+)/.exec(head)?.[1];
        if (url) {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          child.off('exit', onExit);
          resolve({ url, code: /Enrollment code: (\S+)/.exec(head)?.[1] ?? null });
        }
      };
      const onExit = (c, s) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${c ?? s}) before listening: ${head.slice(0, 500)}`));
      };
      child.stdout.on('data', onData);
      child.once('exit', onExit);
    });
    child.stdout.on('data', (c) => this.log.write(c));
    this.port = Number(new URL(started.url).port);
    if (started.code) this.enrollmentCode = started.code;
    return this;
  }

  /** SIGTERM and wait: the hub lets in-flight requests finish (up to 5 s) and closes its database. */
  async stop() {
    if (!this.up) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const force = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(force);
  }

  /** SIGKILL and wait for the exit: no cleanup of any kind, as after a crash or an OOM kill. */
  async kill() {
    if (!this.up) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }

  async restart() {
    await this.stop();
    return this.start();
  }

  async close() {
    await this.stop();
    if (!this.log.writableEnded) await new Promise((r) => this.log.end(r));
  }
}

/** A new database `name` on the test cluster; its URL. */
export async function createDatabase(clusterUrl, name) {
  const client = new pg.Client({ connectionString: clusterUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(clusterUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Copies the first instance's identity file into another instance's data directory (0600, as the hub requires). */
export function shareIdentity(fromDir, toDir) {
  mkdirSync(toDir, { recursive: true, mode: 0o700 });
  copyFileSync(path.join(fromDir, IDENTITY_FILE), path.join(toDir, IDENTITY_FILE));
}

let ticks;
/** Clock ticks per second for /proc/PID/stat times. */
function clkTck() {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime+stime (and with `children`, cutime+cstime of reaped children) of a process in seconds, or null if gone. */
export function procCpuSeconds(pid, { children = false } = {}) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state is field 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime, cutime, cstime] = [f[11], f[12], f[13], f[14]].map(Number);
    return (utime + stime + (children ? cutime + cstime : 0)) / clkTck();
  } catch {
    return null;
  }
}

/** Parent pid of a process, or null. */
function ppidOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** The postmaster of the PostgreSQL listening on `port` (found by its command line), or null. */
export function postmasterPid(port) {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('/postgres') && cmd.includes('-p') && cmd[cmd.indexOf('-p') + 1] === String(port))
        return Number(d);
      // pg_ctl passes the options as one string: "-c … -p PORT …"
      if (cmd[0]?.endsWith('/postgres') && cmd.some((a) => new RegExp(`(^|\\s)-p ${port}(\\s|$)`).test(a)))
        return Number(d);
    } catch {}
  }
  return null;
}

/**
 * CPU seconds of the whole PostgreSQL server: the postmaster with its reaped children (ended backends) plus every
 * live child (backends, background workers).
 */
export function postgresCpuSeconds(postmaster) {
  if (!postmaster || !existsSync(`/proc/${postmaster}`)) return null;
  let total = procCpuSeconds(postmaster, { children: true }) ?? 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || ppidOf(Number(d)) !== postmaster) continue;
    total += procCpuSeconds(Number(d)) ?? 0;
  }
  return total;
}

/**
 * CPU seconds used by a changing set of processes (hub instances get killed and restarted): samples every second
 * and right before a kill (`sampleNow`), sums each pid's last sample minus its first.
 */
export class CpuMeter {
  constructor(pids) {
    this.pids = pids; // () => number[]
    this.first = new Map();
    this.last = new Map();
    this.timer = null;
  }
  sampleNow() {
    for (const pid of this.pids()) {
      const s = procCpuSeconds(pid);
      if (s === null) continue;
      // A process first seen after the meter started was started in the window (a restart): all its time counts.
      if (!this.first.has(pid)) this.first.set(pid, this.timer === null ? s : 0);
      this.last.set(pid, s);
    }
  }
  start() {
    this.sampleNow();
    this.timer = setInterval(() => this.sampleNow(), 1000);
    return this;
  }
  stop() {
    this.sampleNow();
    clearInterval(this.timer);
    let total = 0;
    for (const [pid, s] of this.last) total += s - this.first.get(pid);
    return total;
  }
}

// Servers for the approval benches, each in its own child process so that the server and the load or agent in
// the bench process do not share an event loop (this box may have only two cores: one each).
import { fork, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/**
 * The real hub as a user runs it: `clawkeep hub --port 0 --data <fresh dir>`, on loopback, reading the URL and the
 * first enrollment code from its output (same as test/e2e/approvals.spec.ts, which keeps its helper private).
 * With `logFile`, its access log (JSON lines on stdout) is kept there, complete once `stop` resolved.
 */
export async function startCliHub({ logFile } = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'clawkeep-bench-hub-'));
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin/clawkeep.mjs'), 'hub', '--port', '0', '--data', dataDir],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  const onData = (chunk) => (out += chunk);
  child.stdout.on('data', onData);
  const started = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start: ${out}`)), 30_000);
    const check = () => {
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const code = /Enrollment code: (\S+)/.exec(out)?.[1];
      if (url && code) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve({ url, enrollmentCode: code });
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (c) => reject(new Error(`hub exited with ${c}: ${out}`)));
  });
  // The access log (JSON lines on stdout) keeps coming: keep draining it so the pipe never fills, without keeping it,
  // or into `logFile` (to time a bench's requests against the hub's own log).
  child.stdout.off('data', onData);
  const log = logFile ? child.stdout.pipe(createWriteStream(logFile)) : null;
  const logWritten = log ? new Promise((resolve) => log.once('close', resolve)) : Promise.resolve();
  if (!log) child.stdout.resume();
  return {
    ...started,
    child,
    stop: async () => {
      await stopChild(child);
      await logWritten;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Forks one of the small server scripts in this folder; it reports `{ url, ... }` over IPC once listening. With
 * `fdLimit`, it runs under `sh -c 'ulimit -n N; exec node …'` (the IPC channel survives the exec), for runs that
 * hold more sockets than a default limit allows; where the hard limit is lower, Node's own raise to it applies.
 */
async function forkServer(script, args, cleanup = () => {}, { fdLimit } = {}) {
  // stdout is the hub's access log: discarded by the OS, but still written, as it is in production.
  const file = path.join(ROOT, 'bench/lib', script);
  const stdio = ['ignore', 'ignore', 'inherit', 'ipc'];
  const child = fdLimit
    ? spawn(
        'sh',
        ['-c', `ulimit -n ${Number(fdLimit)} 2>/dev/null; exec "$@"`, 'sh', process.execPath, file, ...args],
        {
          cwd: ROOT,
          stdio,
        },
      )
    : fork(file, args, { cwd: ROOT, stdio });
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 30_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.once('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${c}`));
    });
  });
  const restart = () =>
    new Promise((resolve) => {
      child.once('message', resolve);
      child.send('restart');
    });
  return {
    ...info,
    child,
    restart,
    stop: async () => {
      await stopChild(child);
      cleanup();
    },
  };
}

/**
 * The real hub (hub/server.ts startHub, what `clawkeep hub` runs) in a child, plus `codes` more one-time enrollment
 * codes issued through its store the way test/unit/hub/flow.ts extraEnrollmentCode does (the CLI prints only the
 * first code and has no command for more). `restart()` restarts it on the same port and data directory. It reports its
 * `pid` too (the node process, also under `fdLimit`), for reading its memory.
 */
export function startHubProcess({ codes = 0, fdLimit } = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'clawkeep-bench-hub-'));
  return forkServer(
    'hub-process.mjs',
    [dataDir, String(codes)],
    () => rmSync(dataDir, { recursive: true, force: true }),
    { fdLimit },
  );
}

/** A bare Hono app on @hono/node-server with one JSON POST route (bare-server.mjs). */
export const startBareServer = () => forkServer('bare-server.mjs', []);

/** The floor of a durable signed intent: signature, nonce, intent and audit rows, group commit (floor-server.mjs). */
export const startFloorServer = () => forkServer('floor-server.mjs', []);

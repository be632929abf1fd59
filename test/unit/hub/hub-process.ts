import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach } from 'vitest';
import { BIN, ROOT } from './helpers';

const running: ChildProcess[] = [];
// Whatever a test started is gone after it, even when it failed half way.
afterEach(() => {
  for (const child of running.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts `clawkeep hub` on a free port and resolves with what it printed up to "listening on <url>". */
export function startHubProcess(dataDir: string): Promise<{ child: ChildProcess; url: string; out: string }> {
  const child = spawn(process.execPath, [BIN, 'hub', '--port', '0', '--data', dataDir], { cwd: ROOT });
  running.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, out });
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => reject(new Error(`hub exited ${code} before listening: ${out}${err}`)));
  });
}

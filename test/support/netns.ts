import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

/**
 * A network namespace for tests of a hub listening on a non-loopback address (issue 16): servers in tests run only
 * on loopback or inside a namespace the test created. The namespace gets one veth link to the test's own
 * namespace:
 *
 * ```text
 *   test process (host side: 10.77.N.2 and 10.77.N.3)  ──veth──  namespace (10.77.N.1: where the hub listens)
 * ```
 *
 * so the test reaches the hub at a real, non-loopback address, from two different source addresses (a "trusted
 * proxy" and "anyone else"). Processes run inside with `ip netns exec` (see `exec`), which also bind-mounts
 * `/etc/netns/<name>/hosts` over /etc/hosts: `hosts()` lets a CLI inside resolve `hub.test`.
 * Needs root and iproute2; create() says why when it cannot.
 */
export interface TestNetns {
  readonly name: string;
  /** The namespace's address: the hub listens here. */
  readonly inside: string;
  /** Two addresses of the test's side of the link. */
  readonly outside: readonly [string, string];
  /** argv for running `command` inside the namespace. */
  exec(command: string, args: readonly string[]): [string, string[]];
  /** Writes the namespace's /etc/hosts (seen by processes started with exec). */
  hosts(entries: Readonly<Record<string, string>>): void;
  remove(): void;
}

function ip(args: string[]): { ok: boolean; error: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, error: (r.stderr || r.error?.message || `exit ${r.status}`).trim() };
}

/** Creates the namespace and its link, or returns why not (then nothing is left behind). */
export function createTestNetns(): TestNetns | { unavailable: string } {
  if (process.getuid?.() !== 0) return { unavailable: 'creating a network namespace needs root' };
  // Per process: parallel test files get different names and subnets.
  const id = process.pid % 100_000;
  const subnet = `10.77.${(process.pid % 250) + 1}`;
  const name = `clawkeep-t${id}`;
  const hostIf = `ckh${id}`;
  const nsIf = `ckn${id}`;
  const etc = `/etc/netns/${name}`;
  const remove = () => {
    ip(['netns', 'delete', name]); // takes the veth pair with it
    ip(['link', 'delete', hostIf]);
    rmSync(etc, { recursive: true, force: true });
  };
  const inNs = (args: string[]) => ['netns', 'exec', name, 'ip', ...args];
  const steps: string[][] = [
    ['netns', 'add', name],
    ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf],
    ['link', 'set', nsIf, 'netns', name],
    ['addr', 'add', `${subnet}.2/24`, 'dev', hostIf],
    ['addr', 'add', `${subnet}.3/24`, 'dev', hostIf],
    ['link', 'set', hostIf, 'up'],
    inNs(['addr', 'add', `${subnet}.1/24`, 'dev', nsIf]),
    inNs(['link', 'set', nsIf, 'up']),
    inNs(['link', 'set', 'lo', 'up']),
  ];
  for (const step of steps) {
    const r = ip(step);
    if (!r.ok) {
      remove();
      return { unavailable: `\`ip ${step.join(' ')}\` failed: ${r.error}` };
    }
  }
  return {
    name,
    inside: `${subnet}.1`,
    outside: [`${subnet}.2`, `${subnet}.3`],
    exec: (command, args) => ['ip', ['netns', 'exec', name, command, ...args]],
    hosts(entries) {
      mkdirSync(etc, { recursive: true });
      const lines = ['127.0.0.1 localhost', ...Object.entries(entries).map(([host, addr]) => `${addr} ${host}`)];
      writeFileSync(`${etc}/hosts`, `${lines.join('\n')}\n`);
    },
    remove,
  };
}

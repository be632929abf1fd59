// @vitest-environment node
// A hub reachable from the network (issue 16, "Reachable"), as a real `clawkeep hub` process listening on a
// non-loopback address inside a network namespace this test creates (test/support/netns.ts), with a test CA's
// certificate for hub.test and that address, and the public origin https://hub.test:8443:
// - it answers at its public origin over TLS, and explains any other origin (the bind address) instead of failing
//   signatures later;
// - SIGHUP swaps the certificate, and a bad pair keeps the one in use;
// - forwarded client addresses count from the trusted proxy's address only;
// - Must-show 2: the same agent registered with the bind address instead of the public origin gets
//   "this hub is https://hub.test:8443; you used https://<bind address>:8443" from the CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signKeyBinding } from '../../../lib/protocol/key-binding';
import { encodePublicKey } from '../../../lib/protocol/keys';
import { call, type CallOptions } from '../../support/https-client';
import { createTestNetns, type TestNetns } from '../../support/netns';
import { createTestCa, type TestCa, type TestLeaf } from '../../support/test-ca';
import { BIN, ROOT } from './helpers';

const PORT = 8443;
const PUBLIC = `https://hub.test:${PORT}`;

const created = createTestNetns();
const unavailable = 'unavailable' in created ? created.unavailable : null;
const ns = created as TestNetns;
// CI runs as root and can always make a namespace: there a missing one is a failure, never a silent skip.
if (unavailable !== null && process.env.CI) throw new Error(`no network namespace in CI: ${unavailable}`);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `clawkeep ARGS` inside the namespace (where hub.test resolves), trusting the test CA. */
function clawkeepInNs(args: string[], caFile: string): Promise<Run> {
  const [cmd, argv] = ns.exec(process.execPath, [BIN, ...args]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(unavailable !== null)(
  `a hub on a non-loopback address${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    let ca: TestCa;
    let leaves: TestLeaf[];
    let dir: string;
    let hub: ChildProcess;
    let hubOut = '';
    let bind: string;
    let tls: CallOptions;

    beforeAll(async () => {
      ca = createTestCa();
      leaves = [1, 2, 3].map(() => ca.issue({ names: ['hub.test'], ips: [ns.inside] }));
      dir = mkdtempSync(path.join(tmpdir(), 'clawkeep-reachable-'));
      copyFileSync(leaves[0]!.certFile, path.join(dir, 'hub.crt'));
      copyFileSync(leaves[0]!.keyFile, path.join(dir, 'hub.key'));
      ns.hosts({ 'hub.test': ns.inside });
      bind = `https://${ns.inside}:${PORT}`;
      tls = { ca: ca.caCert, resolve: { 'hub.test': ns.inside } };
      // prettier-ignore
      const [cmd, argv] = ns.exec(process.execPath, [BIN, 'hub', '--listen', `${ns.inside}:${PORT}`,
        '--public-origin', PUBLIC, '--tls-cert', path.join(dir, 'hub.crt'), '--tls-key', path.join(dir, 'hub.key'),
        '--trusted-proxy', ns.outside[1], '--data', path.join(dir, 'data')]);
      hub = spawn(cmd, argv, { cwd: ROOT });
      await new Promise<void>((resolve, reject) => {
        hub.stdout!.on('data', (d) => {
          hubOut += d;
          if (hubOut.includes(`listening on ${bind}`)) resolve();
        });
        hub.stderr!.on('data', (d) => (hubOut += d));
        hub.on('close', (code) => reject(new Error(`hub exited ${code}: ${hubOut}`)));
      });
    }, 60_000);

    afterAll(async () => {
      if (hub && hub.exitCode === null) {
        const exited = new Promise((r) => hub.once('exit', r));
        hub.kill('SIGTERM');
        await exited;
      }
      ca?.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
      ns.remove();
    }, 30_000);

    it('answers at its public origin with the test CA certificate, and explains the bind address', async () => {
      expect(hubOut).toContain(`public origin: ${PUBLIC} (clients must use this URL)`);
      expect(hubOut).toContain(`TLS certificate serial ${leaves[0]!.serial}`);
      const res = await call(`${PUBLIC}/v1/health`, tls);
      expect(res.status).toBe(200);
      expect(res.serial).toBe(leaves[0]!.serial);
      expect(JSON.parse(res.body)).toMatchObject({ ok: true, origin: PUBLIC });
      const atBind = await call(`${bind}/v1/health`, tls);
      expect(atBind.status).toBe(421);
      expect(JSON.parse(atBind.body).error).toMatchObject({
        code: 'wrong_hub_origin',
        message: `this hub is ${PUBLIC}; you used ${bind}`,
        hub_origin: PUBLIC,
      });
    });

    it('counts forwarded client addresses from the trusted proxy address only', async () => {
      const register = async (localAddress: string, xff: string) => {
        const seed = ed25519.utils.randomSecretKey();
        const signing_key = encodePublicKey(ed25519.getPublicKey(seed));
        const box_key = encodePublicKey(x25519.getPublicKey(x25519.utils.randomSecretKey()));
        // prettier-ignore
        const body = JSON.stringify({ name: 'bot', signing_key, box_key, manifest: { markdown: '# bot' }, requested_scopes: [],
          key_binding: signKeyBinding(seed, { hub: PUBLIC, role: 'agent', signing_key, box_key, name: 'bot', time: Date.now() }) });
        const headers = { 'content-type': 'application/json', 'x-forwarded-for': xff };
        return (await call(`${PUBLIC}/v1/agents`, { ...tls, method: 'POST', localAddress, headers, body })).status;
      };
      const [other, proxy] = ns.outside;
      const viaProxy: number[] = [];
      for (let i = 1; i <= 11; i++) viaProxy.push(await register(proxy, `198.51.100.${i}`));
      expect(viaProxy).toEqual(Array(11).fill(201));
      const direct: number[] = [];
      for (let i = 1; i <= 11; i++) direct.push(await register(other, `198.51.100.${50 + i}`));
      expect(direct.slice(0, 10)).toEqual(Array(10).fill(201));
      expect(direct.at(-1)).toBe(429);
    }, 30_000);

    it('Must-show 2: the agent registered with the bind address gets the mismatch message; with the public origin it registers', async () => {
      const manifest = path.join(dir, 'bot.md');
      writeFileSync(manifest, '# bot\n');
      const wrongState = path.join(dir, 'wrong.json');
      const wrong = await clawkeepInNs(
        ['agent', 'register', '--hub', bind, '--name', 'bot', '--manifest', manifest, '--state', wrongState],
        ca.caCertFile,
      );
      expect(wrong.stderr).toContain(
        `clawkeep agent register: this hub is ${PUBLIC}; you used ${bind} (wrong_hub_origin)`,
      );
      expect(wrong.stderr).not.toContain('auth_bad_signature');
      expect(wrong.code).toBe(2);
      expect(existsSync(wrongState)).toBe(false);

      const state = path.join(dir, 'agent.json');
      const right = await clawkeepInNs(
        ['agent', 'register', '--hub', PUBLIC, '--name', 'bot', '--manifest', manifest, '--state', state],
        ca.caCertFile,
      );
      expect(right.stderr).toBe('');
      expect(right.stdout).toContain(`Registered agent "bot"`);
      expect(right.stdout).toContain(`with ${PUBLIC}.`);
      expect(right.code).toBe(0);

      // The same agent pointed at the bind address later (a state file edited, a config copied): explained too,
      // not "this is not the hub this agent registered with".
      const moved = path.join(dir, 'moved.json');
      writeFileSync(moved, JSON.stringify({ ...JSON.parse(readFileSync(state, 'utf8')), hub: bind }), { mode: 0o600 });
      const status = await clawkeepInNs(['agent', 'status', '--state', moved], ca.caCertFile);
      expect(status.stderr).toContain(
        `clawkeep agent status: this hub is ${PUBLIC}; you used ${bind} (wrong_hub_origin)`,
      );
      expect(status.code).toBe(2);
    }, 60_000);

    it('SIGHUP swaps the certificate; a bad pair keeps the one in use and the log says why', async () => {
      const served = async () => (await call(`${PUBLIC}/v1/health`, tls)).serial;
      copyFileSync(leaves[1]!.certFile, path.join(dir, 'hub.crt'));
      copyFileSync(leaves[1]!.keyFile, path.join(dir, 'hub.key'));
      hub.kill('SIGHUP');
      // The reload runs when the hub's event loop takes the signal: poll (bounded) for its log line, then check.
      const waitFor = async (text: string, from: number) => {
        for (let i = 0; i < 200 && !hubOut.slice(from).includes(text); i++) await new Promise((r) => setTimeout(r, 50));
        expect(hubOut.slice(from)).toContain(text);
      };
      let mark = hubOut.length;
      await waitFor('"event":"tls_reloaded"', mark);
      expect(await served()).toBe(leaves[1]!.serial);

      copyFileSync(leaves[2]!.certFile, path.join(dir, 'hub.crt'));
      mark = hubOut.length;
      hub.kill('SIGHUP');
      await waitFor('"event":"tls_reload_failed"', mark);
      expect(hubOut.slice(mark)).toContain('is not the key of the certificate');
      expect(await served()).toBe(leaves[1]!.serial);
      expect(hub.exitCode).toBeNull();
      expect(hubOut).not.toContain('PRIVATE KEY');
    }, 30_000);
  },
);

// Starts a real OpenClaw gateway for tests, in a fresh temp state dir, bound to loopback on a free port, with token
// auth, no bonjour/auto-update/channels/cron, exec on the gateway host in `ask` mode, and a scripted mock model
// (mock-model.mjs) as its only provider. Everything started is tracked by PID and killed in stop() (SIGTERM, then
// SIGKILL after a grace period), also when this process exits or gets SIGINT/SIGTERM.
// Isolation: loopback binding + env flags (no network namespace: the test process must reach the gateway's
// loopback, so both stay in the host namespace).
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureInstall } from './install.mjs';
import { startMockModel } from './mock-model.mjs';

const GRACE_MS = 5000;
/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();
/** Temp state dirs still to remove. @type {Set<string>} */
const roots = new Set();
let hooked = false;

function killGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the whole group: the gateway spawns git/npm children
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}

function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) killGroup(c, 'SIGKILL');
    for (const r of roots) {
      try {
        rmSync(r, { recursive: true, force: true });
      } catch {}
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      for (const c of live) killGroup(c, 'SIGKILL');
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    live.delete(child);
    return;
  }
  const exited = new Promise((r) => child.once('exit', r));
  try {
    child.kill('SIGTERM'); // the gateway itself first: it shuts its own children down
  } catch {}
  const t = setTimeout(() => killGroup(child, 'SIGKILL'), GRACE_MS);
  await exited;
  clearTimeout(t);
  try {
    process.kill(-child.pid, 'SIGKILL'); // leftovers in its group (git/npm children)
  } catch {}
  live.delete(child);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * `autoApproveLocalPairing: false` turns off the gateway's silent pairing of local clients
 * (gateway.nodes.pairing.autoApproveLocal), so a new device must be approved with `openclaw devices approve`.
 * @param {{ allowedOrigins?: string[], autoApproveLocalPairing?: boolean, command?: string, startTimeoutMs?: number, log?: (s: string) => void }} [opts]
 */
export async function startOpenClaw(opts = {}) {
  hookExit();
  const log = opts.log ?? ((s) => process.stderr.write(`${s}\n`));
  const inst = ensureInstall({ log: () => {} });
  const root = mkdtempSync(join(tmpdir(), 'clawkeep-oc-'));
  roots.add(root);
  const home = join(root, 'home');
  const stateDir = join(root, 'state');
  mkdirSync(home, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const configPath = join(stateDir, 'openclaw.json');
  const token = randomBytes(24).toString('base64url');
  const port = await freePort();
  const mock = await startMockModel({ command: opts.command });

  const env = {
    ...process.env,
    PATH: `${inst.nodeBinDir}:${process.env.PATH}`,
    HOME: home,
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_CONFIG_PATH: configPath,
    OPENCLAW_DISABLE_BONJOUR: '1',
    OPENCLAW_NO_AUTO_UPDATE: '1',
    OPENCLAW_SKIP_CHANNELS: '1',
    OPENCLAW_NO_RESPAWN: '1',
    OPENCLAW_EXEC_SHELL_SNAPSHOT: '0',
    OPENCLAW_SKIP_CRON: '1',
    NO_COLOR: '1',
  };
  delete env.OPENCLAW_GATEWAY_PORT;
  delete env.OPENCLAW_GATEWAY_TOKEN;
  delete env.NODE_OPTIONS; // vitest may set loaders for Node 20 that Node 24 must not see

  const config = {
    gateway: {
      mode: 'local',
      bind: 'loopback',
      port,
      auth: { mode: 'token', token },
      ...(opts.allowedOrigins?.length ? { controlUi: { allowedOrigins: opts.allowedOrigins } } : {}),
      ...(opts.autoApproveLocalPairing === false ? { nodes: { pairing: { autoApproveLocal: false } } } : {}),
    },
    update: { checkOnStart: false },
    discovery: { mdns: { mode: 'off' } },
    models: {
      providers: {
        mock: {
          baseUrl: mock.url,
          api: 'openai-completions',
          apiKey: 'mock-api-key',
          models: [{ id: 'mock', name: 'Mock', contextWindow: 128000, maxTokens: 4096 }],
        },
      },
    },
    agents: { defaults: { model: { primary: 'mock/mock' } } },
    tools: { exec: { host: 'gateway', mode: 'ask' } },
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });

  /** Runs the openclaw CLI with the gateway's env. Never logs its output. */
  function openclaw(args, { timeoutMs = 60000 } = {}) {
    return new Promise((resolve) => {
      const child = execFile(
        inst.node,
        [inst.bin, ...args],
        { env, cwd: home, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, detached: true },
        (err, stdout, stderr) => {
          live.delete(child);
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
        },
      );
      live.add(child);
    });
  }

  const children = [];
  let output = '';
  async function stop() {
    for (const c of children) await stopChild(c);
    await mock.close();
    try {
      rmSync(root, { recursive: true, force: true });
    } catch {}
    roots.delete(root);
  }

  try {
    const v = await openclaw(['config', 'validate']);
    if (v.code !== 0) throw new Error(`openclaw config validate failed:\n${redact(v.stdout + v.stderr, token)}`);

    const t0 = Date.now();
    const gw = spawn(inst.node, [inst.bin, 'gateway', 'run', '--verbose'], {
      env,
      cwd: home,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(gw);
    children.push(gw);
    const keep = (b) => {
      output = (output + b.toString()).slice(-64 * 1024);
    };
    gw.stdout.on('data', keep);
    gw.stderr.on('data', keep);
    const deadline = t0 + (opts.startTimeoutMs ?? 60000);
    while (!(await canConnect(port))) {
      if (gw.exitCode !== null || gw.signalCode !== null)
        throw new Error(`gateway exited (${gw.exitCode ?? gw.signalCode}):\n${redact(output, token)}`);
      if (Date.now() > deadline)
        throw new Error(`gateway did not listen within the timeout:\n${redact(output, token)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const listenMs = Date.now() - t0;
    // Listening is not ready: connects get UNAVAILABLE "startup-sidecars" until /readyz says 200.
    while (!(await isReady(port))) {
      if (gw.exitCode !== null || gw.signalCode !== null)
        throw new Error(`gateway exited (${gw.exitCode ?? gw.signalCode}):\n${redact(output, token)}`);
      if (Date.now() > deadline) throw new Error(`gateway not ready within the timeout:\n${redact(output, token)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const startMs = Date.now() - t0;
    log(`[openclaw] gateway on 127.0.0.1:${port}: listening after ${listenMs} ms, ready after ${startMs} ms`);
    return {
      gatewayUrl: `ws://127.0.0.1:${port}`,
      port,
      token,
      stateDir,
      configPath,
      listenMs,
      startMs,
      mock: { url: mock.url, requests: mock.requests, setCommand: mock.setCommand },
      openclaw,
      /** The gateway's recent stdout+stderr, with the token masked. */
      logs: () => redact(output, token),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function isReady(port) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

function redact(s, token) {
  return s.split(token).join('<token>');
}

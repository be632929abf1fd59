// @vitest-environment node
// Issue 13 item 15: `npm start` must not move the hub or the web vault to another port when the default one is
// taken (a squatter there would stay "the hub"). The real scripts/start.mjs runs against a real listener on
// 127.0.0.1; its port check comes before any install or build, so this needs no build.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const START = path.resolve(__dirname, '../../../scripts/start.mjs');

function listen(port = 0): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((s) => s.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

/** A port nothing listens on now (bound, then released). */
async function freePort(): Promise<number> {
  const s = await listen();
  const port = portOf(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function runStart(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const base = { ...process.env };
    delete base.PORT;
    delete base.HUB_PORT;
    const child = spawn(process.execPath, [START, ...args], {
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    // Were the check missing, start.mjs would go on to install and build: stop it rather than wait minutes.
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => (clearTimeout(guard), resolve({ code, stdout, stderr })));
  });
}

let squatter: net.Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (squatter ? squatter.close(() => r()) : r()));
  squatter = undefined;
});

describe('npm start with a taken port', () => {
  it('a squatter on the hub port makes it fail clearly instead of moving the hub, and nothing starts', async () => {
    squatter = await listen();
    const hubPort = portOf(squatter);
    const webPort = await freePort();
    const { code, stdout, stderr } = await runStart(['--port', String(webPort), '--hub-port', String(hubPort)]);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull(); // exited by itself, not killed by the guard
    expect(stderr).toContain(`port ${hubPort} for the hub on 127.0.0.1 is already in use`);
    // Names what holds it (this test process) when it can tell, and how to choose another port.
    expect(stderr).toContain(`pid ${process.pid}`);
    expect(stderr).toContain('--hub-port');
    expect(stderr).toContain('HUB_PORT=');
    expect(stdout).not.toMatch(/using a free port|Clawkeep is running|building/);
    expect(await isListening(webPort)).toBe(false);
  }, 30_000);

  it('a squatter on the web vault port (given by PORT) fails the same way, naming --port', async () => {
    squatter = await listen();
    const webPort = portOf(squatter);
    const hubPort = await freePort();
    const { code, stderr } = await runStart(['--hub-port', String(hubPort)], { PORT: String(webPort) });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stderr).toContain(`port ${webPort} for the web vault on 127.0.0.1 is already in use`);
    expect(stderr).toContain('npm start -- --port <port>');
    expect(await isListening(hubPort)).toBe(false);
  }, 30_000);
});

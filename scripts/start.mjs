#!/usr/bin/env node
// `npm start [-- --port N] [--hub-port N]`: install if needed, build both extensions and the web vault, serve the
// web vault and run the hub on 127.0.0.1, and say where everything is. Ctrl-C stops every service. Node builtins only.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, bin, ensureDeps, run } from './lib/ensure.mjs';
import { assertPortFree, portTakenError } from './lib/ports.mjs';

const DEFAULT_WEB_PORT = 5178;
const DEFAULT_HUB_PORT = 8787;
/** The hub's database lives in the checkout (gitignored), so it survives restarts of `npm start`. */
const HUB_DATA_DIR = path.join(ROOT, '.clawkeep', 'hub');

const BUILDS = [
  { name: 'Chrome extension', cmd: bin('wxt'), args: ['build'] },
  { name: 'Firefox extension', cmd: bin('wxt'), args: ['build', '-b', 'firefox'] },
  { name: 'web vault', cmd: bin('vite'), args: ['build', '-c', 'vite.web.config.ts'] },
];

/**
 * Starts `node bin/clawkeep.mjs <args>` and resolves once it prints `listening on <url>`, with everything it
 * printed up to there (`out`). Rejects with the child's stderr if it exits first.
 */
function startListening(name, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'clawkeep.mjs'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let url = null;
    child.stdout.on('data', (chunk) => {
      if (url) return void process.stdout.write(`[${name}] ${chunk}`);
      out += chunk;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve({ child, url: (url = m[1]), out });
    });
    child.stderr.on('data', (chunk) => {
      if (url) process.stderr.write(`[${name}] ${chunk}`);
      else err += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!url) reject(Object.assign(new Error(`${name} exited with code ${code}: ${err.trim()}`), { stderr: err }));
    });
  });
}

/**
 * Starts a service on exactly `port`. A taken port is an error naming the port, its holder and the flag to choose
 * another (issue 13 item 15), never a silent move to a free port: a squatter on the default port would otherwise
 * become the hub everyone was told about.
 */
async function startOnPort(name, service, port, flag, env, argsFor) {
  try {
    return await startListening(name, argsFor(port));
  } catch (err) {
    if (port !== 0 && /EADDRINUSE/.test(err.stderr ?? '')) throw portTakenError(service, port, flag, env);
    throw err;
  }
}

/** Long-running services. Each `start` resolves with `{ child, url, out }`. */
function services(webPort, hubPort, running) {
  return [
    {
      name: 'web vault',
      start: () =>
        startOnPort('web', 'web vault', webPort, '--port', 'PORT', (port) => ['web', '--port', String(port)]),
    },
    {
      name: 'hub',
      start: () =>
        // The web vault (started first) joins as a device from its page, so the hub answers CORS for its origin only.
        startOnPort('hub', 'hub', hubPort, '--hub-port', 'HUB_PORT', (port) => [
          'hub',
          '--port',
          String(port),
          '--data',
          HUB_DATA_DIR,
          '--allow-origin',
          new URL(running.find((s) => s.name === 'web vault').url).origin,
        ]),
    },
  ];
}

function checkPort(flag, raw) {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    console.error(`[start] ${flag} must be 0-65535, got "${raw}"`);
    process.exit(2);
  }
  return Number(raw);
}

function parsePorts() {
  const { values } = parseArgs({ options: { port: { type: 'string' }, 'hub-port': { type: 'string' } }, strict: true });
  return {
    webPort: checkPort('port', values.port ?? process.env.PORT ?? String(DEFAULT_WEB_PORT)),
    hubPort: checkPort('hub port', values['hub-port'] ?? process.env.HUB_PORT ?? String(DEFAULT_HUB_PORT)),
  };
}

async function main() {
  const { webPort, hubPort } = parsePorts();
  // Before installing or building anything (minutes): a taken port fails now, with nothing started.
  await assertPortFree('web vault', webPort, '--port', 'PORT');
  await assertPortFree('hub', hubPort, '--hub-port', 'HUB_PORT');
  await ensureDeps();
  for (const b of BUILDS) {
    console.log(`\n[start] building the ${b.name}`);
    const { code } = await run(b.cmd, b.args);
    if (code !== 0) throw new Error(`building the ${b.name} failed (exit ${code}); see the output above`);
  }

  const running = [];
  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    console.log('\n[start] stopping');
    await Promise.all(
      running.map(
        ({ child }) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', resolve);
            child.kill('SIGTERM');
          }),
      ),
    );
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  for (const service of services(webPort, hubPort, running)) {
    let started;
    try {
      started = await service.start();
    } catch (err) {
      // Do not leave the services that did start running without us.
      console.error(`[start] ${err.message}`);
      return stop(1);
    }
    running.push({ name: service.name, ...started });
    started.child.on('exit', (code) => {
      // Ctrl-C reaches the whole process group, so a child may exit a moment before our own SIGINT handler runs.
      setTimeout(() => {
        if (stopping) return;
        console.error(`[start] ${service.name} stopped unexpectedly (exit ${code})`);
        void stop(1);
      }, 250);
    });
  }

  const web = running.find((s) => s.name === 'web vault');
  const hub = running.find((s) => s.name === 'hub');
  // Printed by the hub on the first start of an empty database only; it is not stored anywhere in the clear.
  const enrollment = /^Enrollment code: (\S+)/m.exec(hub.out)?.[1];
  console.log(`
Clawkeep is running.

  Web vault:  ${web.url}/
  Hub:        ${hub.url}  (data: ${HUB_DATA_DIR})${enrollment ? `\n  Enrollment code: ${enrollment}  (shown once)` : ''}

  Chrome:   chrome://extensions -> Developer mode -> Load unpacked ->
            ${path.join(ROOT, '.output', 'chrome-mv3')}
  Firefox:  about:debugging -> This Firefox -> Load Temporary Add-on... ->
            ${path.join(ROOT, '.output', 'firefox-mv2', 'manifest.json')}

Press Ctrl-C to stop.`);
}

main().catch((err) => {
  console.error(`[start] ${err.message}`);
  process.exit(1);
});

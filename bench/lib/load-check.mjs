// End-of-run checks and summaries for the load harness (bench/hub-load.mjs):
//  - invariants, from three independent records: what the agents were told (201s, executes they saw succeed), the
//    hub's database (each intent's row, read through the store port read-only), and the audit log (every
//    intent.create / intent.approve / intent.execute row, scanned in seq order);
//  - `clawkeep audit verify --data … --store …`, the operator's own check of the hash chain, as a child process;
//  - a per-route summary of the hubs' access logs (JSON lines with duration_ms) and of CPU profiles
//    (`node --cpu-prof`), for "where does the time go".
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { accessLogRequests } from './access-log.mjs';
import { routeKey } from './load-net.mjs';
import { percentile } from './stats.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * @param {object} o
 * @param {Map<string, number>} o.acked  intent id → when the agent got its 201 (wall ms)
 * @param {Set<string>} o.executedByAgents  intents whose execute the agents saw succeed
 * @param {string[]} o.executedTwiceByAgents  intents an agent saw executed more than once
 */
export async function checkInvariants({ lib, storeLocation, acked, executedByAgents, executedTwiceByAgents }) {
  const store = await lib.openStore(storeLocation, { readonly: true });
  try {
    const audit = new Map(); // intent id → { create, approve, deny, execute, expire }
    let auditRows = 0;
    for await (const row of store.audit.scan()) {
      auditRows++;
      if (!row.resource?.startsWith('intent:')) continue;
      const id = row.resource.slice('intent:'.length);
      const action = row.action.replace(/^intent\./, '');
      const c = audit.get(id) ?? {};
      c[action] = (c[action] ?? 0) + 1;
      audit.set(id, c);
    }
    const ids = new Set([...acked.keys(), ...[...audit].filter(([, c]) => c.create).map(([id]) => id)]);
    const lost = [];
    const approvedUnexecuted = [];
    const executedTwice = new Set(executedTwiceByAgents);
    const executedWithoutAudit = [];
    const executedUnseen = [];
    const status = {};
    for (const id of ids) {
      const intent = await store.intents.get(id);
      if (!intent) {
        if (acked.has(id)) lost.push(id);
        continue;
      }
      const s = intent.executedAt !== null ? 'executed' : intent.status;
      status[s] = (status[s] ?? 0) + 1;
      const a = audit.get(id) ?? {};
      if ((a.execute ?? 0) > 1) executedTwice.add(id);
      if (intent.status === 'approved' && intent.executedAt === null) approvedUnexecuted.push(id);
      if (intent.executedAt !== null && !a.execute) executedWithoutAudit.push(id);
      if (intent.executedAt !== null && !executedByAgents.has(id)) executedUnseen.push(id);
    }
    return {
      intentsInDb: ids.size,
      auditRows,
      status,
      acknowledged: acked.size,
      createdUnacknowledged: [...ids].filter((id) => !acked.has(id)).length,
      lost: lost.length,
      executedTwice: executedTwice.size,
      approvedUnexecuted: approvedUnexecuted.length,
      executedWithoutAudit: executedWithoutAudit.length,
      executedAnswerLost: executedUnseen.length,
      examples: { lost: lost.slice(0, 3), approvedUnexecuted: approvedUnexecuted.slice(0, 3) },
    };
  } finally {
    await store.close();
  }
}

/** `clawkeep audit verify --data DIR --store STORE`: its exit code and last line. */
export function auditVerify(dataDir, store) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin/clawkeep.mjs'), 'audit', 'verify', '--data', dataDir, '--store', store],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output: out.trim().split('\n').slice(-1)[0] ?? '' });
    });
  });
}

/** Per route (ids replaced): requests, total and p95 of the hub's own duration_ms, statuses. Busiest first. */
export function summarizeAccessLogs(files) {
  const routes = new Map();
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const r of accessLogRequests(text)) {
      const key = routeKey(r.method, r.path);
      const e = routes.get(key) ?? { route: key, n: 0, totalMs: 0, ms: [], statuses: {} };
      e.n++;
      e.totalMs += r.duration_ms;
      if (e.ms.length < 200_000) e.ms.push(r.duration_ms);
      e.statuses[r.status] = (e.statuses[r.status] ?? 0) + 1;
      routes.set(key, e);
    }
  }
  return [...routes.values()]
    .map(({ ms, ...e }) => ({ ...e, totalMs: Math.round(e.totalMs), p50: percentile(ms, 50), p95: percentile(ms, 95) }))
    .sort((a, b) => b.totalMs - a.totalMs);
}

/** Where a sampled function lives, in a few coarse buckets. */
function bucket(url, name) {
  if (!url) return name.startsWith('(') ? name : 'node internals / native';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  const rel = url.replace(/^file:\/\//, '').replace(ROOT, '');
  return rel.split('/').slice(0, 2).join('/');
}

/**
 * Self time in every `.cpuprofile` in `dir` (`node --cpu-prof` writes one per process that exits normally, named
 * …PID…), counting only samples between `from` and `to` (wall ms): a profile's clock starts about when its
 * process was spawned (`spawnedAt`: pid → wall ms), so startup (module compilation) and shutdown are left out. The
 * top `top` by package and by function.
 */
export function summarizeCpuProfiles(dir, { from, to, spawnedAt }, top = 15) {
  let files;
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return null;
  }
  const byBucket = new Map();
  const byFn = new Map();
  let total = 0;
  let used = 0;
  for (const f of files) {
    const pid = Number(/\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(f)?.[1]);
    const spawned = spawnedAt.get(pid);
    if (spawned === undefined) continue;
    used++;
    const p = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    let t = spawned;
    for (let i = 0; i < p.samples.length; i++) {
      const dt = (p.timeDeltas[i] ?? 0) / 1000;
      t += dt;
      const n = nodes.get(p.samples[i]);
      if (!n || dt <= 0 || t < from || t > to) continue;
      const { functionName, url, lineNumber } = n.callFrame;
      const name = functionName || '(anonymous)';
      if (name === '(idle)') continue;
      total += dt;
      const b = bucket(url, name);
      byBucket.set(b, (byBucket.get(b) ?? 0) + dt);
      const where = url ? `${url.replace(/^file:\/\//, '').replace(ROOT, '')}:${lineNumber + 1}` : '';
      const k = `${name} ${where}`.trim();
      byFn.set(k, (byFn.get(k) ?? 0) + dt);
    }
  }
  const topOf = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => ({ what: k, ms: Math.round(ms), share: ms / total }));
  return { profiles: used, busyMs: Math.round(total), buckets: topOf(byBucket), functions: topOf(byFn) };
}

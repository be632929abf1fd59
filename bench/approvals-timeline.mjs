// Where an approval's time goes, from the hub's own access log: runs bench/approvals-latency.mjs with the CLI hub's
// log kept (BENCH_HUB_LOG), then for each approval prints, in wall-clock ms after the Approve click: when the hub
// started the decision request, how long its route took, and when the agent saw the decision. A diagnosis, not a
// benchmark: `node bench/approvals-timeline.mjs` (BENCH_APPROVALS, BENCH_APPROVALS_AGENT as for the bench).
// The log's times have millisecond resolution; page and Node clocks agree within the bench's printed bound.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { percentile } from './lib/stats.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'clawkeep-timeline-'));
const log = path.join(dir, 'hub.log');
process.env.BENCH_HUB_LOG = log;
try {
  const { benchApprovalsLatency } = await import('./approvals-latency.mjs');
  const r = await benchApprovalsLatency({ extensionDir: path.resolve('.output/chrome-mv3') });
  const lines = readFileSync(log, 'utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    })
    .filter((l) => l.event === 'request');
  const rows = r.runs.flatMap((run) => {
    const decision = lines.find(
      (l) => l.method === 'POST' && l.path === `/v1/intents/${run.intentId}/decision` && l.status === 200,
    );
    if (!decision) return [];
    const end = Date.parse(decision.time);
    const start = end - decision.duration_ms;
    return [{ toHub: start - run.clickAt, route: decision.duration_ms, toAgent: run.seenAt - end, seen: run.seenMs }];
  });
  const p = (k, q) =>
    percentile(
      rows.map((x) => x[k]),
      q,
    ).toFixed(1);
  console.log(`${rows.length} approvals; agent GET round trip p50 ${r.getP50.toFixed(1)} ms`);
  console.log('ms after the click                       p50     p95');
  console.log(`decision request starts at the hub   ${p('toHub', 50).padStart(7)} ${p('toHub', 95).padStart(7)}`);
  console.log(`the hub's decision route             ${p('route', 50).padStart(7)} ${p('route', 95).padStart(7)}`);
  console.log(`route end -> the agent has it        ${p('toAgent', 50).padStart(7)} ${p('toAgent', 95).padStart(7)}`);
  console.log(`click -> the agent has it            ${p('seen', 50).padStart(7)} ${p('seen', 95).padStart(7)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

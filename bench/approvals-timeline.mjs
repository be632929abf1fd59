// Where an approval's time goes: runs bench/approvals-latency.mjs and prints its split at the hub (from the hub's own
// access log, see splitAtHub there) in wall-clock ms after the Approve click: when the decision request reached the
// hub's route, how long the route took, and when the agent had the decision after it. A diagnosis, not a benchmark
// (`npm run bench` prints the same split): `node bench/approvals-timeline.mjs` (BENCH_APPROVALS,
// BENCH_APPROVALS_AGENT as for the bench).
import path from 'node:path';
import { benchApprovalsLatency } from './approvals-latency.mjs';

const r = await benchApprovalsLatency({ extensionDir: path.resolve('.output/chrome-mv3') });
if (!r.split) throw new Error('no decision request in the hub log');
const cell = (x) => x.toFixed(1).padStart(7);
console.log(`${r.split.n} approvals; agent GET round trip p50 ${r.getP50.toFixed(1)} ms`);
console.log('ms after the click                       p50     p95');
console.log(`decision request reaches the hub's route ${cell(r.split.toHub.p50)} ${cell(r.split.toHub.p95)}`);
console.log(`the hub's decision route                 ${cell(r.split.route.p50)} ${cell(r.split.route.p95)}`);
console.log(`route end -> the agent has it            ${cell(r.split.toAgent.p50)} ${cell(r.split.toAgent.p95)}`);
console.log(`click -> the agent has it                ${cell(r.seenP50)} ${cell(r.seenP95)}`);

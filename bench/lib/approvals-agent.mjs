// One agent (lib/agent AgentClient, the SDK) in its own process, for bench/approvals-latency.mjs with
// BENCH_APPROVALS_AGENT=process: as deployed, the agent's event loop is not the one that also drives Chromium
// through Playwright. Each IPC message {id, op, args} gets {id, ok, value} or {id, ok: false, error}. Times are read
// here, on this process's clock (performance.timeOrigin + now(), the system clock, as in the parent).
import { timedAgentOps } from './approvals-agent-ops.mjs';
import { importTs } from './ts.mjs';

const [{ AgentClient }] = await importTs('lib/agent/index.ts');
const agent = new AgentClient({ fetch: (url, init) => fetch(url, init) });

const ops = timedAgentOps(agent);

process.on('message', async ({ id, op, args }) => {
  try {
    process.send({ id, ok: true, value: await ops[op](...args) });
  } catch (err) {
    process.send({ id, ok: false, error: String(err?.message ?? err) });
  }
});
process.send({ ready: true });

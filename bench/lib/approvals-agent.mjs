// One agent (lib/agent AgentClient, the SDK) in its own process, for bench/approvals-latency.mjs with
// BENCH_APPROVALS_AGENT=process: as deployed, the agent's event loop is not the one that also drives Chromium
// through Playwright. Each IPC message {id, op, args} gets {id, ok, value} or {id, ok: false, error}. Times are read
// here, on this process's clock (performance.timeOrigin + now(), the system clock, as in the parent).
import { wallMs } from './stats.mjs';
import { importTs } from './ts.mjs';

const [{ AgentClient }] = await importTs('lib/agent/index.ts');
const agent = new AgentClient({ fetch: (url, init) => fetch(url, init) });

const ops = {
  register: (opts) => agent.register(opts),
  status: () => agent.status(),
  /** createIntent, with the wall time just before it and its round trip. */
  create: async (req) => {
    const t0 = wallMs();
    const intent = await agent.createIntent(req);
    return { intent, t0, createMs: wallMs() - t0 };
  },
  /** waitForDecision with the SDK's defaults; `at` is when it returned. */
  wait: async (id, options) => ({ ...(await agent.waitForDecision(id, options)), at: wallMs() }),
  /** `n` GET /v1/intents/:id round trips, each timed. */
  gets: async (id, n) => {
    const out = [];
    for (let k = 0; k < n; k++) {
      const t = wallMs();
      await agent.getIntent(id);
      out.push(wallMs() - t);
    }
    return out;
  },
};

process.on('message', async ({ id, op, args }) => {
  try {
    process.send({ id, ok: true, value: await ops[op](...args) });
  } catch (err) {
    process.send({ id, ok: false, error: String(err?.message ?? err) });
  }
});
process.send({ ready: true });

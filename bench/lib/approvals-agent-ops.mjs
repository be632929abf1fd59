// The agent operations bench/approvals-latency.mjs times, on an SDK AgentClient: the same whether the agent runs in
// the bench's process or in its own (approvals-agent.mjs). Times are wall-clock ms on the calling process's clock.
import { wallMs } from './stats.mjs';

export function timedAgentOps(agent) {
  return {
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
}

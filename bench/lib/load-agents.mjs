// Child process of bench/hub-load.mjs: N agent loops in one Node process, each driving the real agent SDK
// (lib/agent AgentClient, what `clawkeep agent` uses) exactly as an agent program would: create an intent, wait for
// the human's decision (the SDK's long poll), execute it if approved, and again, until the timed window closes; then
// finish the cycle in hand (bounded by the drain deadline). No retries are added around the SDK: what it does with
// auth_stale, 429 + Retry-After or a lost answer is what is measured. A failed create is followed by a 1 s pause
// (an agent program's own back-off), so a refusing hub cannot make a loop spin.
//
// Each loop owns a list of claimed agents ("identities") and moves to the next after `perIdentity` creates: the
// hub's per-installation budget (hub/routes/intents.ts: 20 at once, then 120/h) would otherwise turn a 60 s run of
// 50 busy agents into a measurement of that policy instead of the hub. Only one identity per loop is live at a
// time, so N loops are N concurrent agents. A loop that used up all its identities goes on with the last one (and
// meets 429s, which are counted).
//
// Protocol (IPC): parent sends {type:'run', …}; child answers {type:'done', …}. Timestamps are wall-clock ms
// (performance.timeOrigin + performance.now(): the same clock in every process of this machine).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { newWireStats, routedFetch } from './load-net.mjs';
import { importTs } from './ts.mjs';

const wallMs = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const CREATE_FAILURE_PAUSE_MS = 1000;

const [{ AgentClient, AgentError }, { useNodeEd25519 }] = await importTs('lib/agent/index.ts', 'hub/ed25519-node.ts');
useNodeEd25519(); // as bin/main.ts does for `clawkeep agent`

process.on('message', async (m) => {
  if (m?.type !== 'run') return;
  const result = await run(m);
  process.send({ type: 'done', ...result }, () => process.exit(0));
});
process.send({ type: 'ready' });

async function run({ publicOrigin, ports, loops, perIdentity, startAt, seconds, drainSeconds, addresses }) {
  const wire = newWireStats();
  const endCreate = startAt + seconds * 1000;
  const deadline = endCreate + drainSeconds * 1000;
  const records = []; // [loop, intentId, t0, tAck, tSeen, decision, tExecuted]
  const errors = {}; // "step code" → count
  const execOk = new Map(); // intentId → successful executes seen by the agent
  const countError = (step, err) => {
    const code = err instanceof AgentError ? err.code : (err?.code ?? err?.name ?? 'unknown');
    const k = `${step} ${code}`;
    errors[k] = (errors[k] ?? 0) + 1;
  };
  const fetches = addresses.map((localAddress) =>
    routedFetch({ publicOrigin, ports: () => ports, localAddress, stats: wire }),
  );

  const loop = async (identities, li) => {
    const fetch = fetches[li % fetches.length];
    let idx = 0;
    let used = 0;
    let client = new AgentClient({ fetch, state: identities[0] });
    let n = 0;
    while (wallMs() < endCreate) {
      if (used >= perIdentity && idx + 1 < identities.length) {
        idx++;
        used = 0;
        client = new AgentClient({ fetch, state: identities[idx] });
      }
      used++;
      const t0 = wallMs();
      let intent;
      try {
        intent = await client.createIntent({
          kind: 'action.approve',
          payload: { summary: `load ${li}.${idx} #${n++}`, risk: 'low' },
        });
      } catch (err) {
        countError('create', err);
        await sleep(Math.min(CREATE_FAILURE_PAUSE_MS, Math.max(0, deadline - wallMs())));
        continue;
      }
      const rec = [li, intent.intent_id, t0, wallMs(), null, null, null];
      records.push(rec);
      let decision;
      try {
        const left = deadline - wallMs();
        if (left <= 1000) throw Object.assign(new Error('drain deadline'), { code: 'drain_deadline' });
        decision = (await client.waitForDecision(intent.intent_id, { timeoutMs: left })).decision;
      } catch (err) {
        countError('wait', err);
        continue;
      }
      rec[4] = wallMs();
      rec[5] = decision;
      if (decision !== 'approved') continue;
      try {
        await client.execute(intent.intent_id);
        rec[6] = wallMs();
        execOk.set(intent.intent_id, (execOk.get(intent.intent_id) ?? 0) + 1);
      } catch (err) {
        countError('execute', err);
      }
    }
  };

  const lag = monitorEventLoopDelay({ resolution: 20 });
  await sleep(Math.max(0, startAt - wallMs()));
  lag.enable();
  const cpu0 = process.cpuUsage();
  let cpuWindow = null;
  const windowTimer = setTimeout(() => (cpuWindow = process.cpuUsage(cpu0)), Math.max(0, endCreate - wallMs()));
  await Promise.all(loops.map((ids, li) => loop(ids, li)));
  clearTimeout(windowTimer);
  cpuWindow ??= process.cpuUsage(cpu0);
  lag.disable();
  return {
    records,
    errors,
    executedTwiceByAgents: [...execOk].filter(([, n]) => n > 1).map(([id]) => id),
    wire,
    cpuSeconds: (cpuWindow.user + cpuWindow.system) / 1e6,
    loopLagP99Ms: lag.percentile(99) / 1e6,
    finishedAt: wallMs(),
  };
}

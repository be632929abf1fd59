// Approval round trip on loopback: a real hub child (`clawkeep hub`), the built extension in Debian Chromium with
// its popup open, and an agent in this Node process using the SDK (lib/agent AgentClient). Per request:
//  - "shown": from just before the agent's createIntent to the moment the popup's queue holds the intent's summary
//    text (a MutationObserver in the popup); reference: the agent's POST /v1/intents round trip, same run;
//  - "seen": from the Approve click (a capture-phase listener in the popup) to the agent's waitForDecision returning
//    'approved'; reference: the agent's GET /v1/intents/:id round trip, same run.
// Both intervals start on one side and end on the other: both sides read performance.timeOrigin + now()
// (bench/lib/stats.mjs wallMs), i.e. the same system clock. The bench checks that once at the start: the page's
// clock must fall inside a Node round trip around it.
// The agent learns the decision the way the SDK does by default (issue 17 goal 4, push): waitForDecision holds a
// long poll, GET /v1/intents/:id?wait=N, which the hub answers the moment that intent is decided. No interval.
// "seen" is also split at the hub, from its own access log (the decision request's line: when its route ended and how
// long it took): click -> the request reaches the hub's route (the browser's share: popup, background, fetch), the
// decision route (signature, nonce, approval check, durable commit), route end -> the agent has it (the held poll's
// answer). Each against the same GET: the browser's share alone bounds how close "seen" can come to it.
// Prints timings only; the flow itself must work (each intent shown, approved and seen as approved).
// BENCH_APPROVALS_AGENT=process runs each agent in its own Node process (bench/lib/approvals-agent.mjs), as deployed;
// by default the agents run in this process, whose event loop also drives Chromium through Playwright (the click).
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchExtension } from './argon2.mjs';
import { accessLogRequests } from './lib/access-log.mjs';
import { timedAgentOps } from './lib/approvals-agent-ops.mjs';
import { startCliHub } from './lib/hub.mjs';
import { percentile, wallMs } from './lib/stats.mjs';
import { importTs } from './lib/ts.mjs';

const PASSPHRASE = 'bench approvals: saffron-quiver-lamp-19';
// The hub allows 20 intents per installation and 60 per account before answering 429 (burst; refills take hours).
const PER_AGENT = 20;
const PER_ACCOUNT = 60;
const WAIT = { timeout: 30_000 };

/**
 * An agent in its own process with the methods this bench uses; `create`, `wait` and `gets` time themselves there.
 */
async function agentProcess() {
  const child = fork(new URL('./lib/approvals-agent.mjs', import.meta.url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (c) => reject(new Error(`agent process exited with ${c}`)));
  });
  let next = 0;
  const waiting = new Map();
  child.on('message', (m) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(new Error(m.error));
  });
  const call = (op, ...args) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      child.send({ id, op, args });
    });
  return {
    register: (opts) => call('register', opts),
    status: () => call('status'),
    create: (req) => call('create', req),
    wait: (id, options) => call('wait', id, options),
    gets: (id, n) => call('gets', id, n),
    stop: () => child.kill(),
  };
}

/** The agents in this process: the same methods, timed here. */
function agentHere(AgentClient) {
  const agent = new AgentClient({ fetch: (url, init) => fetch(url, init) });
  return { ...timedAgentOps(agent), stop: () => {} };
}

/** Vault page: create the vault, point it at the hub, enrol with the printed code (as test/e2e/approvals.spec.ts). */
async function setUpVault(browser, hub) {
  const vault = await browser.openPage('vault.html');
  await vault.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await vault.getByLabel('Repeat passphrase').fill(PASSPHRASE);
  await vault.getByLabel('Repeat passphrase').press('Enter');
  await vault.getByRole('tab', { name: 'Agents' }).click(WAIT);
  await vault.getByLabel('Hub URL').fill(hub.url);
  await vault.getByRole('button', { name: 'Save hub URL' }).click();
  await vault.getByText('Hub URL saved').waitFor(WAIT);
  await vault.getByLabel('Enrollment code').fill(hub.enrollmentCode);
  await vault.getByRole('button', { name: 'Enroll' }).click();
  await vault.getByText('Approving as').waitFor(WAIT);
  return vault;
}

/** Agent registers (SDK), the human claims it in the vault page with the requested scope, the agent pins the claim. */
async function claimedAgent(vault, hub, makeAgent, name) {
  const agent = await makeAgent();
  const reg = await agent.register({
    hub: hub.url,
    name,
    manifest: { markdown: `# ${name}\n\nApprovals bench.` },
    requestedScopes: ['action:action.approve'],
  });
  await vault.getByLabel('Claim code').fill(reg.claim_code);
  await vault.getByRole('button', { name: 'Look up' }).click();
  const preview = vault.getByRole('group', { name: 'Agent to claim' });
  await preview.getByText(reg.fingerprint).waitFor(WAIT);
  // A requested scope starts unchecked (least privilege): the person grants it, as test/e2e/approvals.spec.ts does.
  await preview.getByRole('checkbox', { name: 'action:action.approve' }).check();
  await vault.getByRole('button', { name: 'Claim agent' }).click();
  await vault
    .getByRole('region', { name: 'Claim an agent' })
    .getByRole('status')
    .getByText(`Claimed ${name}`)
    .waitFor(WAIT);
  const status = await agent.status();
  if (status.status !== 'claimed' || !status.granted_scopes.includes('action:action.approve'))
    throw new Error(
      `${name} not claimed with action:action.approve: ${JSON.stringify({ status: status.status, granted: status.granted_scopes })}`,
    );
  return agent;
}

/** Page clock minus Node clock, from one round trip; |offset| <= bound if both read the same clock. */
async function clockCheck(page) {
  const t0 = wallMs();
  const p = await page.evaluate(() => performance.timeOrigin + performance.now());
  const t1 = wallMs();
  return { offsetMs: p - (t0 + t1) / 2, boundMs: (t1 - t0) / 2 };
}

async function oneRequest(popup, agent, i) {
  const summary = `Bench approval ${i}: deploy build ${Math.random().toString(36).slice(2, 10)}`;
  // Armed before the intent exists: resolves with the page time at which the summary is in the queue, and with the
  // page time of the click on Approve.
  await popup.evaluate((text) => {
    const now = () => performance.timeOrigin + performance.now();
    globalThis.__benchShown = new Promise((resolve) => {
      const region = () => document.querySelector('[role="region"][aria-label="Pending requests"]');
      const check = () => {
        if (!region()?.textContent.includes(text)) return false;
        resolve(now());
        return true;
      };
      if (check()) return;
      const observer = new MutationObserver(() => check() && observer.disconnect());
      observer.observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    globalThis.__benchClick = new Promise((resolve) => {
      const onClick = (e) => {
        if (e.target instanceof HTMLButtonElement && e.target.textContent.trim() === 'Approve') {
          resolve(now());
          removeEventListener('click', onClick, { capture: true });
        }
      };
      addEventListener('click', onClick, { capture: true });
    });
  }, summary);

  const { intent, t0, createMs } = await agent.create({ kind: 'action.approve', payload: { summary, risk: 'low' } });
  const shownAt = await popup.evaluate(() => globalThis.__benchShown);

  // The agent starts waiting once the request is on screen, with the SDK's defaults (a held long poll).
  const waiting = agent.wait(intent.intent_id, { timeoutMs: 30_000 });
  await popup
    .getByRole('region', { name: 'Pending requests' })
    .getByRole('button', { name: 'Approve', exact: true })
    .click();
  const seen = await waiting;
  if (seen.decision !== 'approved') throw new Error(`intent ${i}: agent saw ${seen.decision}`);
  const clickAt = await popup.evaluate(() => globalThis.__benchClick);
  await popup.getByRole('region', { name: 'Pending requests' }).waitFor({ state: 'detached', ...WAIT });

  // Reference for "seen": the very request the agent polls with, on a settled hub.
  const gets = await agent.gets(intent.intent_id, 3);
  return {
    shownMs: shownAt - t0,
    createMs,
    seenMs: seen.at - clickAt,
    getMs: gets,
    // For timing against the hub's access log: wall-clock ms.
    intentId: intent.intent_id,
    clickAt,
    seenAt: seen.at,
  };
}

export async function benchApprovalsLatency({
  extensionDir,
  chromiumPath = '/usr/bin/chromium',
  n = Number(process.env.BENCH_APPROVALS ?? 30),
  agentIn = process.env.BENCH_APPROVALS_AGENT ?? 'bench',
}) {
  if (agentIn !== 'bench' && agentIn !== 'process') throw new Error('BENCH_APPROVALS_AGENT must be bench or process');
  const warmups = 1;
  if (!(n >= 1 && n + warmups <= PER_ACCOUNT))
    throw new Error(
      `BENCH_APPROVALS must be 1..${PER_ACCOUNT - warmups}: one account may create ${PER_ACCOUNT} intents before the hub rate-limits it`,
    );
  const [{ AgentClient }] = await importTs('lib/agent/index.ts');
  const logDir = mkdtempSync(path.join(tmpdir(), 'clawkeep-bench-approvals-'));
  try {
    const logFile = path.join(logDir, 'hub.log');
    const result = await approvalRuns({ extensionDir, chromiumPath, n, warmups, agentIn, AgentClient, logFile });
    result.split = splitAtHub(readFileSync(logFile, 'utf8'), result.runs.slice(warmups), result.getP50);
    return result;
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

/** The runs themselves, with the hub's access log written to `logFile` (complete when this returns). */
async function approvalRuns({ extensionDir, chromiumPath, n, warmups, agentIn, AgentClient, logFile }) {
  const hub = await startCliHub({ logFile });
  const agents = [];
  let browser;
  try {
    browser = await launchExtension({ extensionDir, chromiumPath });
    const vault = await setUpVault(browser, hub);
    const makeAgent = agentIn === 'process' ? agentProcess : async () => agentHere(AgentClient);
    for (let a = 0; a < Math.ceil((n + warmups) / PER_AGENT); a++)
      agents.push(await claimedAgent(vault, hub, makeAgent, `bench-agent-${a + 1}`));
    // Only the popup stays open: nothing else renders or talks to the background during the runs.
    await vault.close();
    const popup = await browser.openPage('popup.html');
    await popup.getByText('Unlocked', { exact: true }).waitFor(WAIT);
    const clock = await clockCheck(popup);
    if (Math.abs(clock.offsetMs) > clock.boundMs + 1)
      throw new Error(`page and Node clocks differ by ${clock.offsetMs.toFixed(2)} ms`);

    const runs = [];
    for (let i = 0; i < n + warmups; i++) runs.push(await oneRequest(popup, agents[Math.floor(i / PER_AGENT)], i));
    const measured = runs.slice(warmups);
    const pick = (k) => measured.map((r) => r[k]);
    const r = {
      n,
      wait: 'long poll (SDK default)',
      agentIn,
      agents: agents.length,
      clock,
      shownP50: percentile(pick('shownMs'), 50),
      shownP95: percentile(pick('shownMs'), 95),
      createP50: percentile(pick('createMs'), 50),
      seenP50: percentile(pick('seenMs'), 50),
      seenP95: percentile(pick('seenMs'), 95),
      getP50: percentile(
        measured.flatMap((x) => x.getMs),
        50,
      ),
      runs,
    };
    return {
      ...r,
      shownP50Ratio: r.shownP50 / r.createP50,
      shownP95Ratio: r.shownP95 / r.createP50,
      seenP50Ratio: r.seenP50 / r.getP50,
      seenP95Ratio: r.seenP95 / r.getP50,
    };
  } finally {
    for (const a of agents) a.stop();
    await browser?.close();
    await hub.stop();
  }
}

/**
 * Click -> agent split at the hub's route for the decision (its access-log line: `time` when it ended, `duration_ms`),
 * p50 / p95 of each part and their ratios to the GET's p50. The log's times have millisecond resolution; page and Node
 * clocks agree within the bound the bench checked.
 */
export function splitAtHub(logText, runs, getP50) {
  const decisions = new Map();
  for (const l of accessLogRequests(logText)) {
    const id = /^\/v1\/intents\/([^/]+)\/decision$/.exec(l.path ?? '')?.[1];
    if (l.method === 'POST' && l.status === 200 && id) decisions.set(id, l);
  }
  const rows = runs.flatMap((run) => {
    const d = decisions.get(run.intentId);
    if (!d) return [];
    const end = Date.parse(d.time);
    return [{ toHub: end - d.duration_ms - run.clickAt, route: d.duration_ms, toAgent: run.seenAt - end }];
  });
  if (rows.length === 0) return null;
  const part = (k) => {
    const xs = rows.map((x) => x[k]);
    const [p50, p95] = [percentile(xs, 50), percentile(xs, 95)];
    return { p50, p95, p50Ratio: p50 / getP50, p95Ratio: p95 / getP50 };
  };
  return { n: rows.length, toHub: part('toHub'), route: part('route'), toAgent: part('toAgent') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchApprovalsLatency({ extensionDir: path.resolve('.output/chrome-mv3') });
  const { runs, ...summary } = r;
  console.log(JSON.stringify(summary, null, 2));
}

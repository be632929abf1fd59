// The harness works end to end: a real gateway starts, a Node client completes the handshake, the agent's real
// `exec` tool (driven by the mock model) raises exec.approval.requested, and allow-once / deny reach the tool.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startOpenClaw } from './harness/index.mjs';
import { connectClient } from './harness/smoke-client.mjs';

/** @type {Awaited<ReturnType<typeof startOpenClaw>>} */
let oc;
/** @type {Awaited<ReturnType<typeof connectClient>>} */
let approver;
/** @type {Awaited<ReturnType<typeof connectClient>>} */
let sender;

beforeAll(async () => {
  oc = await startOpenClaw();
  approver = await connectClient({
    url: oc.gatewayUrl,
    token: oc.token,
    scopes: ['operator.read', 'operator.approvals', 'operator.admin'],
    caps: ['exec-approvals', 'approvals'],
    displayName: 'clawkeep-approver',
  });
  // The agent run carries the sender's scopes: registering its exec approval needs operator.approvals.
  sender = await connectClient({
    url: oc.gatewayUrl,
    token: oc.token,
    scopes: ['operator.read', 'operator.write', 'operator.approvals'],
  });
});

afterAll(async () => {
  await approver?.close();
  await sender?.close();
  await oc?.stop();
});

/** Waits until the mock model has received a tool result message for this session's run. */
async function toolResult(marker) {
  for (let i = 0; i < 300; i++) {
    for (const r of oc.mock.requests()) {
      const msgs = r.body?.messages ?? [];
      if (!msgs.some((m) => typeof m.content === 'string' && m.content.includes(marker))) continue;
      const tool = msgs.find((m) => m.role === 'tool');
      if (tool) return typeof tool.content === 'string' ? tool.content : JSON.stringify(tool.content);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no tool result for ${marker}`);
}

test('handshake: hello-ok with the requested operator scopes', () => {
  expect(approver.hello.type).toBe('hello-ok');
  expect(approver.hello.protocol).toBe(4);
  expect(approver.hello.auth.scopes).toEqual(
    expect.arrayContaining(['operator.read', 'operator.approvals', 'operator.admin']),
  );
  expect(approver.hello.features.events).toContain('exec.approval.requested');
});

async function runAndDecide(session, command, decision) {
  const sent = await sender.request('chat.send', {
    sessionKey: `agent:main:${session}`,
    message: `[${session}] RUN: ${command}`,
    idempotencyKey: `${session}-${Date.now()}`,
  });
  expect(sent.ok).toBe(true);
  const ev = await approver.waitEvent('exec.approval.requested', (p) => p.request?.command === command, 60_000);
  expect(ev.request.allowedDecisions).toContain(decision);
  const res = await approver.request('exec.approval.resolve', { id: ev.id, decision });
  expect(res.ok).toBe(true);
  return { id: ev.id, result: await toolResult(`[${session}]`) };
}

test('allow-once: the command runs and its output reaches the agent', async () => {
  const { result } = await runAndDecide('smoke-allow', 'echo hello-from-agent', 'allow-once');
  expect(result).toContain('hello-from-agent');
});

test('deny: the agent gets "Exec denied"', async () => {
  const { result } = await runAndDecide('smoke-deny', 'echo should-not-run', 'deny');
  expect(result).toContain('Exec denied');
  expect(result).not.toMatch(/^should-not-run/m);
});

test('the mock model saw the configured provider key', () => {
  expect(oc.mock.requests().some((r) => r.authorization === 'Bearer mock-api-key')).toBe(true);
});

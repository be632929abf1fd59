// lib/openclaw against a real OpenClaw gateway (`npm run test:openclaw` only; runs under Node 24, whose global
// WebSocket is the one browsers have). Covers: handshake and hello-ok, approvals backfill, a real agent `exec`
// approval resolved by OpenClawOperator, the decision guard, reconnect with the device token alone, and the
// browser-extension path (refused Origin → allowlist; pairing → `openclaw devices approve <requestId>`).
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { OpenClawOperator, type WebSocketConstructor } from '../../lib/openclaw/client';
import { createDeviceIdentity } from '../../lib/openclaw/device-identity';
import type { OpenClawError } from '../../lib/openclaw/errors';
// @ts-expect-error -- plain ESM helpers without type declarations
import { startOpenClaw } from './harness/index.mjs';
// @ts-expect-error -- plain ESM helpers without type declarations
import { connectClient } from './harness/smoke-client.mjs';

const ALLOWED_ORIGIN = 'chrome-extension://aaaabbbbccccddddeeeeffffgggghhhh';
const OTHER_ORIGIN = 'chrome-extension://ppppoooonnnnmmmmllllkkkkjjjjiiii';

let oc: any;
let sender: any;
const ops: OpenClawOperator[] = [];

/** A WebSocket constructor that sends an Origin header, as a browser extension page does. */
const withOrigin = (origin: string): WebSocketConstructor =>
  class extends WebSocket {
    constructor(url: string) {
      super(url, { origin });
    }
  };

// `webchat-ui` is a browser operator UI: the gateway always checks its Origin (a missing one is refused), and a
// loopback page origin passes without an allowlist entry — like a page at http://127.0.0.1:8123 (spec §1).
const LoopbackPage = withOrigin('http://127.0.0.1:8123');

const until = async (cond: () => boolean, ms: number, what: string): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

beforeAll(async () => {
  oc = await startOpenClaw({ allowedOrigins: [ALLOWED_ORIGIN] });
  // The agent run carries the sender's scopes: registering its exec approval needs operator.approvals.
  sender = await connectClient({
    url: oc.gatewayUrl,
    token: oc.token,
    scopes: ['operator.read', 'operator.write', 'operator.approvals'],
  });
});

afterAll(async () => {
  for (const op of ops) op.close();
  await sender?.close();
  await oc?.stop();
});

test('connects, gets hello-ok, backfills approvals, resolves a real agent exec approval', async () => {
  const identity = await createDeviceIdentity();
  const deviceTokens: string[] = [];
  // The run below is started by another device (the sender): only operator.admin sees its approval, so this
  // operator opts in to every agent (the person's "Approve every agent's commands" setting).
  const op = await OpenClawOperator.connect(oc.gatewayUrl, { token: oc.token }, identity, {
    WebSocketImpl: LoopbackPage,
    platform: 'linux',
    allAgents: true,
    onDeviceToken: (t) => void deviceTokens.push(t),
  });
  ops.push(op);
  expect(op.status).toBe('connected');
  expect(op.helloOk?.protocol).toBe(4);
  expect([...(op.helloOk?.scopes ?? [])].sort()).toEqual(['operator.admin', 'operator.approvals']);
  expect(op.helloOk?.methods).toEqual(expect.arrayContaining(['exec.approval.list', 'exec.approval.resolve']));
  expect(op.lastError).toBeNull(); // the backfill worked
  expect(op.approvals).toEqual([]);
  expect(deviceTokens).toHaveLength(1); // loopback: auto-paired

  const command = 'echo hello-from-clawkeep';
  const sent = await sender.request('chat.send', {
    sessionKey: 'agent:main:clawkeep-allow',
    message: `[clawkeep-allow] RUN: ${command}`,
    idempotencyKey: `allow-${Date.now()}`,
  });
  expect(sent.ok).toBe(true);
  await until(
    () => op.approvals.some((a) => a.kind === 'exec' && a.command === command),
    60_000,
    'exec.approval.requested',
  );
  const pending = op.approvals.find((a) => a.kind === 'exec' && a.command === command)!;
  expect(pending).toMatchObject({ kind: 'exec', host: 'gateway', agentId: 'main' });
  expect(pending.kind === 'exec' && pending.resolvedPath).toMatch(/echo$/);
  expect(pending.expiresAtMs - pending.createdAtMs).toBe(1_800_000);
  expect(pending.allowedDecisions).toContain('allow-once');
  if (!pending.allowedDecisions.includes('allow-always')) {
    await expect(op.resolveExec(pending.id, 'allow-always')).rejects.toMatchObject({ code: 'decision_not_allowed' });
  }

  await op.resolveExec(pending.id, 'allow-once');
  expect(op.approvals.some((a) => a.id === pending.id)).toBe(false);
  const toolResult = async () => {
    for (let i = 0; i < 300; i++) {
      for (const r of oc.mock.requests()) {
        const msgs: any[] = r.body?.messages ?? [];
        if (!msgs.some((m) => typeof m.content === 'string' && m.content.includes('[clawkeep-allow]'))) continue;
        const tool = msgs.find((m) => m.role === 'tool');
        if (tool) return typeof tool.content === 'string' ? tool.content : JSON.stringify(tool.content);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no tool result');
  };
  expect(await toolResult()).toContain('hello-from-clawkeep');

  // Reconnect with the device token alone.
  const again = await OpenClawOperator.connect(oc.gatewayUrl, { deviceToken: deviceTokens[0]! }, identity, {
    WebSocketImpl: LoopbackPage,
    platform: 'linux',
    allAgents: true,
  });
  ops.push(again);
  expect(again.status).toBe('connected');
  expect(again.helloOk?.scopes).toEqual(expect.arrayContaining(['operator.admin']));
});

test('extension origin: refused until allowlisted, then pairing via `openclaw devices approve`', async () => {
  const identity = await createDeviceIdentity();
  const refused = new OpenClawOperator(oc.gatewayUrl, { token: oc.token }, identity, {
    WebSocketImpl: withOrigin(OTHER_ORIGIN),
    origin: OTHER_ORIGIN,
    reconnect: false,
  });
  const e1 = (await refused.connect().catch((e) => e)) as OpenClawError;
  expect(e1.code).toBe('CONTROL_UI_ORIGIN_NOT_ALLOWED');
  expect(refused.explain().action).toContain(`gateway.controlUi.allowedOrigins '["${OTHER_ORIGIN}"]'`);
  expect(JSON.stringify([e1.message, refused.explain()])).not.toContain(oc.token);

  const deviceTokens: string[] = [];
  const opts = {
    WebSocketImpl: withOrigin(ALLOWED_ORIGIN),
    origin: ALLOWED_ORIGIN,
    reconnect: false as const,
    platform: 'linux',
    onDeviceToken: (t: string) => void deviceTokens.push(t),
  };
  const first = new OpenClawOperator(oc.gatewayUrl, { token: oc.token }, identity, opts);
  const outcome = await first.connect().then(
    () => null,
    (e: OpenClawError) => e,
  );
  if (outcome === null) {
    // The gateway auto-paired this loopback client (no approval needed on this host).
    console.log('[client.test] allowlisted extension origin: auto-paired on loopback');
    ops.push(first);
  } else {
    expect(outcome.code).toBe('PAIRING_REQUIRED');
    expect(outcome.requestId).toBeTruthy();
    expect(first.explain().action).toContain(`openclaw devices approve ${outcome.requestId}`);
    const approved = await oc.openclaw(['devices', 'approve', outcome.requestId!]);
    expect(approved.code, `${approved.stdout}\n${approved.stderr}`.replaceAll(oc.token, '<token>')).toBe(0);
    const op = await OpenClawOperator.connect(oc.gatewayUrl, { token: oc.token }, identity, opts);
    ops.push(op);
    expect(op.status).toBe('connected');
  }
  expect(deviceTokens).toHaveLength(1);
  const byDeviceToken = await OpenClawOperator.connect(
    oc.gatewayUrl,
    { deviceToken: deviceTokens[0]! },
    identity,
    opts,
  );
  ops.push(byDeviceToken);
  // Least privilege by default: the gateway granted exactly operator.approvals, no admin.
  expect(byDeviceToken.helloOk?.scopes).toEqual(['operator.approvals']);
  expect(byDeviceToken.lastError).toBeNull(); // exec.approval.list / plugin.approval.list backfill worked with it
});

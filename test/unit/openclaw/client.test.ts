// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { PendingApproval } from '../../../lib/openclaw/approvals';
import { OpenClawOperator, type OperatorOptions } from '../../../lib/openclaw/client';
import { createDeviceIdentity } from '../../../lib/openclaw/device-identity';
import { FakeGateway, execApproval } from './fake-gateway';

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const setup = async (over: Partial<OperatorOptions> = {}) => {
  const gw = new FakeGateway();
  const identity = await createDeviceIdentity();
  const tokens: string[] = [];
  const opts: OperatorOptions = {
    WebSocketImpl: gw.WebSocket,
    platform: 'Linux',
    origin: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop',
    reconnect: { baseMs: 10, maxMs: 40 },
    onDeviceToken: (t) => void tokens.push(t),
    ...over,
  };
  return { gw, identity, tokens, opts };
};

describe('OpenClawOperator against a scripted gateway', () => {
  it('refuses plain ws:// to a gateway off this machine before any socket opens (token and decisions stay off the wire)', async () => {
    const { gw, identity, opts } = await setup();
    for (const url of ['ws://gw.example:18789', 'ws://192.168.1.20:18789']) {
      expect(() => new OpenClawOperator(url, { token: gw.token }, identity, opts)).toThrow(
        expect.objectContaining({ code: 'gateway_insecure' }),
      );
    }
    expect(gw.sockets).toHaveLength(0);
    expect(gw.received).toHaveLength(0);
  });

  it('handshakes, backfills, merges live approvals and resolves within allowedDecisions', async () => {
    const { gw, identity, tokens, opts } = await setup();
    gw.execApprovals.set('before', execApproval('before'));
    const op = await OpenClawOperator.connect('ws://127.0.0.1:18789', { token: gw.token }, identity, opts);
    expect(op.status).toBe('connected');
    expect(op.helloOk?.maxPayload).toBe(25 * 1024 * 1024);
    expect(tokens).toHaveLength(1);
    expect(op.approvals.map((a) => a.id)).toEqual(['before']);

    const seen: PendingApproval[][] = [];
    op.onApprovals((l) => seen.push(l));
    gw.requestExec(
      execApproval('live', {
        allowedDecisions: ['allow-once', 'allow-always', 'deny'],
        commandAnalysis: { riskKinds: ['write'], warningLines: ['Writes files'] },
      }),
    );
    await until(() => op.approvals.length === 2);
    const live = op.approvals.find((a) => a.id === 'live');
    expect(live).toMatchObject({
      kind: 'exec',
      command: 'echo live',
      cwd: '/tmp',
      host: 'gateway',
      agentId: 'main',
      resolvedPath: '/usr/bin/echo',
      warnings: ['Writes files'],
      riskKinds: ['write'],
    });

    // A decision outside allowedDecisions is refused locally; nothing is sent.
    const sentBefore = gw.received.length;
    await expect(op.resolveExec('before', 'allow-always')).rejects.toMatchObject({ code: 'decision_not_allowed' });
    expect(gw.received.length).toBe(sentBefore);

    await op.resolveExec('before', 'allow-once');
    expect(gw.received.at(-1)).toMatchObject({
      method: 'exec.approval.resolve',
      params: { id: 'before', decision: 'allow-once' },
    });
    expect(op.approvals.map((a) => a.id)).toEqual(['live']);

    // Resolved elsewhere (another operator): dropped on the resolved event.
    gw.execApprovals.delete('live');
    gw.broadcast('exec.approval.resolved', { id: 'live', decision: 'deny', resolvedBy: 'cli', ts: Date.now() });
    await until(() => op.approvals.length === 0);
    expect(seen.at(-1)).toEqual([]);
    op.close();
    expect(op.status).toBe('closed');
  });

  it('reconnects with the device token alone', async () => {
    const { gw, identity, tokens, opts } = await setup();
    (await OpenClawOperator.connect('ws://127.0.0.1:18789', { token: gw.token }, identity, opts)).close();
    const op = await OpenClawOperator.connect('ws://127.0.0.1:18789', { deviceToken: tokens[0]! }, identity, opts);
    expect(gw.received.filter((f) => f.method === 'connect').at(-1)?.params.auth).toEqual({ deviceToken: tokens[0] });
    op.close();
  });

  it('reports pairing with the approve command and does not retry', async () => {
    const { gw, identity, opts } = await setup();
    gw.pairingRequired = true;
    const op = new OpenClawOperator('ws://127.0.0.1:18789', { token: gw.token }, identity, opts);
    await expect(op.connect()).rejects.toMatchObject({ code: 'PAIRING_REQUIRED', requestId: 'req-7f3a' });
    expect(op.status).toBe('failed');
    expect(op.explain().action).toContain('openclaw devices approve req-7f3a');
    expect(gw.sockets).toHaveLength(1);
  });

  it('never puts the token in an error', async () => {
    const { gw, identity, opts } = await setup();
    const op = new OpenClawOperator('ws://127.0.0.1:18789', { token: 'wrong-token-value-xyz' }, identity, opts);
    const err = await op.connect().catch((e) => e);
    expect(err.code).toBe('AUTH_TOKEN_MISMATCH');
    expect(JSON.stringify([err.message, err.toJSON(), op.explain()])).not.toContain('wrong-token-value-xyz');
    expect(JSON.stringify(op.explain())).not.toContain(gw.token);
  });

  it('times out unanswered requests, and adds an idempotency key on request', async () => {
    const { gw, identity, opts } = await setup({ requestTimeoutMs: 50 });
    gw.silent.add('health');
    const op = await OpenClawOperator.connect('ws://127.0.0.1:18789', { token: gw.token }, identity, opts);
    await expect(op.request('health')).rejects.toMatchObject({ code: 'timeout' });
    await expect(op.request('chat.send', { message: 'hi' }, { idempotencyKey: true })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    expect(gw.received.at(-1)?.params).toEqual({
      message: 'hi',
      idempotencyKey: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    op.close();
  });

  it('reconnects after a drop and re-reads the pending list', async () => {
    const { gw, identity, opts } = await setup();
    const op = await OpenClawOperator.connect('ws://127.0.0.1:18789', { token: gw.token }, identity, opts);
    const statuses: string[] = [];
    op.onStatus((s) => statuses.push(s));
    gw.execApprovals.set('while-away', execApproval('while-away'));
    gw.live[0]!.serverClose(1012, 'service restart');
    await until(() => op.status === 'connected' && op.approvals.length === 1);
    expect(statuses).toEqual(['reconnecting', 'connected']);
    expect(gw.sockets).toHaveLength(2);
    op.close();
  });

  it('closes with 4000 after two tick intervals of silence, then reconnects', async () => {
    const { gw, identity, opts } = await setup();
    gw.tickIntervalMs = 20;
    const op = await OpenClawOperator.connect('ws://127.0.0.1:18789', { token: gw.token }, identity, opts);
    await until(() => gw.sockets[0]!.closeCode === 4000, 1000);
    await until(() => gw.sockets.length >= 2 && op.status === 'connected', 1000);
    op.close();
  });

  it('keeps retrying while the gateway is unreachable, with backoff', async () => {
    const { gw, identity, opts } = await setup();
    const op = await OpenClawOperator.connect('ws://127.0.0.1:18789', { token: gw.token }, identity, opts);
    gw.refuseConnections = true;
    gw.live[0]!.serverClose(1006, '');
    await until(() => gw.sockets.length >= 4, 2000);
    expect(op.status).toBe('reconnecting');
    gw.refuseConnections = false;
    await until(() => op.status === 'connected', 2000);
    op.close();
  });
});

// @vitest-environment node
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentClient, type AgentState, type FetchLike } from '../../../lib/agent';
import {
  openclawSecretReason,
  parseExecProviderRequest,
  parseGrantsDoc,
  resolveOpenClawSecrets,
  type ExecProviderRequest,
  type OpenClawGrantsDoc,
} from '../../../lib/agent/openclaw-secret';
import { answerDeadline } from '../../../bin/commands/openclaw-secret';
import { utf8Encode } from '../../../lib/bytes';
import { signApproval } from '../../../lib/protocol/approval';
import { fromBase64UrlFixed, toBase64Url } from '../../../lib/protocol/base64url';
import { sealSecret } from '../../../lib/protocol/sealed-secret';
import type { Intent } from '../../../lib/protocol/wire';
import { hubFixture, ORIGIN } from '../hub/flow';
import { BIN, ROOT } from './run-clawkeep';

type Hub = Awaited<ReturnType<typeof hubFixture>>;
type Device = Awaited<ReturnType<Hub['enrolledDevice']>>;

const appFetch =
  (hub: Hub): FetchLike =>
  (url, init) =>
    Promise.resolve(hub.app.request(url, init));

/** A registered agent, claimed by an enrolled device with `secret:read:` scopes for `items`. */
async function claimedAgent(hub: Hub, items: string[]) {
  const device = await hub.enrolledDevice();
  let state: AgentState | undefined;
  const client = new AgentClient({
    fetch: appFetch(hub),
    now: () => hub.clock.now,
    onStateChange: (s) => void (state = s),
  });
  const scopes = items.map((i) => `secret:read:${i}`);
  const reg = await client.register({
    hub: ORIGIN,
    name: 'openclaw',
    manifest: { markdown: '# openclaw\nGateway secrets.' },
    requestedScopes: scopes,
  });
  const agent = {
    agentId: reg.agent_id,
    claimCode: reg.claim_code,
    signingKey: fromBase64UrlFixed(client.publicKeys.signing_key, 32, 'k'),
    boxKey: fromBase64UrlFixed(client.publicKeys.box_key, 32, 'k'),
  } as unknown as Parameters<Hub['claimFor']>[1];
  const claim = hub.claimFor(device, agent, { granted_scopes: [...scopes].sort() as `secret:read:${string}`[] });
  expect((await device.send('POST', '/v1/claims', { claim })).status).toBe(201);
  await client.status();
  return { client, device, agent, installationId: claim.statement.installation_id, state: () => state! };
}

/** The human's device: answers every pending intent with `decide(intent)` (a secret value, 'deny', or undefined = leave). */
async function answerPending(
  hub: Hub,
  device: Device,
  client: AgentClient,
  decide: (intent: Intent) => string | 'deny' | undefined,
) {
  const list = await device.send('GET', '/v1/intents?status=pending');
  for (const intent of list.json.intents as Intent[]) {
    const answer = decide(intent);
    if (answer === undefined) continue;
    const decision = answer === 'deny' ? 'deny' : 'approve';
    const approval = signApproval(device.privateKey, {
      hub: ORIGIN,
      intent_id: intent.intent_id,
      payload_hash: intent.payload_hash,
      decision,
      installation_id: intent.installation_id,
      agent_nonce: intent.agent_nonce!,
      time: hub.clock.now,
    });
    const body: Record<string, unknown> = { approval };
    if (decision === 'approve') {
      const box = fromBase64UrlFixed(client.publicKeys.box_key, 32, 'box');
      body.sealed_secret = toBase64Url(
        sealSecret(box, utf8Encode(answer), {
          intent_id: intent.intent_id,
          payload_hash: intent.payload_hash,
          agent_id: intent.agent_id,
        }),
      );
    }
    expect((await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, body)).status).toBe(200);
  }
  return list.json.intents as Intent[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const REQ = (ids: string[], provider = 'clawkeep'): ExecProviderRequest => ({ protocolVersion: 1, provider, ids });

describe('openclaw-secret: the exec provider request', () => {
  it('parses a valid request and refuses malformed ones, keeping the readable ids', () => {
    expect(parseExecProviderRequest('{"protocolVersion":1,"provider":"clawkeep","ids":["mock/apiKey"]}')).toEqual(
      REQ(['mock/apiKey']),
    );
    expect(() => parseExecProviderRequest('nope')).toThrow(/not JSON/);
    expect(() => parseExecProviderRequest('[]')).toThrow(/object/);
    const wrongVersion = (() => {
      try {
        parseExecProviderRequest('{"protocolVersion":2,"provider":"x","ids":["a"]}');
      } catch (e) {
        return e;
      }
    })() as { ids: string[] };
    expect(wrongVersion.ids).toEqual(['a']);
    expect(() => parseExecProviderRequest('{"protocolVersion":1,"provider":"Bad Alias","ids":["a"]}')).toThrow(/alias/);
    expect(() => parseExecProviderRequest('{"protocolVersion":1,"provider":"x","ids":[]}')).toThrow(/ids/);
    expect(() => parseExecProviderRequest('{"protocolVersion":1,"provider":"x","ids":["a",1]}')).toThrow(/ids/);
  });

  it('answers before the configured timeout, with a margin for process start', () => {
    expect(answerDeadline(0, 5000)).toBe(4250);
    expect(answerDeadline(0, 120_000)).toBe(118_500);
    expect(answerDeadline(0, 500)).toBe(100);
  });
});

describe('openclaw-secret: resolving through the hub', () => {
  it('serves approved ids, reports denied and not-granted ones, and never stores a value', async () => {
    const hub = await hubFixture();
    const { client, device } = await claimedAgent(hub, ['mock/apiKey', 'other/key']);
    const grants: OpenClawGrantsDoc = parseGrantsDoc(undefined);
    const saved: string[] = [];
    const asked: Intent[] = [];
    const resolving = resolveOpenClawSecrets({
      client,
      request: REQ(['mock/apiKey', 'other/key', 'not/granted', 'a/../b']),
      gateway: 'home',
      deadline: Date.now() + 4000,
      grants,
      saveGrants: (doc) => void saved.push(JSON.stringify(doc)),
    });
    for (let i = 0; i < 50 && asked.length < 2; i++) {
      await sleep(20);
      asked.push(
        ...(await answerPending(hub, device, client, (it) =>
          (it.payload as { item: string }).item === 'mock/apiKey' ? 'sk-mock-123' : 'deny',
        )),
      );
    }
    const res = await resolving;
    expect(res).toEqual({
      protocolVersion: 1,
      values: { 'mock/apiKey': 'sk-mock-123' },
      errors: {
        'other/key': { code: 'DENIED' },
        'not/granted': { code: 'NOT_FOUND' },
        'a/../b': { code: 'INVALID_REQUEST' },
      },
    });
    // The payload is fixed per gateway/provider/id: the device can recognise the ref.
    expect(asked.map((i) => i.payload)).toContainEqual({
      item: 'mock/apiKey',
      reason: openclawSecretReason({ gateway: 'home', provider: 'clawkeep', id: 'mock/apiKey' }),
    });
    expect(saved.join('')).not.toContain('sk-mock-123');
    expect(grants.refs['home|clawkeep|mock/apiKey']).toMatchObject({ last_approved_at: expect.any(Number) });
    expect(grants.refs['home|clawkeep|mock/apiKey']!.pending_intent_id).toBeUndefined();
  });

  it('answers PENDING at the deadline, and the next run uses the same request once approved (no second prompt)', async () => {
    const hub = await hubFixture();
    const { client, device } = await claimedAgent(hub, ['mock/apiKey']);
    const grants = parseGrantsDoc(undefined);
    const t0 = Date.now();
    const first = await resolveOpenClawSecrets({ client, request: REQ(['mock/apiKey']), deadline: t0 + 300, grants });
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(first).toEqual({ protocolVersion: 1, values: {}, errors: { 'mock/apiKey': { code: 'PENDING' } } });
    const pendingId = grants.refs['openclaw|clawkeep|mock/apiKey']!.pending_intent_id;
    expect(pendingId).toMatch(/^int_/);

    // A reload while the prompt is open: the same intent is waited on, no new one is created.
    const second = await resolveOpenClawSecrets({
      client,
      request: REQ(['mock/apiKey']),
      deadline: Date.now() + 200,
      grants,
    });
    expect(second.errors).toEqual({ 'mock/apiKey': { code: 'PENDING' } });
    const pending = (await device.send('GET', '/v1/intents?status=pending')).json.intents as Intent[];
    expect(pending.map((i) => i.intent_id)).toEqual([pendingId]);

    // The human approves later; the next run (a fresh client, as a new process would be) gets the value at once.
    await answerPending(hub, device, client, () => 'sk-late');
    const fresh = new AgentClient({ fetch: appFetch(hub), now: () => hub.clock.now, state: client.state! });
    const third = await resolveOpenClawSecrets({
      client: fresh,
      request: REQ(['mock/apiKey']),
      deadline: Date.now() + 2000,
      grants,
    });
    expect(third).toEqual({ protocolVersion: 1, values: { 'mock/apiKey': 'sk-late' } });
    expect(grants.refs['openclaw|clawkeep|mock/apiKey']!.pending_intent_id).toBeUndefined();
  });

  it('reports a denial made after the earlier run gave up once, then asks again', async () => {
    const hub = await hubFixture();
    const { client, device } = await claimedAgent(hub, ['mock/apiKey']);
    const grants = parseGrantsDoc(undefined);
    await resolveOpenClawSecrets({ client, request: REQ(['mock/apiKey']), deadline: Date.now() + 200, grants });
    const first = grants.refs['openclaw|clawkeep|mock/apiKey']!.pending_intent_id;
    await answerPending(hub, device, client, () => 'deny');
    const denied = await resolveOpenClawSecrets({
      client,
      request: REQ(['mock/apiKey']),
      deadline: Date.now() + 1000,
      grants,
    });
    expect(denied.errors).toEqual({ 'mock/apiKey': { code: 'DENIED' } });
    expect(grants.refs['openclaw|clawkeep|mock/apiKey']!.pending_intent_id).toBeUndefined();
    const again = await resolveOpenClawSecrets({
      client,
      request: REQ(['mock/apiKey']),
      deadline: Date.now() + 200,
      grants,
    });
    expect(again.errors).toEqual({ 'mock/apiKey': { code: 'PENDING' } });
    expect(grants.refs['openclaw|clawkeep|mock/apiKey']!.pending_intent_id).not.toBe(first);
  });

  it('answers REVOKED once the installation is revoked in the extension', async () => {
    const hub = await hubFixture();
    const { client, device, agent, installationId } = await claimedAgent(hub, ['mock/apiKey']);
    const grants = parseGrantsDoc(undefined);
    await resolveOpenClawSecrets({ client, request: REQ(['mock/apiKey']), deadline: Date.now() + 200, grants });
    expect(
      (
        await device.send(
          'DELETE',
          `/v1/installations/${installationId}`,
          hub.revocationFor(device, { installationId, signingKey: (agent as { signingKey: Uint8Array }).signingKey }),
        )
      ).status,
    ).toBe(200);
    const res = await resolveOpenClawSecrets({
      client,
      request: REQ(['mock/apiKey']),
      deadline: Date.now() + 2000,
      grants,
    });
    expect(res.errors).toEqual({ 'mock/apiKey': { code: 'REVOKED' } });
    expect(grants.refs['openclaw|clawkeep|mock/apiKey']!.pending_intent_id).toBeUndefined();
  });
});

/** Runs the real command with `stdin`. */
function runProvider(
  args: string[],
  stdin: string,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, 'openclaw-secret', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
    child.stdin.end(stdin);
  });
}

describe('clawkeep openclaw-secret (the command)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ck-ocs-'));

  it('answers malformed stdin with one JSON object on stdout and exit 2', async () => {
    const r = await runProvider(
      ['--state', path.join(dir, 'missing.json')],
      '{"protocolVersion":2,"provider":"clawkeep","ids":["mock/apiKey"]}',
    );
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      protocolVersion: 1,
      values: {},
      errors: { 'mock/apiKey': { code: 'INVALID_REQUEST' } },
    });
    const garbage = await runProvider(['--state', path.join(dir, 'missing.json')], 'not json');
    expect(garbage.code).toBe(2);
    expect(JSON.parse(garbage.stdout)).toEqual({ protocolVersion: 1, values: {} });
  }, 20_000);

  it('answers UNAVAILABLE before the timeout when the hub cannot be reached, and saves no value', async () => {
    const hub = await hubFixture();
    const { state } = await claimedAgent(hub, ['mock/apiKey']);
    // The same agent, but its hub is a closed loopback port.
    const file = path.join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ ...state(), hub: 'http://127.0.0.1:9' }), { mode: 0o600 });
    const r = await runProvider(['--state', file, '--timeout-ms', '4000'], JSON.stringify(REQ(['mock/apiKey'])));
    expect(r.stderr).not.toContain('sk-');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      protocolVersion: 1,
      values: {},
      errors: { 'mock/apiKey': { code: 'UNAVAILABLE' } },
    });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.ms).toBeLessThan(4000);
  }, 20_000);

  it('is a usage error without --state, and refuses a state file others can read', async () => {
    expect((await runProvider([], '{}')).code).toBe(2);
    const loose = path.join(dir, 'loose.json');
    writeFileSync(loose, '{}', { mode: 0o644 });
    const r = await runProvider(['--state', loose], JSON.stringify(REQ(['mock/apiKey'])));
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      protocolVersion: 1,
      values: {},
      errors: { 'mock/apiKey': { code: 'UNAVAILABLE' } },
    });
  }, 20_000);
});

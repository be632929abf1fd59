// `clawkeep openclaw-secret` as the exec SecretRef provider of a real OpenClaw gateway: the model provider's apiKey
// is a SecretRef served from the vault through a real `clawkeep hub` after the device's approval (a scripted
// device stands in for the extension), and the mock model receives it as the bearer token. Revoking the
// installation stops further answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { agentPublicKeys, parseAgentState, stateKeys } from '../../lib/agent';
import { utf8Encode } from '../../lib/bytes';
import { claimBytes, makePolicy, signApproval, type ClaimStatement } from '../../lib/protocol/approval';
import { fromBase64UrlFixed, toBase64Url } from '../../lib/protocol/base64url';
import { claimCodeHash } from '../../lib/protocol/claim-code';
import { deviceKeyId, encodePublicKey } from '../../lib/protocol/keys';
import { signRequest } from '../../lib/protocol/request-signing';
import { sealSecret } from '../../lib/protocol/sealed-secret';
// @ts-ignore -- plain ESM helpers without type declarations
import { startOpenClaw } from './harness/index.mjs';
// @ts-ignore -- plain ESM helpers without type declarations
import { connectClient } from './harness/smoke-client.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLAWKEEP = path.join(ROOT, 'bin/clawkeep.mjs');
const VALUE = 'sk-from-clawkeep-vault-7f3a';
// The runner puts Node 24 first on PATH for openclaw; the hub's better-sqlite3 is built for the project's Node.
const SYSTEM_NODE = (process.env.PATH ?? '').split(':').map((d) => path.join(d, 'node'))
  .find((f) => path.dirname(f) !== path.dirname(process.execPath) && existsSync(f)) ?? process.execPath;
const ITEM = 'mock/apiKey';

let hub: { url: string; code: string; child: ChildProcess; dir: string; log: () => string };
let oc: any;
let dir: string;
let installationId: string;
let approved = 0;
let approving = true;
let poller: ReturnType<typeof setInterval> | undefined;
const devicePriv = ed25519.utils.randomSecretKey();
const devicePub = ed25519.getPublicKey(devicePriv);

function run(cmd: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

async function deviceSend(method: string, p: string, body?: unknown) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = text ? { 'content-type': 'application/json' } : {};
  Object.assign(headers, signRequest({ role: 'human', keyId: deviceKeyId(devicePub), privateKey: devicePriv, method, path: p, body: text ? utf8Encode(text) : undefined, hub: hub.url, now: Date.now() }));
  const res = await fetch(hub.url + p, { method, headers, ...(text ? { body: text } : {}) });
  return { status: res.status, json: (await res.json().catch(() => null)) as any };
}

async function startHub() {
  const hubDir = mkdtempSync(path.join(tmpdir(), 'clawkeep-hub-oc-'));
  const child = spawn(SYSTEM_NODE, [CLAWKEEP, 'hub', '--port', '0', '--data', hubDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const log = () => out;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start:\n${out}`)), 30_000);
    const on = (d: Buffer) => {
      out += d;
      if (/listening on http:\/\/\S+/.test(out) && /Enrollment code: \S+/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (c) => reject(new Error(`hub exited with ${c}:\n${out}`)));
  });
  return { url: /listening on (http:\/\/\S+)/.exec(out)![1]!, code: /Enrollment code: (\S+)/.exec(out)![1]!, child, dir: hubDir, log };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'clawkeep-ocs-'));
  hub = await startHub();
  expect((await deviceSend('POST', '/v1/accounts', { enrollment_code: hub.code, device_key: encodePublicKey(devicePub) })).status).toBe(201);

  // The agent: registered by the CLI, claimed by the device with secret:read:mock/apiKey.
  const stateFile = path.join(dir, 'agent.json');
  writeFileSync(path.join(dir, 'manifest.md'), '# OpenClaw gateway\nLoads its model API key from the vault.\n');
  const reg = await run(SYSTEM_NODE, [CLAWKEEP, 'agent', 'register', '--hub', hub.url, '--name', 'openclaw-gateway', '--manifest', path.join(dir, 'manifest.md'), '--state', stateFile, '--scopes', `secret:read:${ITEM}`, '--json']);
  expect(reg.code, reg.stderr).toBe(0);
  const { agent_id, claim_code } = JSON.parse(reg.stdout);
  const pub = agentPublicKeys(stateKeys(parseAgentState(JSON.parse(readFileSync(stateFile, 'utf8')))));
  installationId = `ins_${toBase64Url(ed25519.utils.randomSecretKey().subarray(0, 16))}`;
  const statement: ClaimStatement = {
    hub: hub.url, agent_id, agent_signing_key: pub.signing_key, agent_box_key: pub.box_key, claim_code_hash: claimCodeHash(claim_code),
    granted_scopes: [`secret:read:${ITEM}`], policy: makePolicy([], null), installation_id: installationId,
    device_key: encodePublicKey(devicePub), time: Date.now(),
  };
  const claimed = await deviceSend('POST', '/v1/claims', { claim: { statement, signature: toBase64Url(ed25519.sign(claimBytes(statement), devicePriv)) } });
  expect(claimed.status, JSON.stringify(claimed.json)).toBe(201);
  expect((await run(SYSTEM_NODE, [CLAWKEEP, 'agent', 'status', '--state', stateFile])).code).toBe(0);

  // The device (standing in for the extension): approves every pending request for the item and seals the value.
  const box = fromBase64UrlFixed(pub.box_key, 32, 'box');
  let busy = false;
  poller = setInterval(async () => {
    if (busy || !approving) return;
    busy = true;
    try {
      const list = await deviceSend('GET', '/v1/intents?status=pending');
      for (const intent of list.json?.intents ?? []) {
        if (intent.kind !== 'secret.request' || intent.payload.item !== ITEM) continue;
        const approval = signApproval(devicePriv, { hub: hub.url, intent_id: intent.intent_id, payload_hash: intent.payload_hash, decision: 'approve', installation_id: intent.installation_id, time: Date.now() });
        const sealed = toBase64Url(sealSecret(box, utf8Encode(VALUE), { intent_id: intent.intent_id, payload_hash: intent.payload_hash, agent_id: intent.agent_id }));
        const res = await deviceSend('POST', `/v1/intents/${intent.intent_id}/decision`, { approval, sealed_secret: sealed });
        if (res.status === 200) approved++;
      }
    } finally {
      busy = false;
    }
  }, 150);

  oc = await startOpenClaw();
  const provider = {
    source: 'exec', command: CLAWKEEP,
    args: ['openclaw-secret', '--state', stateFile, '--timeout-ms', '30000', '--gateway', 'test'],
    // OpenClaw starts it with an empty environment: the shebang (`env node`) needs PATH.
    env: { PATH: `${path.dirname(SYSTEM_NODE)}:/usr/bin:/bin` }, timeoutMs: 30000, jsonOnly: true,
  };
  const set1 = await oc.openclaw(['config', 'set', 'secrets.providers.clawkeep', JSON.stringify(provider), '--strict-json']);
  expect(set1.code, set1.stderr + set1.stdout).toBe(0);
  const set2 = await oc.openclaw(['config', 'set', 'models.providers.mock.apiKey', JSON.stringify({ source: 'exec', provider: 'clawkeep', id: ITEM }), '--strict-json']);
  expect(set2.code, set2.stderr + set2.stdout).toBe(0);
}, 240_000);

afterAll(async () => {
  if (poller) clearInterval(poller);
  await oc?.stop();
  if (hub) {
    hub.child.kill('SIGTERM');
    rmSync(hub.dir, { recursive: true, force: true });
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function chatKey(session: string): Promise<string | undefined> {
  const sender = await connectClient({ url: oc.gatewayUrl, token: oc.token, scopes: ['operator.read', 'operator.write', 'operator.approvals'] });
  try {
    const before = oc.mock.requests().length;
    const sent = await sender.request('chat.send', { sessionKey: `agent:main:${session}`, message: `[${session}] hello`, idempotencyKey: `${session}-${Date.now()}` });
    expect(sent.ok).toBe(true);
    for (let i = 0; i < 300; i++) {
      const reqs = oc.mock.requests().slice(before);
      if (reqs.length) return reqs[0].authorization;
      await new Promise((r) => setTimeout(r, 100));
    }
    return undefined;
  } finally {
    await sender.close();
  }
}

test('the model request carries the key served from the vault after the approval', async () => {
  // The config edit hot-reloads the gateway, which resolves the SecretRef through the provider.
  let auth: string | undefined;
  for (let i = 0; i < 20 && auth !== `Bearer ${VALUE}`; i++) {
    auth = await chatKey(`secret-${i}`);
    if (auth !== `Bearer ${VALUE}`) await new Promise((r) => setTimeout(r, 1000));
  }
  expect(auth).toBe(`Bearer ${VALUE}`);
  expect(approved).toBeGreaterThanOrEqual(1);
  expect(oc.logs()).not.toContain(VALUE);
});

test('after revocation the provider answers REVOKED (OpenClaw keeps its last good value, marked stale)', async () => {
  approving = false;
  expect((await deviceSend('DELETE', `/v1/installations/${installationId}`)).status).toBe(200);
  const stateFile = path.join(dir, 'agent.json');
  const r = await run(SYSTEM_NODE, [CLAWKEEP, 'openclaw-secret', '--state', stateFile, '--timeout-ms', '5000'], JSON.stringify({ protocolVersion: 1, provider: 'clawkeep', ids: [ITEM] }));
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ protocolVersion: 1, values: {}, errors: { [ITEM]: { code: 'REVOKED' } } });
  const reload = await oc.openclaw(['secrets', 'reload']);
  expect(`${reload.stdout}${reload.stderr}`).not.toContain(VALUE);
});

// `clawkeep agent` as a process against a real `clawkeep hub` process, and the human's device signing over HTTP with
// its real key: shared by the CLI tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { expect } from 'vitest';
import { utf8Encode } from '../../../lib/bytes';
import { claimBytes, signApproval, type ClaimStatement } from '../../../lib/protocol/approval';
import { fromBase64UrlFixed, toBase64Url } from '../../../lib/protocol/base64url';
import { claimCodeHash } from '../../../lib/protocol/claim-code';
import { deviceKeyId, encodePublicKey } from '../../../lib/protocol/keys';
import { signRequest } from '../../../lib/protocol/request-signing';
import { sealSecret } from '../../../lib/protocol/sealed-secret';
import { buildResponseDelivery, type HttpOutcome } from '../../../lib/protocol/sealed-response';
import { encodeConfigPayload, type AgentConfigPayload } from '../../../lib/protocol/config-payload';
import { buildConfigDelivery } from '../../../lib/protocol/sealed-config';
import { runClawkeep as clawkeep } from '../cli/run-clawkeep';
import { BIN, ROOT, tempDir } from '../hub/helpers';

const running: ChildProcess[] = [];
/** Kills the hubs startHub started (each test file calls it after each test). */
export function stopHubs(): void {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
}

/** Starts a real `clawkeep hub --port 0` and resolves with its URL and first enrollment code. */
export function startHub(): Promise<{ url: string; enrollmentCode: string }> {
  const child = spawn(process.execPath, [BIN, 'hub', '--port', '0', '--data', path.join(tempDir(), 'hub')], {
    cwd: ROOT,
  });
  running.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ url: m[1]!, enrollmentCode: /Enrollment code: (\S+)/.exec(out)![1]! });
    });
    child.on('close', (code) => reject(new Error(`hub exited ${code}: ${out}`)));
  });
}

/** The human's device, talking to the real hub over HTTP with signed requests. */
export async function enrolledDevice(hub: { url: string; enrollmentCode: string }) {
  const privateKey = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(privateKey);
  const keyId = deviceKeyId(publicKey);
  async function send(method: string, p: string, body?: unknown) {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...(text ? { 'content-type': 'application/json' } : {}),
      ...signRequest({
        role: 'human',
        keyId,
        privateKey,
        method,
        path: p,
        body: text ? utf8Encode(text) : undefined,
        hub: hub.url,
      }),
    };
    const res = await fetch(hub.url + p, { method, headers, body: text });
    return { status: res.status, json: await res.json() };
  }
  expect(
    (
      await send('POST', '/v1/accounts', {
        enrollment_code: hub.enrollmentCode,
        device_key: encodePublicKey(publicKey),
      })
    ).status,
  ).toBe(201);

  return {
    send,
    /** Looks the code up and signs a claim granting `granted`, as the extension would. */
    async claim(code: string, granted: string[]) {
      const lookup = (await send('POST', '/v1/claims/lookup', { claim_code: code })).json;
      const statement: ClaimStatement = {
        hub: hub.url,
        agent_id: lookup.agent_id,
        agent_signing_key: lookup.signing_key,
        agent_box_key: lookup.box_key,
        claim_code_hash: claimCodeHash(code),
        granted_scopes: [...granted].sort() as ClaimStatement['granted_scopes'],
        policy: {
          approval_required: ['action.approve', 'message.send', 'payment.send', 'secret.request', 'shell.exec'],
          daily_limit: null,
        },
        installation_id: `ins_${toBase64Url(ed25519.utils.randomSecretKey().subarray(0, 12))}`,
        device_key: encodePublicKey(publicKey),
        time: Date.now(),
      };
      const claim = { statement, signature: toBase64Url(ed25519.sign(claimBytes(statement), privateKey)) };
      expect((await send('POST', '/v1/claims', { claim })).status).toBe(201);
      return { ...lookup, installation_id: statement.installation_id } as {
        box_key: string;
        agent_id: string;
        installation_id: string;
      };
    },
    /** Seals and signs one revision of an agent config and PUTs it, as the extension does. */
    async deliverConfig(
      claimed: { box_key: string; agent_id: string; installation_id: string },
      revision: number,
      config: AgentConfigPayload,
    ) {
      const delivery = await buildConfigDelivery({
        hub: hub.url,
        agent_id: claimed.agent_id,
        installation_id: claimed.installation_id,
        config_id: 'cfg-cli',
        revision,
        boxKey: fromBase64UrlFixed(claimed.box_key, 32, 'box'),
        plaintext: encodeConfigPayload(config),
        sign: async (m) => ed25519.sign(m, privateKey),
        now: Date.now(),
      });
      return send('PUT', `/v1/installations/${claimed.installation_id}/config`, delivery);
    },
    /**
     * Waits for the next pending intent and decides it: sealing `sealed` to the agent for a secret.request (a
     * string: the secret) or an http.request (an outcome: the call's, or a refusal with a denial).
     */
    async decideNext(decision: 'approve' | 'deny', boxKey?: string, sealed?: string | HttpOutcome) {
      for (let i = 0; i < 100; i++) {
        const { intents } = (await send('GET', '/v1/intents?status=pending')).json;
        if (intents.length) {
          const intent = intents[0];
          const approval = signApproval(privateKey, {
            hub: hub.url,
            intent_id: intent.intent_id,
            payload_hash: intent.payload_hash,
            decision,
            installation_id: intent.installation_id,
            agent_nonce: intent.agent_nonce,
            time: Date.now(),
          });
          const body: Record<string, unknown> = { approval };
          if (typeof sealed === 'object') {
            body.http_response = await buildResponseDelivery({
              hub: hub.url,
              agent_id: intent.agent_id,
              installation_id: intent.installation_id,
              intent_id: intent.intent_id,
              payload_hash: intent.payload_hash,
              boxKey: fromBase64UrlFixed(boxKey!, 32, 'box'),
              outcome: sealed,
              sign: async (m) => ed25519.sign(m, privateKey),
              now: Date.now(),
            });
          } else if (sealed !== undefined) {
            body.sealed_secret = toBase64Url(
              sealSecret(fromBase64UrlFixed(boxKey!, 32, 'box'), utf8Encode(sealed), {
                intent_id: intent.intent_id,
                payload_hash: intent.payload_hash,
                agent_id: intent.agent_id,
              }),
            );
          }
          const res = await send('POST', `/v1/intents/${intent.intent_id}/decision`, body);
          expect(res.status, JSON.stringify(res.json)).toBe(200);
          return intent;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('no pending intent appeared');
    },
  };
}

export async function registerAgent(
  hub: { url: string },
  dir: string,
  scopes = 'secret:read:GitHub token,action:action.approve',
) {
  const manifest = path.join(dir, 'manifest.md');
  writeFileSync(manifest, '# test-bot\nOpens pull requests.\n');
  const state = path.join(dir, 'agent.json');
  const res = await clawkeep([
    'agent',
    'register',
    '--hub',
    hub.url,
    '--name',
    'test-bot',
    '--manifest',
    manifest,
    '--state',
    state,
    '--scopes',
    scopes,
    '--json',
  ]);
  return { res, state };
}

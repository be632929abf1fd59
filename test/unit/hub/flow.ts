import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { utf8Encode } from '../../../lib/bytes';
import { claimBytes, signApproval, type ApprovalStatement, type ClaimStatement } from '../../../lib/protocol/approval';
import { claimCodeHash } from '../../../lib/protocol/claim-code';
import { deviceKeyId, encodePublicKey } from '../../../lib/protocol/keys';
import { signKeyBinding } from '../../../lib/protocol/key-binding';
import {
  deviceRemovalBytes,
  installationRevocationBytes,
  type DeviceRemovalStatement,
  type InstallationRevocationStatement,
} from '../../../lib/protocol/revocation';
import { signRequest, type Role } from '../../../lib/protocol/request-signing';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { createHubApp } from '../../../hub/app';
import { generateHubIdentity, type HubIdentity } from '../../../hub/identity';
import type { HubStore } from '../../../hub/store/port';
import { enrollmentCodeHash, generateEnrollmentCode, issueFirstEnrollmentCode } from '../../../hub/enrollment';
import { jsonLinesLogger } from '../../../hub/logger';
import { openSqliteStore } from '../../../hub/store/sqlite';
import type { RateLimit } from '../../../hub/rate-limit';
import type { AdmissionLimits } from '../../../hub/intent-admission';

export const ORIGIN = 'http://127.0.0.1:8787';

/** An `action.approve` intent body, distinct per `n` (its idempotency key). */
export const ACTION = (n: number) => ({
  kind: 'action.approve',
  payload: { summary: `Step ${n}`, risk: 'low' },
  idempotency_key: `act-${n}`,
  agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
});

/** The POST /v1/pairings body a real new device sends: its keys, name and the CKKB binding its device key signs. */
export function pairingRequest(
  device: { publicKey: Uint8Array; privateKey: Uint8Array },
  boxKey: Uint8Array,
  name: string | null,
  time = Date.now(),
) {
  const device_key = encodePublicKey(device.publicKey);
  const box_key = encodePublicKey(boxKey);
  return {
    device_key,
    box_key,
    name,
    key_binding: signKeyBinding(device.privateKey, {
      hub: ORIGIN,
      role: 'device',
      signing_key: device_key,
      box_key,
      name,
      time,
    }),
  };
}

/**
 * `app.request('/v1/...')` alone builds `http://localhost/v1/...`, a host the hub refuses (hub/request-guard.ts):
 * a bare path is sent to ORIGIN, as a client configured with the hub's URL would send it. Full URLs pass as given.
 */
export function atOrigin<A extends { request: (input: any, ...rest: any[]) => any }>(app: A, origin = ORIGIN): A {
  const request = app.request;
  app.request = ((input: unknown, ...rest: unknown[]) =>
    request(typeof input === 'string' && input.startsWith('/') ? origin + input : input, ...rest)) as A['request'];
  return app;
}

/** A hub over an in-memory store with a movable clock, plus real signed clients for a device and agents. */
export async function hubFixture(
  start = Date.parse('2026-11-23T12:00:00Z'),
  options: {
    identity?: HubIdentity;
    store?: HubStore;
    signedRequestLimit?: RateLimit;
    eventStreamLifetimeMs?: number;
    intentAdmission?: AdmissionLimits;
  } = {},
) {
  const clock = { now: start };
  const store = options.store ?? openSqliteStore({ file: ':memory:' });
  const logLines: string[] = [];
  // The hub's identity key: injected (a restart of the same hub, a second hub) or a fresh one.
  const identity = options.identity ?? generateHubIdentity();
  const app = atOrigin(
    createHubApp({
      store,
      now: () => clock.now,
      logger: jsonLinesLogger((l) => logLines.push(l)),
      origin: ORIGIN,
      identity,
      signedRequestLimit: options.signedRequestLimit,
      eventStreamLifetimeMs: options.eventStreamLifetimeMs,
      intentAdmission: options.intentAdmission,
    }),
  );
  const enrollmentCode = (await issueFirstEnrollmentCode(store, clock.now))!;
  /** Where `send` goes: this fixture's app, or another hub instance's (multi-instance tests, `routeTo`). */
  let target: { request: typeof app.request } = app;
  function routeTo(other: { request: typeof app.request } | null): void {
    target = other ?? app;
  }

  interface Signer {
    role: Role;
    keyId: string;
    privateKey: Uint8Array;
  }
  /** Sends a request signed as `signer`; `tamper` may change what is sent after signing (negative tests). */
  async function send(
    signer: Signer | null,
    method: string,
    path: string,
    body?: unknown,
    tamper?: (init: { headers: Record<string, string>; body?: string }) => void,
  ) {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = text ? { 'content-type': 'application/json' } : {};
    if (signer) {
      Object.assign(
        headers,
        signRequest({
          role: signer.role,
          keyId: signer.keyId,
          privateKey: signer.privateKey,
          method,
          path,
          body: text ? utf8Encode(text) : undefined,
          hub: ORIGIN,
          now: clock.now,
        }),
      );
    }
    const init = { headers, body: text };
    tamper?.(init);
    const res = await target.request(path, { method, headers: init.headers, body: init.body });
    const json = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
    return { status: res.status, json: json as Record<string, any>, headers: res.headers };
  }

  function newDevice() {
    const privateKey = ed25519.utils.randomSecretKey();
    const publicKey = ed25519.getPublicKey(privateKey);
    const signer: Signer = { role: 'human', keyId: deviceKeyId(publicKey), privateKey };
    return {
      ...signer,
      publicKey,
      send: (m: string, p: string, b?: unknown, t?: Parameters<typeof send>[4]) => send(signer, m, p, b, t),
    };
  }
  type Device = ReturnType<typeof newDevice>;

  async function enrolledDevice(code = enrollmentCode): Promise<Device> {
    const device = newDevice();
    const res = await device.send('POST', '/v1/accounts', {
      enrollment_code: code,
      device_key: encodePublicKey(device.publicKey),
    });
    if (res.status !== 201) throw new Error(`enrol failed: ${JSON.stringify(res.json)}`);
    return device;
  }

  async function registeredAgent(name = 'research-bot', scopes = ['secret:read:arxiv-key', 'action:action.approve']) {
    const privateKey = ed25519.utils.randomSecretKey();
    const boxPrivate = x25519.utils.randomSecretKey();
    const signing_key = encodePublicKey(ed25519.getPublicKey(privateKey));
    const box_key = encodePublicKey(x25519.getPublicKey(boxPrivate));
    const res = await send(null, 'POST', '/v1/agents', {
      name,
      signing_key,
      box_key,
      manifest: { markdown: `# ${name}` },
      requested_scopes: scopes,
      key_binding: signKeyBinding(privateKey, {
        hub: ORIGIN,
        role: 'agent',
        signing_key,
        box_key,
        name,
        time: clock.now,
      }),
    });
    if (res.status !== 201) throw new Error(`register failed: ${JSON.stringify(res.json)}`);
    const signer: Signer = { role: 'agent', keyId: res.json.agent_id, privateKey };
    return {
      ...signer,
      agentId: res.json.agent_id as string,
      claimCode: res.json.claim_code as string,
      signingKey: ed25519.getPublicKey(privateKey),
      boxPrivate,
      boxKey: x25519.getPublicKey(boxPrivate),
      send: (m: string, p: string, b?: unknown, t?: Parameters<typeof send>[4]) => send(signer, m, p, b, t),
    };
  }
  type RegisteredAgent = Awaited<ReturnType<typeof registeredAgent>>;

  /** The claim statement a device signs for `agent` (overrides for negative tests). */
  function claimFor(device: Device, agent: RegisteredAgent, overrides: Partial<ClaimStatement> = {}) {
    const statement: ClaimStatement = {
      hub: ORIGIN,
      agent_id: agent.agentId,
      agent_signing_key: encodePublicKey(agent.signingKey),
      agent_box_key: encodePublicKey(agent.boxKey),
      claim_code_hash: claimCodeHash(agent.claimCode),
      granted_scopes: ['secret:read:arxiv-key'],
      policy: {
        approval_required: ['action.approve', 'message.send', 'payment.send', 'secret.request', 'shell.exec'],
        daily_limit: null,
      },
      installation_id: `ins_${toBase64Url(ed25519.utils.randomSecretKey().subarray(0, 16))}`,
      device_key: encodePublicKey(device.publicKey),
      time: clock.now,
      ...overrides,
    };
    return { statement, signature: toBase64Url(ed25519.sign(claimBytes(statement), device.privateKey)) };
  }

  /** The ck-* headers for a request signed now (for raw app.request calls, e.g. reading an event stream). */
  function signedHeaders(signer: Signer, method: string, path: string, body?: string): Record<string, string> {
    return {
      ...signRequest({
        role: signer.role,
        keyId: signer.keyId,
        privateKey: signer.privateKey,
        method,
        path,
        body: body ? utf8Encode(body) : undefined,
        hub: ORIGIN,
        now: clock.now,
      }),
    };
  }

  /** Another one-time enrollment code (the hub prints only the first; a second human needs one too). */
  async function extraEnrollmentCode(): Promise<string> {
    const code = generateEnrollmentCode();
    await store.enrollment.create(enrollmentCodeHash(code), clock.now);
    return code;
  }

  /** An agent registered and claimed by `device`, granting `granted` (sorted) under `policy`. */
  async function claimedAgent(
    device: Device,
    options: { name?: string; granted?: string[]; policy?: ClaimStatement['policy'] } = {},
  ) {
    const granted = options.granted ?? ['action:action.approve', 'secret:read:arxiv-key'];
    const agent = await registeredAgent(options.name, granted);
    const claim = claimFor(device, agent, {
      granted_scopes: granted as ClaimStatement['granted_scopes'],
      ...(options.policy ? { policy: options.policy } : {}),
    });
    const res = await device.send('POST', '/v1/claims', { claim });
    if (res.status !== 201) throw new Error(`claim failed: ${JSON.stringify(res.json)}`);
    return { ...agent, installationId: claim.statement.installation_id };
  }

  /** The device's signed decision on `intent` (overrides for negative tests). */
  function approvalFor(
    device: Device,
    intent:
      { intent_id: string; payload_hash: string; installation_id: string; agent_nonce?: string } | Record<string, any>,
    decision: 'approve' | 'deny' = 'approve',
    overrides: Partial<ApprovalStatement> = {},
  ) {
    const { intent_id, payload_hash, installation_id, agent_nonce } = intent;
    return signApproval(device.privateKey, {
      hub: ORIGIN,
      intent_id,
      payload_hash,
      decision,
      installation_id,
      agent_nonce,
      time: clock.now,
      ...overrides,
    });
  }

  /**
   * The DELETE /v1/devices/:id body: a CKDR `remover` signs for `removed` on `accountId` (the enrolling device's key
   * id; defaults to the remover's own, i.e. the remover enrolled). Overrides for negative tests.
   */
  function removalFor(
    remover: Device,
    removed: { publicKey: Uint8Array },
    accountId = remover.keyId,
    overrides: Partial<DeviceRemovalStatement> = {},
  ) {
    const statement: DeviceRemovalStatement = {
      hub: ORIGIN,
      account_id: accountId,
      device_key_id: deviceKeyId(removed.publicKey),
      device_key: encodePublicKey(removed.publicKey),
      removed_by: encodePublicKey(remover.publicKey),
      time: clock.now,
      ...overrides,
    };
    return {
      removal: { statement, signature: toBase64Url(ed25519.sign(deviceRemovalBytes(statement), remover.privateKey)) },
    };
  }

  /** The DELETE /v1/installations/:id body: a CKIR `device` signs for `agent`'s installation. */
  function revocationFor(
    device: Device,
    agent: { installationId: string; signingKey: Uint8Array },
    overrides: Partial<InstallationRevocationStatement> = {},
  ) {
    const statement: InstallationRevocationStatement = {
      hub: ORIGIN,
      installation_id: agent.installationId,
      agent_signing_key: encodePublicKey(agent.signingKey),
      revoked_by: encodePublicKey(device.publicKey),
      time: clock.now,
      ...overrides,
    };
    return {
      revocation: {
        statement,
        signature: toBase64Url(ed25519.sign(installationRevocationBytes(statement), device.privateKey)),
      },
    };
  }

  return {
    app,
    routeTo,
    store,
    clock,
    logLines,
    enrollmentCode,
    identity,
    send,
    newDevice,
    enrolledDevice,
    registeredAgent,
    claimFor,
    signedHeaders,
    extraEnrollmentCode,
    claimedAgent,
    approvalFor,
    removalFor,
    revocationFor,
  };
}

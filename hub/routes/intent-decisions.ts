import { Hono } from 'hono';
import { toHex, utf8Decode, utf8Encode } from '../../lib/bytes';
import { needsDevice } from '../../lib/protocol/intent-kinds';
import { verifyResponseDelivery } from '../../lib/protocol/sealed-response';
import { verifyApproval } from '../../lib/protocol/approval';
import { fromBase64Url, toBase64Url } from '../../lib/protocol/base64url';
import { SEALED_SECRET_MAX_PLAINTEXT } from '../../lib/protocol/sealed-secret';
import { DecisionRequestSchema, parseWire, type DecisionRequest, type ExecuteResponse } from '../../lib/protocol/wire';
import type { HubDeps } from '../deps';
import { appendAudit } from '../audit';
import { authenticateAgent, authenticateHuman, jsonBody } from '../auth';
import { deviceList } from './devices';
import { HubError } from '../errors';
import { intentEvents } from '../events';
import { EXECUTE_REPLAY_MS } from '../execute-replay';
import { expireDueIntents } from '../intent-expiry';
import type { HubEnv } from '../middleware';
import type { Installation, Intent } from '../store/port';
import {
  agentInstallation,
  agentIntent,
  humanIntent,
  LOCK_AFTER_DENIALS,
  toWireIntent,
  wireStatus,
} from './intent-view';

const CKSS_HEAD = [0x43, 0x4b, 0x53, 0x53, 0x01];
/** "CKSS" | 0x01 | ephemeral key 32 | nonce 24, then ciphertext and a 16-byte tag (docs/protocol.md §6). */
const CKSS_MIN = 5 + 32 + 24 + 16;

/**
 * The shape of a sealed secret, which is all the hub can check: strict base64url, the CKSS v1 header, and a
 * length between an empty and a 64 KiB plaintext. Only the agent can open it. Runs before the schema so a
 * malformed blob gets `sealed_invalid`, not the generic `protocol_invalid`.
 */
function checkSealedShape(body: unknown): void {
  const sealed = (body as { sealed_secret?: unknown } | null)?.sealed_secret;
  if (typeof sealed !== 'string') return;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(sealed);
  } catch {
    throw new HubError('sealed_invalid', 'sealed_secret is not base64url.');
  }
  const headerOk = CKSS_HEAD.every((b, i) => bytes[i] === b);
  if (!headerOk || bytes.length < CKSS_MIN || bytes.length > CKSS_MIN + SEALED_SECRET_MAX_PLAINTEXT) {
    throw new HubError('sealed_invalid', 'sealed_secret is not a CKSS v1 sealed secret.');
  }
}

/**
 * An http.request's outcome as the deciding device sent it (lib/protocol/sealed-response.ts): required to approve
 * one, optional with a denial (a refusal the device made unasked), refused with any other kind. The hub checks what
 * it can: the device's signature over this intent, payload and agent, and that the box is the one signed; only the
 * agent can open it. Returns the bytes to keep (the delivery as canonical JSON), or null.
 */
function checkHttpResponse(
  delivery: DecisionRequest['http_response'],
  approve: boolean,
  intent: Intent,
  installation: Installation,
  deviceKey: Uint8Array,
  deps: HubDeps,
): Uint8Array | null {
  if (intent.kind !== 'http.request') {
    if (delivery !== undefined)
      throw new HubError('protocol_invalid', 'http_response: only sent when deciding an http.request.');
    return null;
  }
  if (delivery === undefined) {
    if (approve) throw new HubError('protocol_invalid', 'http_response: required to approve an http.request.');
    return null;
  }
  try {
    verifyResponseDelivery(deviceKey, delivery, {
      hub: deps.origin,
      agent_id: installation.agentId,
      installation_id: installation.installationId,
      intent_id: intent.intentId,
      payload_hash: toHex(intent.payloadHash),
    });
  } catch {
    throw new HubError('sealed_invalid', 'http_response is not a response this device signed for this intent.');
  }
  // JSON, not canonicalBytes: a delivery carries up to a 1 MiB answer, past canonical JSON's 64 KiB ceiling.
  return utf8Encode(JSON.stringify(delivery));
}

/** The stored delivery (canonical JSON, written by checkHttpResponse) as the agent receives it. */
const storedDelivery = (bytes: Uint8Array): unknown => JSON.parse(utf8Decode(bytes)) as unknown;

/** Throws the API error for an intent that cannot take a decision now. */
function assertDecidable(intent: Intent, installation: Installation, now: number): void {
  const status = wireStatus(intent, installation, now);
  if (status === 'expired') throw new HubError('intent_expired', 'The intent expired before it was decided.');
  if (status !== 'pending')
    throw new HubError('intent_not_pending', 'A decision was already recorded for this intent.');
}

/** Throws the API error for an intent that cannot be executed now. */
function assertExecutable(intent: Intent, installation: Installation, now: number): void {
  const status = wireStatus(intent, installation, now);
  if (status === 'executed') throw new HubError('intent_already_executed', 'This intent was executed already.');
  if (status === 'expired') throw new HubError('intent_expired', 'The intent expired before it was executed.');
  if (status !== 'approved') throw new HubError('intent_required', `The intent is ${status}, not approved.`);
}

/**
 * Whether an executed intent may be answered again (issue 16, hub/execute-replay.ts): within EXECUTE_REPLAY_MS of
 * its execution, asked by its own agent through the installation it was executed under, still live. Anyone else
 * (another agent cannot even see it: agentIntent; the same agent re-claimed under another installation; a revoked
 * one) gets `intent_already_executed`, as everyone did before the window existed.
 */
function replayable(intent: Intent, installation: Installation, live: Installation, now: number): boolean {
  return (
    intent.executedAt !== null &&
    now < intent.executedAt + EXECUTE_REPLAY_MS &&
    installation.installationId === live.installationId &&
    installation.status !== 'revoked'
  );
}

/**
 * `POST /v1/intents/:id/decision` (human owner, device-signed approval or denial) and `POST /v1/intents/:id/execute`
 * (agent owner, once in effect; answered again for a bounded time, see replayable). State checks run again inside
 * each transaction, next to the guarded update, so two racing callers change the intent once.
 */
export function intentDecisionRoutes(deps: HubDeps): Hono<HubEnv> {
  const events = intentEvents(deps.store);
  return new Hono<HubEnv>()
    .post('/intents/:id/decision', async (c) => {
      const { account, device, body } = await authenticateHuman(c, deps);
      const raw = jsonBody(body);
      checkSealedShape(raw);
      const req = parseWire(DecisionRequestSchema, raw);
      await expireDueIntents(deps.store, deps.now(), c.get('requestId'));
      const { intent, installation } = await humanIntent(deps, account, c.req.param('id'));
      assertDecidable(intent, installation, deps.now());
      // An intent from before CKAP v2 has no agent nonce to sign: it can only expire.
      if (intent.agentNonce === null)
        throw new HubError('approval_invalid', 'This intent predates agent nonces (CKAP v2) and cannot be decided.');
      // Bound to the hash the hub stored at creation and to the agent's nonce: an approval for any other payload or
      // request is refused (the agent checks the nonce again itself).
      const statement = verifyApproval(device.publicKey, req.approval, {
        hub: deps.origin,
        intent_id: intent.intentId,
        payload_hash: toHex(intent.payloadHash),
        installation_id: installation.installationId,
        agent_nonce: intent.agentNonce,
      });
      const approve = statement.decision === 'approve';
      const needsSecret = approve && intent.kind === 'secret.request';
      if (needsSecret && req.sealed_secret === undefined)
        throw new HubError('protocol_invalid', 'sealed_secret: required to approve a secret.request.');
      if (!needsSecret && req.sealed_secret !== undefined)
        throw new HubError('protocol_invalid', 'sealed_secret: only sent when approving a secret.request.');
      const response = checkHttpResponse(req.http_response, approve, intent, installation, device.publicKey, deps);
      const now = deps.now();
      const requestId = c.get('requestId');
      const actor = `account:${account.accountId}`;
      const decided = await deps.store.transaction(async () => {
        assertDecidable(
          (await deps.store.intents.get(intent.intentId))!,
          (await deps.store.installations.get(installation.installationId))!,
          now,
        );
        const decided = await deps.store.intents.decide(intent.intentId, {
          status: approve ? 'approved' : 'denied',
          decidedAt: now,
          decisionStatement: req.approval as unknown as Parameters<
            typeof deps.store.intents.decide
          >[1]['decisionStatement'],
        });
        if (needsSecret) await deps.store.sealedSecrets.put(intent.intentId, fromBase64Url(req.sealed_secret!));
        if (response) await deps.store.sealedSecrets.put(intent.intentId, response);
        const base = {
          time: now,
          actor,
          agent: installation.agentId,
          requestId,
          idempotencyKey: intent.idempotencyKey,
        };
        await appendAudit(deps.store, {
          ...base,
          resource: `intent:${intent.intentId}`,
          action: approve ? 'intent.approve' : 'intent.deny',
        });
        const counted = await deps.store.installations.recordDecision(installation.installationId, approve, now);
        if (!approve && counted.status === 'active' && counted.consecutiveDenials >= LOCK_AFTER_DENIALS) {
          await deps.store.installations.setStatus(installation.installationId, 'locked', now);
          await appendAudit(deps.store, {
            ...base,
            actor: 'hub',
            resource: `installation:${installation.installationId}`,
            action: 'installation.lock',
          });
        }
        return decided;
      });
      events.publish({ accountId: installation.accountId, intentIds: [intent.intentId] });
      return c.json(toWireIntent(decided, (await deps.store.installations.get(installation.installationId))!, now));
    })
    .post('/intents/:id/execute', async (c) => {
      const { agent, body } = await authenticateAgent(c, deps);
      if (body.length > 0) throw new HubError('protocol_invalid', 'POST /v1/intents/:id/execute takes an empty body.');
      const live = await agentInstallation(deps, agent.agentId);
      await expireDueIntents(deps.store, deps.now(), c.get('requestId'));
      const { intent, installation } = await agentIntent(deps, agent, c.req.param('id'));
      const now = deps.now();
      const { executed, sealed, repeat } = await deps.store.transaction(async () => {
        const current = (await deps.store.intents.get(intent.intentId))!;
        const currentInstallation = (await deps.store.installations.get(installation.installationId))!;
        if (replayable(current, currentInstallation, live, now)) {
          // The same answer again (a lost response): nothing changes, no second audit row. A secret.request whose
          // blob is gone (the retention sweep) cannot be answered the same way and is refused below.
          const sealed = await deps.store.sealedSecrets.get(intent.intentId);
          if (!needsDevice(current.kind) || sealed) return { executed: current, sealed, repeat: true };
        }
        assertExecutable(current, currentInstallation, now);
        const executed = await deps.store.intents.markExecuted(intent.intentId, now);
        // Kept for EXECUTE_REPLAY_MS so a lost answer can be fetched again, then deleted by the server's sweep
        // (purgeDeliveredSecrets): ciphertext sealed to this agent, which only it can open.
        const sealed = await deps.store.sealedSecrets.get(intent.intentId);
        await deps.store.installations.touch(installation.installationId, now);
        await appendAudit(deps.store, {
          time: now,
          actor: `agent:${agent.agentId}`,
          agent: agent.agentId,
          resource: `intent:${intent.intentId}`,
          action: 'intent.execute',
          requestId: c.get('requestId'),
          idempotencyKey: intent.idempotencyKey,
        });
        return { executed, sealed, repeat: false };
      });
      if (!repeat) events.publish({ accountId: installation.accountId, intentIds: [intent.intentId] });
      const response: ExecuteResponse = { intent: toWireIntent(executed, installation, now) };
      if (executed.decisionStatement !== null)
        response.approval = executed.decisionStatement as unknown as ExecuteResponse['approval'];
      if (sealed && executed.kind === 'http.request') response.http_response = storedDelivery(sealed);
      else if (sealed) response.sealed_secret = toBase64Url(sealed);
      // Another device of the account may have approved: the agent checks it descends from the device it pinned.
      const account = (await deps.store.accounts.get(installation.accountId))!;
      if (executed.decisionStatement !== null && (await deps.store.devices.listByAccount(account.accountId)).length > 0)
        response.devices = await deviceList(deps, account);
      return c.json(response);
    });
}

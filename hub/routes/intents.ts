import { Hono, type Context } from 'hono';
import { randomBytes, toHex, fromHex, utf8Decode } from '../../lib/bytes';
import { toBase64Url } from '../../lib/protocol/base64url';
import { canonicalize } from '../../lib/protocol/canonical';
import { intentRisk, payloadHash } from '../../lib/protocol/intent-hash';
import { needsDevice } from '../../lib/protocol/intent-kinds';
import { requiredScope } from '../../lib/protocol/scopes';
import { CreateIntentRequestSchema, parseWire } from '../../lib/protocol/wire';
import type { HubDeps } from '../deps';
import { appendAudit } from '../audit';
import { authenticateAgent, authenticateHuman, jsonBody } from '../auth';
import { HubError } from '../errors';
import { intentEvents } from '../events';
import { expireDueIntents } from '../intent-expiry';
import type { HubEnv } from '../middleware';
import { limiterFor, type Limiter } from '../rate-limit';
import type { Agent, Installation } from '../store/port';
import { AGENT_REFUSALS } from '../../lib/protocol/audit-actions';
import { recordRefusal, type Refusal } from '../refusal-audit';
import { enforceLimit } from './client-address';
import {
  agentInstallation,
  agentIntent,
  assertDeviceActive,
  authenticateEither,
  humanIntent,
  INTENT_TTL_MS,
  toWireIntent,
} from './intent-view';
import { pendingPage } from './intent-changes';
import { deviceList } from './devices';
import {
  decodePageCursor,
  PENDING_PAGE_DEFAULT,
  PENDING_PAGE_MAX,
  type IntentPage,
} from '../../lib/protocol/intent-events-wire';

/**
 * Intent creations per installation. There is deliberately no budget per account (issue 16): three busy agents of
 * one person used it up and a quiet agent's first request got 429. Each agent is bounded by its own installation's
 * budget here and by its signing key's budget for every signed request (hub/auth.ts, SIGNED_REQUEST_LIMIT), so one
 * agent cannot spend another's.
 */
export const INSTALLATION_CREATE_LIMIT = { burst: 20, sustained: 120, perSeconds: 3600 };

export interface IntentRouteOptions {
  /** Intent creations per installation (INSTALLATION_CREATE_LIMIT by default). */
  installationLimiter?: Limiter;
}

/**
 * Whether a kind needs the human's signed decision under the installation's signed policy. `secret.request` and
 * `http.request` always do (needsDevice): only the device can open the vault, seal the secret or make the call with
 * it, so there is nothing the hub could do itself.
 */
function approvalRequired(installation: Installation, kind: string): boolean {
  if (needsDevice(kind)) return true;
  const required = (installation.policy as { approval_required?: unknown } | null)?.approval_required;
  return !Array.isArray(required) || required.includes(kind);
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The signed policy's daily limit: at most N intents per rolling 24 hours, counted in the store inside the create
 * transaction. Refused with 429 and Retry-After = seconds until the oldest intent in the window leaves it.
 */
async function enforceDailyLimit(deps: HubDeps, installation: Installation, now: number): Promise<void> {
  const limit = (installation.policy as { daily_limit?: unknown } | null)?.daily_limit;
  if (typeof limit !== 'number') return;
  const { count, oldest } = await deps.store.intents.countCreatedSince(installation.installationId, now - DAY_MS + 1);
  if (count < limit) return;
  const retryAfter = Math.max(1, Math.ceil(((oldest ?? now) + DAY_MS - now) / 1000));
  throw new HubError('rate_limited', `daily limit of ${limit} requests reached`, {
    headers: { 'Retry-After': String(retryAfter) },
  });
}

/**
 * `POST /v1/intents` (agent), `GET /v1/intents?status=pending` (human), `GET /v1/intents/:id` (agent: own;
 * human: own installation). Decisions and execution are in intent-decisions.ts.
 */
export function intentRoutes(deps: HubDeps, options: IntentRouteOptions = {}): Hono<HubEnv> {
  const perInstallation =
    options.installationLimiter ?? limiterFor(deps.store, 'intent-create', INSTALLATION_CREATE_LIMIT, deps.now);
  const events = intentEvents(deps.store);

  /** Creates the intent once the agent and its live installation are known; every refusal is a HubError. */
  const createIntent = async (c: Context<HubEnv>, agent: Agent, installation: Installation, body: Uint8Array) => {
    if (installation.status === 'locked') {
      throw new HubError(
        'forbidden',
        `This installation is locked after ${installation.consecutiveDenials} denials in a row; the human must re-enable it.`,
      );
    }
    await enforceLimit(perInstallation, installation.installationId);
    const req = parseWire(CreateIntentRequestSchema, jsonBody(body));
    const scope = requiredScope(req.kind, req.payload);
    if (!(installation.grantedScopes as string[]).includes(scope)) {
      throw new HubError(
        'scope_not_granted',
        `This installation was not granted ${scope.startsWith('secret:') ? 'that secret' : `"${scope}"`}.`,
      );
    }
    // The hub hashes what it stores; an agent-supplied hash is never trusted.
    const hash = payloadHash(req.kind, req.payload);
    const payload = canonicalize(req.payload);
    const now = deps.now();
    const requestId = c.get('requestId');
    const audit = {
      time: now,
      actor: `agent:${agent.agentId}`,
      agent: agent.agentId,
      requestId,
      idempotencyKey: req.idempotency_key,
    };
    const { intent, created } = await deps.store.transaction(
      async () => {
        const existing = await deps.store.intents.getByIdempotencyKey(installation.installationId, req.idempotency_key);
        if (existing) {
          // The kind is inside the hash, so equal hashes mean the same kind and payload.
          if (toHex(existing.payloadHash) !== hash) {
            throw new HubError('idempotency_conflict', 'This idempotency_key was used for a different intent.');
          }
          return { intent: existing, created: false };
        }
        await enforceDailyLimit(deps, installation, now);
        const intentId = `int_${toBase64Url(randomBytes(16))}`;
        let intent = await deps.store.intents.create({
          intentId,
          installationId: installation.installationId,
          kind: req.kind,
          payload,
          payloadHash: fromHex(hash),
          idempotencyKey: req.idempotency_key,
          risk: intentRisk(req.kind, req.payload),
          createdAt: now,
          expiresAt: now + INTENT_TTL_MS,
          // Relayed to the device, which signs it into the approval (CKAP v2): the agent checks it is its own.
          agentNonce: req.agent_nonce,
        });
        await appendAudit(deps.store, { ...audit, resource: `intent:${intentId}`, action: 'intent.create' });
        if (!approvalRequired(installation, req.kind)) {
          // The signed policy lets this kind run without a decision: approved with no statement (§10).
          intent = await deps.store.intents.decide(intentId, {
            status: 'approved',
            decidedAt: now,
            decisionStatement: null,
          });
          await appendAudit(deps.store, {
            ...audit,
            actor: 'hub',
            resource: `intent:${intentId}`,
            action: 'intent.auto_approve',
          });
        }
        await deps.store.installations.touch(installation.installationId, now);
        return { intent, created: true };
      },
      { newWork: true },
    );
    if (created) events.publish({ accountId: installation.accountId, intentIds: [intent.intentId] });
    return c.json(toWireIntent(intent, installation, now), created ? 201 : 200);
  };

  return new Hono<HubEnv>()
    .post('/intents', async (c) => {
      const { agent, body } = await authenticateAgent(c, deps);
      // Refused requests are audited too (issue 15: Activity lists them): who and why, never what was asked for.
      const refused = async (action: Refusal['action'], installationId: string) =>
        await recordRefusal(deps, {
          action,
          actor: `agent:${agent.agentId}`,
          agent: agent.agentId,
          resource: `installation:${installationId}`,
          requestId: c.get('requestId'),
        });
      let installation: Installation;
      try {
        installation = await agentInstallation(deps, agent.agentId);
      } catch (err) {
        const last = (await deps.store.installations.listByAgent(agent.agentId)).at(-1);
        if (err instanceof HubError && err.code === 'agent_revoked' && last)
          await refused(AGENT_REFUSALS.agent_revoked, last.installationId);
        throw err;
      }
      try {
        // In its turn (issue 16): a backlog of new intents waits here, in order, while decisions and executes go on.
        return await deps.intentAdmission.run(() => createIntent(c, agent, installation, body));
      } catch (err) {
        if (err instanceof HubError) {
          if (installation.status === 'locked') await refused('request.refused.locked', installation.installationId);
          else if (err.code === 'scope_not_granted' || err.code === 'rate_limited')
            await refused(AGENT_REFUSALS[err.code], installation.installationId);
        }
        throw err;
      }
    })
    .get('/intents', async (c) => {
      const { account } = await authenticateHuman(c, deps);
      const { limit, after } = parsePendingQuery(c.req.queries());
      await expireDueIntents(deps.store, deps.now(), c.get('requestId'));
      const page = await pendingPage(deps, account.accountId, limit, after);
      const response: IntentPage = { intents: page.intents, ...(page.next ? { next_cursor: page.next } : {}) };
      return c.json(response);
    })
    .get('/intents/:id', async (c) => {
      const who = await authenticateEither(c, deps);
      const waitSeconds = parseWait(c.req.query('wait'));
      const id = c.req.param('id');
      const read = async () => {
        // Checked on every read, so a revocation during a held long poll answers agent_revoked like any next request,
        // and a device removed while it waited gets device_revoked, not the intent (issue 13 item 5).
        if ('agent' in who) await agentInstallation(deps, who.agent.agentId);
        else await assertDeviceActive(deps, who.deviceKeyId);
        await expireDueIntents(deps.store, deps.now(), c.get('requestId'));
        const found =
          'agent' in who ? await agentIntent(deps, who.agent, id) : await humanIntent(deps, who.account, id);
        return { ...found, wire: toWireIntent(found.intent, found.installation, deps.now()) };
      };
      let current = await read();
      // Long poll: an agent waiting for the human's click hears it at once instead of on its next poll. It wakes on
      // a change of THIS intent only (issue 16: waking on any change of the account answered 1,000 agents' polls
      // with "still pending" on every create, and each then paused before asking again).
      if (waitSeconds > 0 && current.wire.status === 'pending') {
        const bus = intentEvents(deps.store);
        await new Promise<void>((resolve) => {
          const done = () => {
            unsubscribe();
            clearTimeout(timer);
            resolve();
          };
          const holder = {
            kind: 'poll' as const,
            key: 'agent' in who ? `agent:${who.agent.agentId}` : `device:${who.deviceKeyId}`,
          };
          const unsubscribe = bus.subscribe(current.installation.accountId, done, holder, current.intent.intentId);
          const timer = setTimeout(done, Math.min(waitSeconds * 1000, current.wire.expires_at - deps.now() + 50));
          c.req.raw.signal?.addEventListener('abort', done, { once: true });
        });
        current = await read();
      }
      // A refusal the device made unasked (an http.request a secret may not serve): its sealed, signed reason goes
      // to the agent, which can tell it from the hub's own words.
      if ('agent' in who && current.intent.kind === 'http.request' && current.wire.status === 'denied') {
        const refusal = await deps.store.sealedSecrets.get(current.intent.intentId);
        if (refusal) {
          // With the account's devices, as execute sends them: a refusal by a device the pinned one added verifies.
          const account = (await deps.store.accounts.get(current.installation.accountId))!;
          return c.json({
            ...current.wire,
            http_response: JSON.parse(utf8Decode(refusal)) as unknown,
            devices: await deviceList(deps, account),
          });
        }
      }
      return c.json(current.wire);
    });
}

/**
 * `GET /v1/intents?status=pending[&limit=N][&cursor=C]` (issue 16: the whole list on every GET was 461 KB at 1,000
 * pending): at most `limit` (default PENDING_PAGE_DEFAULT, at most PENDING_PAGE_MAX) intents, oldest first, and
 * `next_cursor` when more follow. Each parameter at most once; anything else is refused.
 */
function parsePendingQuery(query: Record<string, string[]>): {
  limit: number;
  after?: { createdAt: number; intentId: string };
} {
  const invalid = (what: string) => new HubError('protocol_invalid', what);
  for (const [name, values] of Object.entries(query)) {
    if (!['status', 'limit', 'cursor'].includes(name) || values.length !== 1)
      throw invalid('Only GET /v1/intents?status=pending[&limit=N][&cursor=C] is supported.');
  }
  if (query.status?.[0] !== 'pending') throw invalid('status: only GET /v1/intents?status=pending is supported.');
  let limit = PENDING_PAGE_DEFAULT;
  const rawLimit = query.limit?.[0];
  if (rawLimit !== undefined) {
    if (!/^[1-9][0-9]{0,3}$/.test(rawLimit) || Number(rawLimit) > PENDING_PAGE_MAX)
      throw invalid(`limit must be 1..${PENDING_PAGE_MAX}.`);
    limit = Number(rawLimit);
  }
  const rawCursor = query.cursor?.[0];
  if (rawCursor === undefined) return { limit };
  const after = decodePageCursor(rawCursor);
  if (!after) throw invalid('cursor: send back next_cursor unchanged.');
  return { limit, after };
}

/** `?wait=N` (1..30 s) turns GET /v1/intents/:id into a long poll while the intent is pending. */
export const MAX_WAIT_SECONDS = 30;
function parseWait(raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (!/^\d{1,2}$/.test(raw) || Number(raw) > MAX_WAIT_SECONDS)
    throw new HubError('protocol_invalid', `wait must be 0..${MAX_WAIT_SECONDS} seconds.`);
  return Number(raw);
}

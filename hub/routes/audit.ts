import { Hono } from 'hono';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, type AuditEntry, type AuditListResponse } from '../../lib/protocol/wire';
import type { HubDeps } from '../deps';
import { signedAuditHead } from '../audit/head';
import { authenticateHuman } from '../auth';
import { HubError } from '../errors';
import type { HubEnv } from '../middleware';
import type { AuditRow } from '../store/port';

/** A positive decimal integer without leading zeros, within `max`. */
function parsePositive(name: string, raw: string, max: number): number {
  if (!/^[1-9]\d{0,15}$/.test(raw) || Number(raw) > max)
    throw new HubError('protocol_invalid', `${name} must be an integer from 1 to ${max}.`);
  return Number(raw);
}

/**
 * `GET /v1/audit?limit=N&before=SEQ&since=SEQ` (human): the audit entries about the caller's account, newest first,
 * the head of the whole chain, and that head signed by the hub's identity key (CKAH). With `since` (the seq of the
 * last signed head the device kept) also the consistency proof from that tree to this one (docs/protocol.md §11). Entries about one of the caller's intents carry its kind and payload so the device can
 * say what was asked (the caller may read those intents anyway); nothing of another account is ever included.
 */
export function auditRoutes(deps: HubDeps): Hono<HubEnv> {
  return new Hono<HubEnv>().get('/audit', async (c) => {
    const { account } = await authenticateHuman(c, deps);
    const query = c.req.queries();
    for (const [name, values] of Object.entries(query)) {
      if ((name !== 'limit' && name !== 'before' && name !== 'since') || values.length !== 1) {
        throw new HubError('protocol_invalid', 'GET /v1/audit takes only limit, before and since, once each.');
      }
    }
    const limit = query.limit ? parsePositive('limit', query.limit[0]!, AUDIT_PAGE_MAX) : AUDIT_PAGE_DEFAULT;
    const before = query.before ? parsePositive('before', query.before[0]!, Number.MAX_SAFE_INTEGER) : undefined;
    const since = query.since ? parsePositive('since', query.since[0]!, Number.MAX_SAFE_INTEGER) : undefined;
    const rows = await deps.store.audit.listForAccount(account.accountId, {
      ...(before !== undefined ? { beforeSeq: before } : {}),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const head = await deps.store.audit.head();
    // The caller is enrolled, so its account.enroll entry exists: the chain is never empty here.
    if (!head) throw new HubError('internal', 'The audit log is empty.');
    // A device that kept a head larger than this log asks for the impossible: it will see the rollback itself.
    const signed = await signedAuditHead(
      deps.store,
      deps.identity,
      deps.origin,
      deps.now(),
      since !== undefined && since <= head.seq ? since : undefined,
    );
    if (!signed) throw new HubError('internal', 'The audit log is empty.');
    const entries = await Promise.all(page.map((r) => toWireEntry(deps, account.accountId, r)));
    const response: AuditListResponse = {
      entries,
      next_before: rows.length > limit ? page[page.length - 1]!.seq : null,
      head: { seq: head.seq, entry_hash: head.entryHash },
      signed_head: signed.signed,
      consistency: signed.consistency,
    };
    return c.json(response);
  });
}

async function toWireEntry(deps: HubDeps, accountId: string, r: AuditRow): Promise<AuditEntry> {
  const entry: AuditEntry = {
    seq: r.seq,
    time: r.time,
    actor: r.actor,
    agent: r.agent,
    resource: r.resource,
    action: r.action,
    request_id: r.requestId,
    prev_hash: r.prevHash,
    entry_hash: r.entryHash,
  };
  if (r.resource?.startsWith('intent:')) {
    const intent = await deps.store.intents.get(r.resource.slice('intent:'.length));
    const installation = intent && (await deps.store.installations.get(intent.installationId));
    // A purged intent (retention) has no payload left to show: the entry stands alone.
    if (intent && intent.payload !== '' && installation?.accountId === accountId)
      entry.intent = { kind: intent.kind, payload: JSON.parse(intent.payload) as Record<string, unknown> };
  }
  return entry;
}

import { AUDIT_HEAD_FORMAT, checkAuditHead, type AuditHead, type SignedAuditHead } from '../../protocol/audit-head';
import { describeAuditEntry, type ActivityPage, type AuditIntegrity } from '../../hub-client/activity';
import type { AuditListResponse } from '../../protocol/wire';
import type { HubCore } from './hub-core';

/** Entries per Activity page. */
export const ACTIVITY_PAGE = 20;

/**
 * The Activity tab's data and the device's check of the hub's audit log (issue 13 item 8). The hub signs its head
 * (CKAH) with the identity key this device pinned; the device keeps the last head it accepted (HubSettings.auditHeads)
 * and accepts a new one only if it EXTENDS the kept one (Merkle consistency proof, lib/protocol/audit-tree.ts).
 * Otherwise the page says the log was rewritten since the kept head's time, and the kept head stays as it was: a
 * rewritten history never replaces the evidence of the one seen before.
 */
export async function activity(core: HubCore, before?: number): Promise<ActivityPage> {
  await core.ready;
  const client = await core.requireEnrolledClient(true);
  const first = before === undefined;
  const hub = core.hub;
  const kept = first ? keptHead(core, hub) : null;
  const page = await client.audit({
    limit: ACTIVITY_PAGE,
    ...(before !== undefined ? { before } : {}),
    ...(kept ? { since: kept.head.seq } : {}),
  });
  const integrity = first ? await checkAndKeep(core, hub, kept, page) : undefined;
  const names = new Map<string, string>();
  for (const h of core.hubInstallations ?? [])
    if (h.agent_id) names.set(h.agent_id, h.name ?? h.agent_name ?? h.agent_id);
  for (const l of core.localInstallations.filter((i) => i.hub === hub)) names.set(l.agent_id, l.name);
  return {
    entries: page.entries.map((e) => ({
      seq: e.seq,
      time: e.time,
      action: e.action,
      entry_hash: e.entry_hash,
      text: describeAuditEntry(e, { agentName: (id) => names.get(id) ?? null }),
    })),
    nextBefore: page.next_before,
    head: page.head,
    ...(integrity ? { integrity } : {}),
  };
}

/** The head this device kept for `hub`, if it is still well-formed (it was verified when kept). */
function keptHead(core: HubCore, hub: string): { signed: SignedAuditHead; head: AuditHead } | null {
  const signed = core.settings!.auditHeads?.[hub];
  if (!signed) return null;
  try {
    return { signed, head: AUDIT_HEAD_FORMAT.validate(signed.statement) };
  } catch {
    return null;
  }
}

async function checkAndKeep(
  core: HubCore,
  hub: string,
  kept: { signed: SignedAuditHead; head: AuditHead } | null,
  page: AuditListResponse,
): Promise<AuditIntegrity> {
  const hubKey = core.settings!.hubKeys?.[hub];
  if (!hubKey)
    return {
      status: 'rewritten',
      kept: kept?.signed ?? null,
      since: kept?.head.time,
      reason: 'No hub identity is pinned for this hub, so its log cannot be checked.',
    };
  const result = checkAuditHead(kept?.head ?? null, page.signed_head, page.consistency, { hub, hubKey });
  if (!result.ok) {
    return {
      status: 'rewritten',
      kept: kept?.signed ?? null,
      ...(kept ? { since: kept.head.time } : {}),
      reason: result.message,
    };
  }
  // Keep the newer head (the same seq keeps the older one: its time is the earliest evidence).
  if (!kept || result.head.seq > kept.head.seq) {
    const signed: SignedAuditHead = {
      statement: result.head,
      signature: (page.signed_head as { signature: string }).signature,
    };
    core.settings!.auditHeads = { ...core.settings!.auditHeads, [hub]: signed };
    await core.saveSettings();
    return { status: kept ? 'verified' : 'first', kept: signed };
  }
  return { status: 'verified', kept: kept.signed };
}

import { AttestError } from './errors';
import { TCB_STATUSES, type AcceptancePolicy, type TcbStatus } from './types';

export const DEFAULT_ALLOWED_STATUSES: readonly TcbStatus[] = ['UpToDate'];

/**
 * Our acceptance policy, applied after the quote verified: a status is not a verdict (dcap-qvl#125). Revoked is
 * never accepted, whatever a caller lists.
 */
export function applyPolicy(status: TcbStatus, advisoryIds: string[], policy: AcceptancePolicy = {}): void {
  const allowed = policy.allowedStatuses ?? DEFAULT_ALLOWED_STATUSES;
  for (const s of allowed) {
    if (!(TCB_STATUSES as readonly string[]).includes(s))
      throw new AttestError('policy_rejected', `Unknown TCB status "${s}" in the policy.`);
  }
  if (status === 'Revoked' || !allowed.includes(status)) {
    throw new AttestError(
      'policy_rejected',
      `TCB status ${status}${advisoryIds.length ? ` (${advisoryIds.join(', ')})` : ''} is not accepted by the policy (accepted: ${allowed.filter((s) => s !== 'Revoked').join(', ')}).`,
    );
  }
  if (status !== 'UpToDate' && policy.allowedAdvisoryIds) {
    const extra = advisoryIds.filter((id) => !policy.allowedAdvisoryIds!.includes(id));
    if (extra.length)
      throw new AttestError('policy_rejected', `Advisories ${extra.join(', ')} are not in the policy's allow-list.`);
  }
}

/** Parses a comma list of statuses (CLI `--allow`), rejecting unknown names and Revoked. */
export function parseStatusList(text: string): TcbStatus[] {
  const out: TcbStatus[] = [];
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (!name) continue;
    const match = TCB_STATUSES.find((s) => s.toLowerCase() === name.toLowerCase());
    if (!match) throw new AttestError('policy_rejected', `"${name}" is not a TCB status (${TCB_STATUSES.join(', ')}).`);
    if (match === 'Revoked') throw new AttestError('policy_rejected', 'Revoked can never be allowed.');
    out.push(match);
  }
  return out;
}

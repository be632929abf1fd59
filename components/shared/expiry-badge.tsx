import type { ExpiryState } from '../../lib/vault/types';

/** Only states that need attention get a badge; a far-off expiry is shown as a date elsewhere. */
export function ExpiryBadge({ expiry }: { expiry: ExpiryState }) {
  if (expiry === 'expiring') return <span class="badge badge-warn">Expiring soon</span>;
  if (expiry === 'expired') return <span class="badge badge-bad">Expired</span>;
  return null;
}

export const KIND_LABEL = { secret: 'Secret', agentConfig: 'Agent config' } as const;

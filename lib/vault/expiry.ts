import type { ExpiryState } from './types';

/** Secrets within this window of their expiry are shown as "expiring". */
export const EXPIRING_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

export function expiryState(expiresAt: string | null, now: number): ExpiryState {
  if (!expiresAt) return 'none';
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at)) return 'none';
  if (at <= now) return 'expired';
  return at - now <= EXPIRING_WINDOW_MS ? 'expiring' : 'valid';
}

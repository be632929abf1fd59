import type { HubInstallation } from '../../hub-client/client';
import { isId, isOrigin } from '../../protocol/fields';
import type { StoragePort } from './hub-core';

/**
 * Installations this device revoked (or saw revoked), remembered locally for good (issue 13 item 9). The hub's
 * installation list cannot bring one back: whatever status the hub later reports, this device never signs an
 * approval, seals a secret or delivers an agent config for a revoked installation, and shows none of its requests.
 * Revocation is final on the device; the only way back is a new claim (a new CKCL statement the person signs, with
 * a new installation id), never POST /v1/installations/:id/enable.
 *
 * A revocation the hub reports is adopted too: it only makes this device refuse more, which the hub could achieve
 * anyway by refusing service.
 */
export const HUB_REVOKED_KEY = 'clawkeep.hub.revoked-installations';

export interface RevokedInstallation {
  hub: string;
  installation_id: string;
  /** Epoch ms on this device when it learned of the revocation. */
  revoked_at: number;
}

/** At most this many are kept (oldest dropped last: a device claims far fewer agents than this). */
const MAX_REVOKED = 4096;

const isRecord = (r: unknown): r is RevokedInstallation => {
  const o = r as Partial<RevokedInstallation> | null;
  return !!o && typeof o === 'object' && isOrigin(o.hub) && isId(o.installation_id) && typeof o.revoked_at === 'number';
};

/** The revocation memory of one device: loaded once, appended to, never shrunk by anything the hub says. */
export class RevokedInstallations {
  #list: RevokedInstallation[] = [];

  constructor(private readonly storage: StoragePort) {}

  async load(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- not unnecessary: without it tsc infers a narrower type and fails
    const raw = (await this.storage.get(HUB_REVOKED_KEY).catch(() => ({}) as Record<string, unknown>))[HUB_REVOKED_KEY];
    this.#list = Array.isArray(raw) ? raw.filter(isRecord) : [];
  }

  has(hub: string, installationId: string): boolean {
    return this.#list.some((r) => r.hub === hub && r.installation_id === installationId);
  }

  /** Remembers `installationId` as revoked on `hub` (persisted before it returns). */
  async add(hub: string, installationId: string, now: number): Promise<void> {
    if (this.has(hub, installationId)) return;
    this.#list = [...this.#list, { hub, installation_id: installationId, revoked_at: now }].slice(-MAX_REVOKED);
    await this.storage.set({ [HUB_REVOKED_KEY]: this.#list });
  }

  /** Adopts every revocation the hub's list reports (never the reverse). */
  async adoptFrom(hub: string, list: readonly HubInstallation[], now: number): Promise<void> {
    for (const h of list) if (h.status === 'revoked') await this.add(hub, h.installation_id, now);
  }
}

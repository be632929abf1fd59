import type { HubInstallation } from '../../hub-client/client';
import type { StoragePort } from './hub-core';
import { HUB_REVOKED } from '../../storage/persisted-keys';
import { readStored, writeStored } from '../../storage/stored-item';

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
export interface RevokedInstallation {
  hub: string;
  installation_id: string;
  /** Epoch ms on this device when it learned of the revocation. */
  revoked_at: number;
}

/** At most this many are kept (oldest dropped last: a device claims far fewer agents than this). */
const MAX_REVOKED = 4096;

/** The revocation memory of one device: loaded once, appended to, never shrunk by anything the hub says. */
export class RevokedInstallations {
  #list: RevokedInstallation[] = [];

  constructor(private readonly storage: StoragePort) {}

  /**
   * A failing storage API reads as none revoked (as before); a stored list this version cannot read throws its typed
   * error: dropping a damaged revocation would make a revoked installation signable again.
   * @throws StoredValueError
   */
  async load(): Promise<void> {
    this.#list = (await readStored(this.storage, HUB_REVOKED, { apiFailure: 'absent' })) ?? [];
  }

  has(hub: string, installationId: string): boolean {
    return this.#list.some((r) => r.hub === hub && r.installation_id === installationId);
  }

  /** Remembers `installationId` as revoked on `hub` (persisted before it returns). */
  async add(hub: string, installationId: string, now: number): Promise<void> {
    if (this.has(hub, installationId)) return;
    this.#list = [...this.#list, { hub, installation_id: installationId, revoked_at: now }].slice(-MAX_REVOKED);
    await writeStored(this.storage, HUB_REVOKED, this.#list);
  }

  /** Adopts every revocation the hub's list reports (never the reverse). */
  async adoptFrom(hub: string, list: readonly HubInstallation[], now: number): Promise<void> {
    for (const h of list) if (h.status === 'revoked') await this.add(hub, h.installation_id, now);
  }
}

import { HubClientError } from '../../hub-client/errors';
import { HUB_IDENTITY_MISMATCH, notYourHubMessage, proveHubIdentity } from '../../hub-client/hub-identity';
import { decodePublicKey, fingerprint } from '../../protocol/keys';
import type { HubCore } from './hub-core';

/**
 * The extension remembers which hub it enrolled with (issue 13 item 15): the hub's identity key is pinned with the
 * hub URL at enrolment or join (HubSettings.hubKeys), and before anything is signed for, sealed to or synced with the
 * hub at that URL, the hub must sign a fresh challenge with that key (lib/hub-client/hub-identity.ts). A second hub
 * on the same port, or a squatter that copied the public key, is refused with "This is not the hub you enrolled
 * with …" (shown in the Agents tab as the connection error).
 */

/** How long a background call may reuse the last proof. */
export const IDENTITY_REUSE_MS = 10_000;

/**
 * How old a proof a person's decision on a card may reuse (docs/threat-model.md §1, "A proof made while the card is
 * shown"): the proof must also have begun at or after the moment the background learned the card was on screen. The
 * page asks for a new one every PREPARE_REFRESH_MS (hub-api.ts) while the card stays up.
 */
export const CARD_PROOF_MAX_MS = 30_000;

/**
 * When the hub at which URL last proved its identity (the time its challenge was made, not answered); forgotten
 * whenever the connection drops or a proof fails.
 */
export class HubIdentityCheck {
  private hub: string | null = null;
  private at = 0;
  /** Bumped by forget(): a proof that began before a drop is not recorded when it ends after it. */
  private generation = 0;

  /** Call before a proof starts; pass the result to proved(). */
  begin(): number {
    return this.generation;
  }

  /** A background call: a proof of this hub younger than IDENTITY_REUSE_MS. */
  fresh(hub: string, now: number): boolean {
    return this.hub === hub && now - this.at < IDENTITY_REUSE_MS && now >= this.at;
  }

  /**
   * A person's decision on a card shown at `shownAt`: a proof of this hub whose challenge was made at or after
   * `shownAt` and is younger than CARD_PROOF_MAX_MS. A clock that went backwards reuses nothing.
   */
  freshSince(hub: string, shownAt: number, now: number): boolean {
    return this.hub === hub && this.at >= shownAt && now >= this.at && now - this.at < CARD_PROOF_MAX_MS;
  }

  /** Records a proof whose challenge was made at `at`, unless the connection dropped since it began (`started`). */
  proved(hub: string, at: number, started = this.generation): void {
    if (started !== this.generation) return;
    this.hub = hub;
    this.at = at;
  }

  forget(): void {
    this.generation++;
    this.hub = null;
    this.at = 0;
  }
}

/** Whether this browser has a device enrolled or joined at the current hub URL. */
function enrolledHere(core: HubCore): boolean {
  return (core.settings!.enrolled[core.hub]?.length ?? 0) > 0;
}

/**
 * Which proof a call may reuse: a background call (`false`) one younger than IDENTITY_REUSE_MS; a person's action
 * (`true`) none, it proves afresh; a person's decision on a card (`{ shownAt }`, when the background learned the card
 * was on screen, or null if it never did) one made since the card was shown (HubIdentityCheck.freshSince).
 */
export type IdentityNeed = boolean | { shownAt: number | null };

/**
 * Proves the hub at the current URL is the pinned one, or throws `hub_identity_mismatch` (also kept as the
 * connection error the Agents tab shows). Before enrolment there is nothing to pin yet: enrolment pins. A device
 * enrolled before pinning existed pins on its first proof (trust on first use, stated in the README).
 */
export async function ensureHubIdentity(core: HubCore, need: IdentityNeed): Promise<void> {
  const hub = core.hub;
  const pinned = core.settings!.hubKeys?.[hub] ?? null;
  if (!pinned && !enrolledHere(core)) return;
  const now = core.ports.now();
  if (need === false && core.identity.fresh(hub, now)) return;
  if (typeof need === 'object' && need.shownAt !== null && core.identity.freshSince(hub, need.shownAt, now)) return;
  const started = core.identity.begin();
  let key: string;
  try {
    key = await proveHubIdentity(core.ports.fetch, hub, pinned);
  } catch (err) {
    core.identity.forget();
    if (err instanceof HubClientError && err.code === HUB_IDENTITY_MISMATCH) {
      core.status.failed(err);
      core.ports.changed();
    }
    throw err;
  }
  if (!pinned) await pinHubKey(core, hub, key);
  core.identity.proved(hub, now, started);
}

/**
 * Enrolment or join: proves the hub holds `announced` (the key its answer named) and pins it for `hub`. If this
 * device already has another key pinned for `hub` and is still enrolled there, that is refused: the device would
 * otherwise move its trust to whatever now answers at the URL.
 */
export async function pinAtEnrolment(core: HubCore, hub: string, announced: string | null): Promise<void> {
  const existing = core.settings!.hubKeys?.[hub] ?? null;
  if (existing && announced && existing !== announced && enrolledHere(core)) {
    throw new HubClientError(HUB_IDENTITY_MISMATCH, notYourHubMessage(hub, existing));
  }
  const key = await proveHubIdentity(core.ports.fetch, hub, announced ?? (enrolledHere(core) ? existing : null));
  await pinHubKey(core, hub, key);
  core.identity.proved(hub, core.ports.now());
}

async function pinHubKey(core: HubCore, hub: string, key: string): Promise<void> {
  const settings = core.settings!;
  // A new hub (re-enrolment) starts a new audit history: the head kept for the old one proves nothing about it.
  if (settings.hubKeys?.[hub] !== key && settings.auditHeads?.[hub]) {
    const { [hub]: _dropped, ...rest } = settings.auditHeads;
    settings.auditHeads = rest;
  }
  settings.hubKeys = { ...settings.hubKeys, [hub]: key };
  await core.saveSettings();
}

/**
 * The fingerprint of the hub key pinned for a URL, as the Agents tab shows it ("Hub key fingerprint"): the same
 * fingerprint() the hub prints at start (`Hub identity: …`), so the person can compare the two. Null when nothing is
 * pinned (not enrolled yet) or the stored key does not parse.
 */
export function pinnedHubFingerprint(key: string | undefined | null): string | null {
  if (!key) return null;
  try {
    return fingerprint(decodePublicKey(key, 'ed25519', 'pinned hub key'));
  } catch {
    return null;
  }
}

import { errorMessage } from '../../errors';
import type { DeviceSigner } from '../../identity/device-key';
import type { SignedAuditHead } from '../../protocol/audit-head';
import { deviceKeyId } from '../../protocol/keys';
import type { ClaimLookupResponse } from '../../protocol/wire';
import { DEFAULT_HUB_PREFS, type HubConnection, type HubPrefs } from '../../hub-client/api';
import { HubClient, type HubInstallation } from '../../hub-client/client';
import { HubClientError, hubPermissionRefused } from '../../hub-client/errors';
import type { VaultService } from '../../vault/vault-service';
import type { LocalInstallation } from '../approvals/hub-approval';
import { ConfigAssignmentStore } from './hub-config-assignments';
import { RevokedInstallations } from './hub-revocations';
import { ensureHubIdentity, HubIdentityCheck } from './hub-identity';
import { InstallationStore } from './hub-installation-store';
import { HUB_SETTINGS } from '../../storage/persisted-keys';
import { writeStored } from '../../storage/stored-item';
import { StandingApprovalStore } from '../approvals/hub-standing-approvals';
import { HttpCallLog } from '../approvals/http-call-log';

export const DEFAULT_HUB_URL = 'http://127.0.0.1:8787';

/** Not secret: where the hub is and which device keys this browser enrolled there. */
export interface HubSettings {
  v: 1;
  hubUrl: string;
  /** hub origin → device key ids enrolled there. */
  enrolled: Record<string, string[]>;
  /** Approval window / notification switches; missing = defaults. */
  prefs?: Partial<HubPrefs>;
  /** hub origin → the account this device joined by pairing (absent: the device enrolled, key id = account id). */
  accounts?: Record<string, string>;
  /**
   * hub origin → the hub's identity key (base64url) pinned at enrolment or join (hub-identity.ts). A hub at that
   * origin that cannot prove this key gets nothing signed, sealed or synced.
   */
  hubKeys?: Record<string, string>;
  /** hub origin → the last hub-signed audit head (CKAH) this device accepted (hub-audit.ts). */
  auditHeads?: Record<string, SignedAuditHead>;
}

/** A request seen for the first time: what the approval window and a notification may use (no payload). */
export interface NewIntentNotice {
  intent_id: string;
  kind: string;
  agentName: string;
}

export interface StoragePort {
  get(key: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(key: string): Promise<void>;
}

/** The vault as the hub service needs it: the keyholder, which applies idle checks and activity tracking. */
export interface HubVault {
  whenReady(): Promise<void>;
  readonly isUnlocked: boolean;
  withUnlocked<T>(fn: (service: VaultService) => Promise<T>, options: { activity: boolean }): Promise<T>;
  /** Device pairing: creates the vault from a paired vault key (VaultService.join) and treats it as an unlock. */
  join?(args: Parameters<VaultService['join']>[0]): Promise<void>;
}

export interface HubServicePorts {
  /** chrome.storage.local: settings (public data). Installation records live in the vault (hub-installation-store.ts). */
  local: StoragePort;
  /** chrome.storage.session: the pending list, so a restarted worker shows the badge at once. */
  session: StoragePort;
  badge(count: number): void;
  /** Tells open pages that the hub state changed. */
  changed(): void;
  fetch: typeof fetch;
  /**
   * Whether the browser lets the extension reach the hub at this origin (its host permission, host-access.ts).
   * Absent: always (tests with an in-process hub). Checked before a hub URL is saved or a pairing starts.
   */
  mayReach?(origin: string): Promise<boolean>;
  now(): number;
  /** Requests this worker had not seen yet arrived (only while unlocked). */
  newIntents?(notices: NewIntentNotice[], prefs: HubPrefs): void;
  /**
   * While locked, the locked watcher heard of `count` requests it had not announced (hub-watch.ts): the approval
   * window opens (it asks to unlock first) and, if switched on, a notification says that requests wait. Ids only:
   * nothing about the requests is known before unlocking.
   */
  waitingWhileLocked?(count: number, prefs: HubPrefs): void;
  /**
   * This device became a device of an account at the hub (enrolled, or joined an existing vault): vault sync has a
   * connection now and should not wait for its next alarm.
   */
  enrolled?(): void;
}

/** The subscription's connection and the last problem, as the hub state shows them; one owner, changed by methods. */
export class HubStatus {
  private current: HubConnection = 'off';
  private problem: string | null = null;

  constructor(
    private readonly identity: HubIdentityCheck,
    private readonly changed: () => void,
  ) {}

  get connection(): HubConnection {
    return this.current;
  }

  get lastError(): string | null {
    return this.problem;
  }

  setConnection(c: HubConnection): void {
    if (this.current === c) return;
    // A stream that ended may mean the hub stopped and something else took its address: prove it again.
    if (c !== 'stream') this.identity.forget();
    this.current = c;
    this.changed();
  }

  /** The subscription was stopped on purpose: 'off', without proving anything again. */
  stopped(): void {
    this.current = 'off';
  }

  /** Keeps what went wrong for display (errorMessage: never a stack or a secret). */
  failed(err: unknown): void {
    this.problem = errorMessage(err);
  }

  clearError(): void {
    this.problem = null;
  }
}

/**
 * The state the hub service's parts share (settings, installations, claim lookups) and the helpers they all use: the hub URL, the device signer and a signed client, enrolment, installation and agent-name lookups.
 */
export class HubCore {
  settings: HubSettings | null = null;
  /**
   * The installations this device claimed, as read from the vault (hub-installation-store.ts): filled while the
   * vault is unlocked (`ensureInstallations`), emptied on lock. Change it, then `saveInstallations()`.
   */
  localInstallations: LocalInstallation[] = [];
  /** Whether `localInstallations` holds what the vault stores (false while locked and before the first load). */
  installationsLoaded = false;
  /** The vault item the installation records live in. */
  readonly installations = new InstallationStore();
  hubInstallations: HubInstallation[] | null = null;
  /** How many reads of the hub's installation list were begun: only the newest one's answer is kept. */
  hubInstallationReads = 0;
  /** Claim lookups this device showed, by claim code hash: a claim signs only what the person saw. */
  readonly lookups = new Map<string, ClaimLookupResponse>();
  /** The standing approvals in the vault, written one change at a time. */
  readonly standing = new StandingApprovalStore();
  /** The log of http.request calls made for agents, in the vault (http-call-log.ts). */
  readonly httpCalls = new HttpCallLog();
  /** Agent config assignments in the vault, changed one delivery at a time. */
  readonly configs = new ConfigAssignmentStore();
  /** Installations revoked on this device: never signed for again, whatever the hub lists (hub-revocations.ts). */
  readonly revoked: RevokedInstallations;
  /** When the hub at the current URL last proved its pinned identity (hub-identity.ts). */
  readonly identity = new HubIdentityCheck();
  /**
   * Intent id → when the background last learned that a page shows its card (HubService.prepareDecision): a
   * decision on it may reuse a proof of the hub's identity made since then (hub-identity.ts, freshSince). Memory only;
   * kept for pending intents only.
   */
  readonly cardsShown = new Map<string, number>();
  /** The connection and the last problem, as pages see them. */
  readonly status: HubStatus;
  /** Set once by HubService: settings and installations loaded, pending list restored. */
  ready: Promise<void> = Promise.resolve();

  constructor(
    readonly vault: HubVault,
    readonly ports: HubServicePorts,
  ) {
    this.revoked = new RevokedInstallations(ports.local);
    this.status = new HubStatus(this.identity, () => ports.changed());
  }

  get hub(): string {
    return this.settings!.hubUrl;
  }

  prefs(): HubPrefs {
    const p = this.settings?.prefs ?? {};
    return {
      approvalWindow: typeof p.approvalWindow === 'boolean' ? p.approvalWindow : DEFAULT_HUB_PREFS.approvalWindow,
      notifications: typeof p.notifications === 'boolean' ? p.notifications : DEFAULT_HUB_PREFS.notifications,
    };
  }

  isEnrolled(signer: DeviceSigner): boolean {
    return (this.settings!.enrolled[this.hub] ?? []).includes(deviceKeyId(signer.publicKey));
  }

  signer(activity: boolean): Promise<DeviceSigner> {
    return this.vault.withUnlocked((service) => service.deviceSigner(), { activity });
  }

  /**
   * A client signed by the device key, for a hub that proved its pinned identity: nothing is signed for, sealed to
   * or synced with a hub at this URL that cannot (hub-identity.ts). A person's action (`activity`) always proves it
   * afresh; background calls reuse a proof for a few seconds.
   */
  async client(activity: boolean): Promise<HubClient> {
    await this.ready;
    await ensureHubIdentity(this, activity);
    return this.clientFor(await this.signer(activity));
  }

  /** A client signed by `signer` for the current hub URL; the caller has made sure the hub proved its identity. */
  clientFor(signer: DeviceSigner): HubClient {
    return new HubClient({
      hub: this.hub,
      signer: { role: 'human', keyId: deviceKeyId(signer.publicKey), sign: (m) => signer.sign(m) },
      fetch: this.ports.fetch,
      now: this.ports.now,
    });
  }

  /** The error for a device not enrolled at the current hub URL. */
  notEnrolled(): HubClientError {
    return new HubClientError('not_enrolled', 'Enroll this device with the hub first.');
  }

  /**
   * Refuses a hub origin the extension may not reach (`hub_permission_refused`), before anything is saved or sent:
   * the page asks for the permission in the person's click (host-access.ts); this is the background's own check.
   */
  async requireReach(origin: string): Promise<void> {
    if (this.ports.mayReach && !(await this.ports.mayReach(origin))) throw hubPermissionRefused(origin);
  }

  async requireEnrolledClient(activity: boolean): Promise<HubClient> {
    const signer = await this.signer(activity);
    if (!this.isEnrolled(signer)) throw this.notEnrolled();
    return this.client(activity);
  }

  async saveSettings(): Promise<void> {
    await writeStored(this.ports.local, HUB_SETTINGS, this.settings!);
  }

  /**
   * Reads the installation records from the vault unless they are loaded. Records added in memory before the load
   * are kept. While locked it does nothing.
   * @throws what the vault throws: `decrypt_failed` when the stored record was edited outside the extension.
   */
  async ensureInstallations(): Promise<void> {
    if (this.installationsLoaded || !this.vault.isUnlocked) return;
    const stored = await this.vault.withUnlocked((service) => this.installations.load(service), { activity: false });
    // A record pushed while the load ran (a claim) stays: it is written by the next saveInstallations().
    const keys = new Set(stored.map((i) => `${i.hub}\n${i.installation_id}`));
    this.localInstallations = [
      ...stored,
      ...this.localInstallations.filter((i) => !keys.has(`${i.hub}\n${i.installation_id}`)),
    ];
    this.installationsLoaded = true;
  }

  /** Writes the in-memory records into the vault item (merged with what it holds, e.g. another device's claims). */
  async saveInstallations(): Promise<void> {
    await this.ensureInstallations();
    const mine = [...this.localInstallations];
    this.localInstallations = await this.vault.withUnlocked((service) => this.installations.save(service, mine), {
      activity: false,
    });
    this.installationsLoaded = true;
  }

  /** Lock: the records are vault data and are not kept in memory without it. */
  forgetInstallations(): void {
    this.localInstallations = [];
    this.installationsLoaded = false;
  }

  /** Lock or another hub: the hub's list is dropped, and a read still in flight does not put it back. */
  forgetHubInstallations(): void {
    this.hubInstallations = null;
    this.hubInstallationReads++;
  }

  /** The claimed installation to sign for; null when unknown or revoked on this device (then only Deny is possible). */
  installationFor(installationId: string): LocalInstallation | null {
    if (this.revoked.has(this.hub, installationId)) return null;
    return this.localInstallations.find((i) => i.hub === this.hub && i.installation_id === installationId) ?? null;
  }

  agentName(installationId: string): string {
    const hubView = this.hubInstallations?.find((h) => h.installation_id === installationId);
    return this.installationFor(installationId)?.name ?? hubView?.name ?? hubView?.agent_name ?? 'Unknown agent';
  }
}

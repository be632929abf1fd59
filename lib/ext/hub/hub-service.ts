import { makeInstallationRevocation } from '../../protocol/revocation';
import { ClawkeepError } from '../../errors';
import { fingerprint } from '../../protocol/keys';
import type { Decision, Policy } from '../../protocol/approval';
import type { ActivityPage } from '../../hub-client/activity';
import { activity } from './hub-audit';
import type { ClaimPreview, DeviceInfo, DevicePreview, HubPrefs, HubState } from '../../hub-client/api';
import { normalizeHubUrl } from '../../hub-client/client';
import { HubClientError } from '../../hub-client/errors';
import * as claims from './hub-claim';
import * as pairing from './hub-devices';
import type { JoinStatus } from '../../web-vault/page-devices';
import { DEFAULT_HUB_URL, HubCore, type HubServicePorts, type HubVault } from './hub-core';
import { HUB_SETTINGS } from '../../storage/persisted-keys';
import { readStored } from '../../storage/stored-item';
import { pendingView, secretIndex, signAndSend, StandingApprover } from '../approvals/hub-decision';
import {
  canRemember,
  standingApprovalFor,
  withApproval,
  type StandingRecord,
} from '../approvals/hub-standing-approvals';
import { httpRuleFor, HTTP_RULE_KINDS, withHttpRule, type HttpRuleChoice } from '../approvals/http-rules';
import { assignConfig, configViews, forgetConfigAssignment, syncConfigs, unassignConfig } from './hub-configs';
import { installationViews, refreshInstallations } from './hub-installations';
import { PendingIntents } from '../approvals/hub-pending';
import { forgetStandingApprovals, revokeStandingApproval, standingViews } from '../approvals/hub-standing-views';
import { Subscription } from '../approvals/hub-subscription';
import { LockedWatch } from '../approvals/hub-watch';
import { ensureHubIdentity, pinnedHubFingerprint } from './hub-identity';
import { hubSyncConnection } from './hub-sync';
import type { SyncConnection } from '../../sync/sync-service';
import type { VaultService } from '../../vault/vault-service';
import type { ServiceImpl } from '../rpc/service';
import type { HUB_SERVICE } from './hub-api';

export { DEFAULT_HUB_URL, type HubServicePorts, type HubVault, type NewIntentNotice } from './hub-core';
export { BACKOFF_MAX_MS, BACKOFF_MIN_MS, POLL_INTERVAL_MS } from '../approvals/hub-subscription';

export { ACTIVITY_PAGE } from './hub-audit';

/**
 * The background's side of one-click approvals. It talks to the hub with the device key (which never leaves the
 * keyholder), keeps the pending intents (memory + storage.session) and the badge up to date while the vault is
 * unlocked and the device enrolled, and turns a person's decision into a signed statement (and a sealed secret).
 * Live updates come from GET /v1/events read with fetch (no EventSource in a service worker); when the stream
 * fails it reconnects with exponential backoff (1 s → 30 s) and polls GET /v1/intents?status=pending every 5 s
 * in between.
 *
 * This class is the public face and the owner of its parts: hub-core (settings, installation records and the helpers
 * the parts share), hub-subscription (`Subscription`: stream and polling), hub-pending (`PendingIntents`: pending list
 * and badge), hub-decision (pending views, signed decisions, `StandingApprover`), hub-installations, hub-claim
 * (enrolment and claims). None of their state is reachable from outside the service.
 */
export class HubService implements ServiceImpl<typeof HUB_SERVICE> {
  // The parts and their state are this service's own: nothing outside it holds them.
  private readonly core: HubCore;
  private readonly pending: PendingIntents;
  private readonly subscription: Subscription;
  private readonly watch: LockedWatch;
  /** Intent id → the preparation prepareDecision started for its card (a click waits for it rather than repeat it). */
  private readonly preparing = new Map<string, Promise<void>>();

  constructor(vault: HubVault, ports: HubServicePorts) {
    this.core = new HubCore(vault, ports);
    this.pending = new PendingIntents(this.core, new StandingApprover(this.core));
    this.subscription = new Subscription(this.core, this.pending);
    this.watch = new LockedWatch(this.core);
    this.core.ready = this.init();
  }

  private async init(): Promise<void> {
    const core = this.core;
    // A failing storage API reads as no settings (defaults); stored settings this version cannot read are a typed
    // error (storage_invalid / storage_version_unsupported) that every call then reports, never a reset to defaults.
    core.settings = (await readStored(core.ports.local, HUB_SETTINGS, { apiFailure: 'absent' })) ?? {
      v: 1,
      hubUrl: DEFAULT_HUB_URL,
      enrolled: {},
    };
    await core.revoked.load();
    await core.vault.whenReady();
    // Installation records are vault data: read (and migrated out of chrome.storage.local) once unlocked.
    await core.ensureInstallations().catch((err) => core.status.failed(err));
    await this.pending.restore();
  }

  whenReady(): Promise<void> {
    return this.core.ready;
  }

  /** Where the unlocked vault syncs to (this device's hub and account), or null while not enrolled. */
  syncConnection(service: VaultService): Promise<SyncConnection | null> {
    return hubSyncConnection(this.core, service);
  }

  /** Vault items changed: whether a requested secret exists may have changed too. */
  viewChanged(): void {
    this.core.ports.changed();
  }

  // ---- lifecycle ------------------------------------------------------------------------------------------

  /**
   * Unlocked and enrolled: starts the live subscription and makes sure this device has a watch token (enrolment, join
   * and every unlock, so devices enrolled before the watcher existed get one too). Locked: starts the locked watcher
   * (hub-watch.ts), which only counts. Called on worker wake, by the alarm, on unlock and after enrolment.
   */
  async ensureRunning(): Promise<void> {
    await this.core.ready;
    if (!this.core.vault.isUnlocked) return this.watch.ensureRunning();
    this.watch.halt(true);
    await this.subscription.ensureRunning();
    void this.watch.ensureRegistered().catch((err) => {
      // Only the locked view misses it; retried at the next unlock or alarm.
      this.core.status.failed(err);
    });
  }

  /**
   * Stops the subscription; on lock also forgets what the vault being open allowed: the pending list (and the badge),
   * what the hub told us, the installation records and claim lookups. Then the locked watcher takes over the count,
   * starting from what the person could already see (not announced again).
   */
  async stop(forget: boolean): Promise<void> {
    const shown = this.pending.all.map((i) => i.intent_id);
    this.subscription.halt();
    this.watch.halt(forget);
    if (forget) {
      const core = this.core;
      core.forgetHubInstallations();
      core.forgetInstallations();
      core.lookups.clear();
      core.cardsShown.clear();
      core.status.clearError();
      await this.pending.forget();
      if (!core.vault.isUnlocked) await this.watch.locked(shown);
    }
    this.core.ports.changed();
  }

  /** One GET /v1/intents?status=pending; errors are kept for display, never thrown. */
  pollOnce(): Promise<void> {
    return this.subscription.pollOnce();
  }

  prefs(): HubPrefs {
    return this.core.prefs();
  }

  refreshInstallations(): Promise<void> {
    return refreshInstallations(this.core);
  }

  // ---- what pages may call ------------------------------------------------------------------------------------

  async state(): Promise<HubState> {
    const core = this.core;
    await core.ready;
    const base: HubState = {
      unlocked: core.vault.isUnlocked,
      hubUrl: core.hub,
      enrolled: false,
      deviceFingerprint: null,
      hubFingerprint: pinnedHubFingerprint(core.settings?.hubKeys?.[core.hub]),
      connection: core.status.connection,
      lastError: core.status.lastError,
      pending: [],
      waiting: this.watch.waiting,
      installations: [],
      standingApprovals: [],
      httpCalls: [],
      httpRules: [],
      agentConfigs: [],
      configAssignments: [],
      prefs: core.prefs(),
    };
    if (!core.vault.isUnlocked) return base;
    try {
      await core.ensureInstallations();
      return await core.vault.withUnlocked(
        async (service) => {
          const signer = await service.deviceSigner();
          const secrets = await secretIndex(service, this.pending.all);
          return {
            ...base,
            enrolled: core.isEnrolled(signer),
            deviceFingerprint: fingerprint(signer.publicKey),
            pending: this.pending.all.map((i) => pendingView(core, i, secrets)),
            waiting: this.pending.all.length,
            installations: installationViews(core),
            ...(await standingViews(core, service)),
            httpCalls: await core.httpCalls.update(service, (list) => ({ next: null, value: list })),
            ...(await configViews(core, service)),
          };
        },
        { activity: false },
      );
    } catch (err) {
      if (err instanceof ClawkeepError && err.code === 'vault_locked') return { ...base, unlocked: false };
      throw err;
    }
  }

  async setHubUrl(input: string): Promise<HubState> {
    await this.core.ready;
    const hubUrl = normalizeHubUrl(input);
    await this.core.requireReach(hubUrl);
    if (hubUrl !== this.core.hub) {
      await this.stop(true);
      this.core.settings!.hubUrl = hubUrl;
      await this.core.saveSettings();
      void this.ensureRunning();
    }
    return this.state();
  }

  async enroll(enrollmentCode: string): Promise<HubState> {
    await claims.enroll(this.core, enrollmentCode);
    this.core.ports.enrolled?.();
    void this.ensureRunning();
    return this.state();
  }

  startJoin(hubUrl: string, name: string): Promise<{ code: string; fingerprint: string; expiresAt: number }> {
    return pairing.startJoin(this.core, hubUrl, name);
  }

  pollJoin(): Promise<JoinStatus> {
    return pairing.pollJoin(this.core);
  }

  cancelJoin(): void {
    pairing.cancelJoin(this.core);
  }

  async finishJoin(protection: { kdf: unknown; salt: Uint8Array; kek: Uint8Array }): Promise<void> {
    await pairing.finishJoin(this.core, protection);
    this.core.ports.enrolled?.();
    void this.ensureRunning();
  }

  lookupDevice(code: string): Promise<DevicePreview> {
    return pairing.lookupDevice(this.core, code);
  }

  approveDevice(pairingId: string): Promise<{ device_key_id: string; fingerprint: string }> {
    return pairing.approveDevice(this.core, pairingId);
  }

  denyDevice(pairingId: string): Promise<void> {
    return pairing.denyDevice(this.core, pairingId);
  }

  devices(): Promise<DeviceInfo[]> {
    return pairing.devices(this.core);
  }

  removeDevice(deviceKeyId: string): Promise<DeviceInfo[]> {
    return pairing.removeDevice(this.core, deviceKeyId);
  }

  lookupClaim(claimCode: string): Promise<ClaimPreview> {
    return claims.lookupClaim(this.core, claimCode);
  }

  claim(claimCode: string, grantedScopes: string[], picked?: Policy | null): Promise<{ installation_id: string }> {
    return claims.claim(this.core, claimCode, grantedScopes, picked);
  }

  async refresh(): Promise<HubState> {
    await this.core.ready;
    if (this.core.vault.isUnlocked) {
      await this.pollOnce();
      await this.refreshInstallations().catch(() => {});
      void this.ensureRunning();
    }
    return this.state();
  }

  async revoke(installationId: string): Promise<HubState> {
    await this.core.ready;
    const client = await this.core.requireEnrolledClient(true);
    // Remembered first, so this device stops signing for it even if the hub never carries the revocation out.
    await this.core.revoked.add(this.core.hub, installationId, this.core.ports.now());
    // The revocation is a CKIR this device signs over the agent's key (from our own record; the hub's list only for
    // an installation this device has no record of), so the agent can verify it and stop for good (issue 13 item 9).
    const agentKey =
      this.core.installationFor(installationId)?.signing_key ??
      this.core.hubInstallations?.find((h) => h.installation_id === installationId)?.agent_signing_key;
    if (!agentKey) throw new HubClientError('not_found', 'This device knows no such agent.');
    const signer = await this.core.signer(true);
    const revocation = await makeInstallationRevocation(
      {
        hub: client.hub,
        installationId,
        agentSigningKey: agentKey,
        revokedBy: signer.publicKey,
        time: this.core.ports.now(),
      },
      (m) => signer.sign(m),
    );
    await client.revokeInstallation(installationId, revocation);
    // Nothing is approved for a revoked agent any more, not even by a standing approval.
    await forgetStandingApprovals(this.core, installationId);
    await forgetConfigAssignment(this.core, installationId);
    await this.refreshInstallations().catch(() => {});
    await this.pollOnce();
    return this.state();
  }

  async enableInstallation(installationId: string): Promise<HubState> {
    await this.core.ready;
    const client = await this.core.requireEnrolledClient(true);
    // Revocation is final on this device (hub-revocations.ts): a revoked agent comes back only through a new claim.
    if (this.core.revoked.has(this.core.hub, installationId))
      throw new HubClientError('forbidden', 'That agent was revoked on this device; claim it again to use it.');
    await client.enableInstallation(installationId);
    await this.refreshInstallations().catch(() => {});
    return this.state();
  }

  /** Saves the approval window / notification switches (booleans only; anything else is ignored). */
  async setPrefs(prefs: Partial<HubPrefs>): Promise<HubState> {
    await this.core.ready;
    const next = this.core.prefs();
    if (typeof prefs?.approvalWindow === 'boolean') next.approvalWindow = prefs.approvalWindow;
    if (typeof prefs?.notifications === 'boolean') next.notifications = prefs.notifications;
    this.core.settings!.prefs = next;
    await this.core.saveSettings();
    this.core.ports.changed();
    return this.state();
  }

  /**
   * A page shows the card of pending intent `intentId` (on display, then every PREPARE_REFRESH_MS while it stays):
   * the background notes when, and does now what a click on it would otherwise wait for: the installation records,
   * the device signer, and a fresh proof of the hub's identity whose challenge is made after that moment, which the
   * decision on this card may reuse (hub-identity.ts, CARD_PROOF_MAX_MS; docs/threat-model.md §1). Never throws: a
   * failure here is met again, and reported, by the click. Nothing is signed or sent to the hub but the challenge.
   */
  async prepareDecision(intentId: string): Promise<void> {
    const core = this.core;
    await core.ready;
    if (!core.vault.isUnlocked) return;
    const pendingIds = new Set(this.pending.all.map((i) => i.intent_id));
    for (const id of core.cardsShown.keys()) if (!pendingIds.has(id)) core.cardsShown.delete(id);
    if (!pendingIds.has(intentId)) return;
    core.cardsShown.set(intentId, core.ports.now());
    const work = (async () => {
      await core.ensureInstallations();
      await core.signer(false);
      await ensureHubIdentity(core, true);
    })().catch(() => {});
    this.preparing.set(intentId, work);
    await work;
    if (this.preparing.get(intentId) === work) this.preparing.delete(intentId);
  }

  /**
   * Signs the person's decision on a pending intent and sends it. `remember` ("Don't ask again") also stores a
   * standing approval for exactly this agent installation and payload hash (secret.request), or for an http.request
   * a rule (http-rules.ts) shaped by `rule`, checked before anything is signed.
   */
  async decide(
    intentId: string,
    shownHash: string,
    decision: Decision,
    remember = false,
    rule?: HttpRuleChoice,
  ): Promise<HubState> {
    const core = this.core;
    await core.ready;
    if (decision !== 'approve' && decision !== 'deny')
      throw new HubClientError('protocol_invalid', 'Unknown decision.');
    const intent = this.pending.all.find((i) => i.intent_id === intentId);
    if (!intent) throw new HubClientError('intent_not_pending', 'This request is no longer pending.');
    // What the person saw is what gets signed: the page sends back the hash it displayed.
    if (intent.payload_hash !== shownHash)
      throw new HubClientError(
        'payload_hash_mismatch',
        'The request changed while you were looking at it. Look again.',
      );
    if (remember && (decision !== 'approve' || !canRemember(intent.kind))) {
      throw new HubClientError('protocol_invalid', 'Only an approved secret or HTTP request can be approved always.');
    }
    if (rule && (!remember || !HTTP_RULE_KINDS.includes(intent.kind)))
      throw new HubClientError('protocol_invalid', 'Only "Don\'t ask again" on an HTTP request takes a rule.');
    // A rule that does not fit the request is refused before the approval is signed, not after the call was made.
    const record: StandingRecord | null = !remember
      ? null
      : HTTP_RULE_KINDS.includes(intent.kind)
        ? httpRuleFor(core.hub, intent, rule ?? {}, core.ports.now(), globalThis.crypto.randomUUID())
        : standingApprovalFor(core.hub, intent, core.ports.now(), globalThis.crypto.randomUUID());
    // A preparation for this card still under way is waited for, not repeated.
    await this.preparing.get(intentId);
    const shownAt = core.cardsShown.get(intentId) ?? null;
    core.cardsShown.delete(intentId);
    try {
      await signAndSend(core, intent, decision, { shownAt });
    } finally {
      await this.pollOnce();
    }
    if (record) {
      await core.vault.withUnlocked(
        (service) =>
          core.standing.update(service, (list) => ({
            next: 'rule' in record ? withHttpRule(list, record) : withApproval(list, record),
            value: null,
          })),
        { activity: true },
      );
      core.ports.changed();
    }
    // A denial may have locked the installation (5 in a row): show it in the Agents tab.
    if (decision === 'deny') await this.refreshInstallations().catch(() => {});
    // The stream may lag behind; the decided intent is not pending any more in any case.
    if (this.pending.all.some((i) => i.intent_id === intentId))
      await this.pending.set(this.pending.all.filter((i) => i.intent_id !== intentId));
    return this.state();
  }

  async revokeStandingApproval(id: string): Promise<HubState> {
    await revokeStandingApproval(this.core, id);
    return this.state();
  }

  /** One page of the hub's audit entries about this account, in plain words, with the check of its signed head. */
  activity(before?: number): Promise<ActivityPage> {
    return activity(this.core, before);
  }

  async assignConfig(configId: string, installationId: string): Promise<HubState> {
    await assignConfig(this.core, configId, installationId);
    return this.state();
  }

  async unassignConfig(installationId: string): Promise<HubState> {
    await unassignConfig(this.core, installationId);
    return this.state();
  }

  /** Delivers edited agent configs again (vault items changed, unlock, alarm); failures wait for the next sync. */
  syncConfigs(): Promise<number> {
    return syncConfigs(this.core);
  }

  async denyAllFromAgent(agentId: string): Promise<HubState> {
    await this.core.ready;
    const targets = this.pending.all.filter((i) => i.agent_id === agentId);
    let firstError: unknown = null;
    for (const intent of targets) {
      try {
        await this.decide(intent.intent_id, intent.payload_hash, 'deny');
      } catch (err) {
        firstError ??= err;
      }
    }
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows the first caught value unchanged
    if (firstError) throw firstError;
    return this.state();
  }
}

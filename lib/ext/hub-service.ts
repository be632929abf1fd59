import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes, toHex, utf8Encode } from '../bytes';
import { ClawkeepError } from '../errors';
import type { DeviceSigner } from '../identity/device-key';
import { claimBytes, defaultPolicy, makePolicy, verifyClaim, type ClaimStatement, type Decision, type Policy } from '../protocol/approval';
import { toBase64Url } from '../protocol/base64url';
import { claimCodeHash, normalizeClaimCode } from '../protocol/claim-code';
import { payloadHash } from '../protocol/intent-hash';
import { isIntentKind } from '../protocol/intent-kinds';
import { decodePublicKey, deviceKeyId, encodePublicKey, fingerprint } from '../protocol/keys';
import { requiredScope, normalizeScopes, type Scope } from '../protocol/scopes';
import type { ClaimLookupResponse, Intent } from '../protocol/wire';
import { describeAuditEntry, type ActivityPage } from '../hub-client/activity';
import { DEFAULT_HUB_PREFS, type ClaimPreview, type HubConnection, type HubPrefs, type HubState, type InstallationView, type PendingIntentView } from '../hub-client/api';
import { HubClient, normalizeHubUrl, parseIntentsEvent, type HubInstallation } from '../hub-client/client';
import { HubClientError } from '../hub-client/errors';
import { displayRisk, summarizeIntent } from '../hub-client/summary';
import type { VaultService } from '../vault/vault-service';
import { buildDecision, type LocalInstallation } from './hub-approval';

export const DEFAULT_HUB_URL = 'http://127.0.0.1:8787';
export const HUB_SETTINGS_KEY = 'clawkeep.hub.settings';
export const HUB_INSTALLATIONS_KEY = 'clawkeep.hub.installations';
export const HUB_PENDING_KEY = 'clawkeep.hub.pending';
export const POLL_INTERVAL_MS = 5_000;
export const BACKOFF_MIN_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;

/** Not secret: where the hub is and which device keys this browser enrolled there. */
interface HubSettings {
  v: 1;
  hubUrl: string;
  /** hub origin → device key ids enrolled there. */
  enrolled: Record<string, string[]>;
  /** Approval window / notification switches; missing = defaults. */
  prefs?: Partial<HubPrefs>;
}

/** A request seen for the first time: what the approval window and a notification may use (no payload). */
export interface NewIntentNotice {
  intent_id: string;
  kind: string;
  agentName: string;
}

interface StoragePort {
  get(key: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(key: string): Promise<void>;
}

/** The vault as the hub service needs it: the keyholder, which applies idle checks and activity tracking. */
export interface HubVault {
  whenReady(): Promise<void>;
  readonly isUnlocked: boolean;
  withUnlocked<T>(fn: (service: VaultService) => Promise<T>, options: { activity: boolean }): Promise<T>;
}

export interface HubServicePorts {
  /** chrome.storage.local: settings and claimed installations (public data). */
  local: StoragePort;
  /** chrome.storage.session: the pending list, so a restarted worker shows the badge at once. */
  session: StoragePort;
  badge(count: number): void;
  /** Tells open pages that the hub state changed. */
  changed(): void;
  fetch: typeof fetch;
  now(): number;
  /** Requests this worker had not seen yet arrived (only while unlocked). */
  newIntents?(notices: NewIntentNotice[], prefs: HubPrefs): void;
}

function errorMessage(err: unknown): string {
  if (err instanceof HubClientError || err instanceof ClawkeepError) return err.message;
  return 'Unexpected failure.';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * The background's side of one-click approvals. It talks to the hub with the device key (which never leaves the
 * keyholder), keeps the pending intents (memory + storage.session) and the badge up to date while the vault is
 * unlocked and the device enrolled, and turns a person's decision into a signed statement (and a sealed secret).
 * Live updates come from GET /v1/events read with fetch (no EventSource in a service worker); when the stream
 * fails it reconnects with exponential backoff (1 s → 30 s) and polls GET /v1/intents?status=pending every 5 s
 * in between.
 */
export class HubService {
  private settings: HubSettings | null = null;
  private localInstallations: LocalInstallation[] = [];
  private hubInstallations: HubInstallation[] | null = null;
  private pending: Intent[] = [];
  /** Intent ids already announced through ports.newIntents: a refresh of the same list announces nothing. */
  private seen = new Set<string>();
  private connection: HubConnection = 'off';
  private lastError: string | null = null;
  private loop: AbortController | null = null;
  private lookups = new Map<string, ClaimLookupResponse>();
  private readonly ready: Promise<void>;

  constructor(
    private readonly vault: HubVault,
    private readonly ports: HubServicePorts,
  ) {
    this.ready = this.init();
  }

  private async init(): Promise<void> {
    const local = await this.ports.local.get(HUB_SETTINGS_KEY).catch(() => ({}) as Record<string, unknown>);
    const s = local[HUB_SETTINGS_KEY] as HubSettings | undefined;
    this.settings = s && s.v === 1 && typeof s.hubUrl === 'string' ? s : { v: 1, hubUrl: DEFAULT_HUB_URL, enrolled: {} };
    const ins = (await this.ports.local.get(HUB_INSTALLATIONS_KEY).catch(() => ({}) as Record<string, unknown>))[HUB_INSTALLATIONS_KEY];
    this.localInstallations = Array.isArray(ins) ? (ins as LocalInstallation[]) : [];
    await this.vault.whenReady();
    if (this.vault.isUnlocked) {
      const stored = (await this.ports.session.get(HUB_PENDING_KEY).catch(() => ({}) as Record<string, unknown>))[HUB_PENDING_KEY] as
        | { hub: string; intents: Intent[] }
        | undefined;
      if (stored?.hub === this.settings.hubUrl && Array.isArray(stored.intents)) this.pending = stored.intents;
      // Announced before the worker restarted: not new.
      this.seen = new Set(this.pending.map((i) => i.intent_id));
      this.ports.badge(this.pending.length);
    } else {
      this.ports.badge(0);
    }
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  /** Vault items changed: whether a requested secret exists may have changed too. */
  viewChanged(): void {
    this.ports.changed();
  }

  private get hub(): string {
    return this.settings!.hubUrl;
  }

  // ---- lifecycle ------------------------------------------------------------------------------------------

  /** Starts the live subscription if the vault is unlocked and this device is enrolled (worker wake, alarm, unlock). */
  async ensureRunning(): Promise<void> {
    await this.ready;
    if (this.loop || !this.vault.isUnlocked) return;
    let enrolled = false;
    try {
      enrolled = await this.vault.withUnlocked(async (service) => this.isEnrolled(await service.deviceSigner()), { activity: false });
    } catch {
      return;
    }
    if (!enrolled || this.loop) return;
    const controller = new AbortController();
    this.loop = controller;
    void this.run(controller.signal).finally(() => {
      if (this.loop === controller) {
        this.loop = null;
        this.setConnection('off');
      }
    });
  }

  /** Stops the subscription; on lock also forgets the pending list and clears the badge. */
  async stop(forget: boolean): Promise<void> {
    this.loop?.abort();
    this.loop = null;
    this.connection = 'off';
    if (forget) {
      this.pending = [];
      this.seen.clear();
      this.hubInstallations = null;
      this.lookups.clear();
      this.lastError = null;
      await this.ports.session.remove(HUB_PENDING_KEY).catch(() => {});
      this.ports.badge(0);
    }
    this.ports.changed();
  }

  private setConnection(c: HubConnection): void {
    if (this.connection === c) return;
    this.connection = c;
    this.ports.changed();
  }

  private async run(signal: AbortSignal): Promise<void> {
    let backoff = BACKOFF_MIN_MS;
    void this.refreshInstallations().catch(() => {});
    while (!signal.aborted) {
      let opened = false;
      try {
        if (!this.vault.isUnlocked) break;
        this.setConnection('connecting');
        const client = await this.client(false);
        await client.events(
          (event) => {
            if (event.event !== 'intents') return;
            try {
              void this.setPending(parseIntentsEvent(event.data));
            } catch (err) {
              this.lastError = errorMessage(err);
            }
          },
          {
            signal,
            onOpen: () => {
              opened = true;
              backoff = BACKOFF_MIN_MS;
              this.lastError = null;
              this.setConnection('stream');
            },
          },
        );
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof ClawkeepError && err.code === 'vault_locked') break;
      }
      if (signal.aborted) break;
      // The stream ended or could not start: poll until the next attempt.
      this.setConnection('polling');
      const until = this.ports.now() + backoff;
      do {
        await this.pollOnce();
        await sleep(Math.min(POLL_INTERVAL_MS, until - this.ports.now()), signal);
      } while (!signal.aborted && this.ports.now() < until);
      backoff = opened ? BACKOFF_MIN_MS : Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  }

  /** One GET /v1/intents?status=pending; errors are kept for display, never thrown. */
  async pollOnce(): Promise<void> {
    try {
      const client = await this.client(false);
      await this.setPending(await client.pendingIntents());
      this.lastError = null;
    } catch (err) {
      this.lastError = errorMessage(err);
      this.ports.changed();
    }
  }

  private async setPending(intents: Intent[]): Promise<void> {
    if (!this.vault.isUnlocked) return;
    const pending = intents.filter((i) => i.status === 'pending');
    this.pending = pending;
    const fresh = pending.filter((i) => !this.seen.has(i.intent_id));
    this.seen = new Set(pending.map((i) => i.intent_id));
    this.ports.badge(pending.length);
    if (pending.some((i) => !this.installationFor(i.installation_id)) && this.hubInstallations !== null) {
      void this.refreshInstallations().catch(() => {});
    }
    await this.ports.session.set({ [HUB_PENDING_KEY]: { hub: this.hub, intents: pending } }).catch(() => {});
    this.ports.changed();
    if (fresh.length > 0 && this.ports.newIntents) {
      this.ports.newIntents(
        fresh.map((i) => ({ intent_id: i.intent_id, kind: i.kind, agentName: this.agentName(i.installation_id) })),
        this.prefs(),
      );
    }
  }

  private agentName(installationId: string): string {
    const hubView = this.hubInstallations?.find((h) => h.installation_id === installationId);
    return this.installationFor(installationId)?.name ?? hubView?.name ?? hubView?.agent_name ?? 'Unknown agent';
  }

  prefs(): HubPrefs {
    const p = this.settings?.prefs ?? {};
    return {
      approvalWindow: typeof p.approvalWindow === 'boolean' ? p.approvalWindow : DEFAULT_HUB_PREFS.approvalWindow,
      notifications: typeof p.notifications === 'boolean' ? p.notifications : DEFAULT_HUB_PREFS.notifications,
    };
  }

  // ---- helpers ----------------------------------------------------------------------------------------------

  private isEnrolled(signer: DeviceSigner): boolean {
    return (this.settings!.enrolled[this.hub] ?? []).includes(deviceKeyId(signer.publicKey));
  }

  private async client(activity: boolean): Promise<HubClient> {
    await this.ready;
    const signer = await this.vault.withUnlocked((service) => service.deviceSigner(), { activity });
    return new HubClient({
      hub: this.hub,
      signer: { role: 'human', keyId: deviceKeyId(signer.publicKey), sign: (m) => signer.sign(m) },
      fetch: this.ports.fetch,
      now: this.ports.now,
    });
  }

  private async saveSettings(): Promise<void> {
    await this.ports.local.set({ [HUB_SETTINGS_KEY]: this.settings });
  }

  private installationFor(installationId: string): LocalInstallation | null {
    return this.localInstallations.find((i) => i.hub === this.hub && i.installation_id === installationId) ?? null;
  }

  /**
   * Adopts an installation the hub lists with a claim statement this device signed (e.g. claimed before the extension
   * was reinstalled): the signature over our own device key is what makes its keys trustworthy, not the hub.
   */
  private async adoptVerified(list: HubInstallation[], deviceKey: Uint8Array): Promise<void> {
    let added = false;
    for (const h of list) {
      if (!h.claim || this.installationFor(h.installation_id)) continue;
      let st: ClaimStatement;
      try {
        st = verifyClaim(h.claim, { hub: this.hub, agent_id: h.agent_id ?? '', installation_id: h.installation_id, device_key: encodePublicKey(deviceKey) });
      } catch {
        continue;
      }
      this.localInstallations.push({
        hub: this.hub,
        installation_id: st.installation_id,
        agent_id: st.agent_id,
        name: h.name ?? h.agent_name ?? st.agent_id,
        signing_key: st.agent_signing_key,
        box_key: st.agent_box_key,
        granted_scopes: st.granted_scopes,
        policy: st.policy,
        claimed_at: st.time,
      });
      added = true;
    }
    if (added) await this.ports.local.set({ [HUB_INSTALLATIONS_KEY]: this.localInstallations });
  }

  async refreshInstallations(): Promise<void> {
    const client = await this.client(false);
    const signer = await this.vault.withUnlocked((service) => service.deviceSigner(), { activity: false });
    try {
      this.hubInstallations = await client.listInstallations();
      await this.adoptVerified(this.hubInstallations, signer.publicKey);
    } catch (err) {
      // Older hub without the route: the local records still work.
      this.hubInstallations ??= [];
      throw err;
    } finally {
      this.ports.changed();
    }
  }

  private installationViews(): InstallationView[] {
    const views = new Map<string, InstallationView>();
    for (const l of this.localInstallations.filter((i) => i.hub === this.hub)) {
      views.set(l.installation_id, {
        installation_id: l.installation_id,
        agent_id: l.agent_id,
        name: l.name,
        fingerprint: fingerprint(decodePublicKey(l.signing_key, 'ed25519')),
        granted_scopes: l.granted_scopes,
        status: 'unknown',
        last_activity: null,
        verified: true,
      });
    }
    for (const h of this.hubInstallations ?? []) {
      const known = views.get(h.installation_id);
      const lastActivity = h.last_activity ?? h.last_activity_at ?? null;
      if (known) {
        views.set(h.installation_id, { ...known, status: h.status ?? known.status, last_activity: lastActivity, granted_scopes: known.granted_scopes });
      } else {
        views.set(h.installation_id, {
          installation_id: h.installation_id,
          agent_id: h.agent_id ?? null,
          name: h.name ?? h.agent_name ?? h.agent_id ?? 'Unknown agent',
          fingerprint: null,
          granted_scopes: h.granted_scopes ?? [],
          status: h.status ?? 'unknown',
          last_activity: lastActivity,
          verified: false,
        });
      }
    }
    return [...views.values()];
  }

  private async secretNames(service: VaultService): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const s of await service.list()) if (s.kind === 'secret') counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
    return counts;
  }

  private pendingView(intent: Intent, secrets: Map<string, number>): PendingIntentView {
    const summary = summarizeIntent(intent.kind, intent.payload);
    const local = this.installationFor(intent.installation_id);
    const hubView = this.hubInstallations?.find((h) => h.installation_id === intent.installation_id);
    let required: Scope | null = null;
    try {
      required = requiredScope(intent.kind, intent.payload);
    } catch {
      required = null;
    }
    let hashOk = false;
    try {
      hashOk = payloadHashOf(intent) === intent.payload_hash;
    } catch {
      hashOk = false;
    }
    let blocked: string | null = null;
    if (!hashOk) blocked = "The hub's payload hash does not match this request. Do not trust this hub.";
    else if (!local || local.agent_id !== intent.agent_id) blocked = 'This device did not claim the agent behind this request.';
    else if (!summary.valid) blocked = 'The request is malformed.';
    else if (!required || !local.granted_scopes.includes(required)) blocked = `The agent was not granted ${required ?? 'this'}.`;
    else if (intent.kind === 'secret.request') {
      const item = (intent.payload as { item: string }).item;
      const n = secrets.get(item) ?? 0;
      if (n === 0) blocked = `Your vault has no secret named "${item}".`;
      else if (n > 1) blocked = `Your vault has ${n} secrets named "${item}"; rename all but one.`;
    }
    return {
      intent,
      summary,
      risk: displayRisk(summary.risk, intent.risk),
      agentName: local?.name ?? hubView?.name ?? hubView?.agent_name ?? 'Unknown agent',
      agentFingerprint: local ? fingerprint(decodePublicKey(local.signing_key, 'ed25519')) : null,
      grantedScopes: local?.granted_scopes ?? [],
      requiredScope: required,
      blocked,
    };
  }

  // ---- what pages may call ------------------------------------------------------------------------------------

  async state(): Promise<HubState> {
    await this.ready;
    const base: HubState = {
      unlocked: this.vault.isUnlocked,
      hubUrl: this.hub,
      enrolled: false,
      deviceFingerprint: null,
      connection: this.connection,
      lastError: this.lastError,
      pending: [],
      installations: [],
      prefs: this.prefs(),
    };
    if (!this.vault.isUnlocked) return base;
    try {
      return await this.vault.withUnlocked(async (service) => {
        const signer = await service.deviceSigner();
        const secrets = await this.secretNames(service);
        return {
          ...base,
          enrolled: this.isEnrolled(signer),
          deviceFingerprint: fingerprint(signer.publicKey),
          pending: this.pending.map((i) => this.pendingView(i, secrets)),
          installations: this.installationViews(),
        };
      }, { activity: false });
    } catch (err) {
      if (err instanceof ClawkeepError && err.code === 'vault_locked') return { ...base, unlocked: false };
      throw err;
    }
  }

  async setHubUrl(input: string): Promise<HubState> {
    await this.ready;
    const hubUrl = normalizeHubUrl(input);
    if (hubUrl !== this.hub) {
      await this.stop(true);
      this.settings!.hubUrl = hubUrl;
      await this.saveSettings();
      void this.ensureRunning();
    }
    return this.state();
  }

  async enroll(enrollmentCode: string): Promise<HubState> {
    await this.ready;
    const code = String(enrollmentCode ?? '').trim();
    if (!code) throw new HubClientError('enrollment_code_invalid', 'Enter the enrollment code the hub printed.');
    const signer = await this.vault.withUnlocked((service) => service.deviceSigner(), { activity: true });
    const client = await this.client(true);
    const keyId = deviceKeyId(signer.publicKey);
    try {
      await client.enroll(code, signer.publicKey);
    } catch (err) {
      // Signed by this very key, so "already enrolled" means this device is known there.
      if (!(err instanceof HubClientError && err.code === 'device_already_enrolled')) throw err;
    }
    const list = new Set(this.settings!.enrolled[this.hub] ?? []);
    list.add(keyId);
    this.settings!.enrolled[this.hub] = [...list];
    await this.saveSettings();
    void this.ensureRunning();
    return this.state();
  }

  private async requireEnrolledClient(activity: boolean): Promise<HubClient> {
    const signer = await this.vault.withUnlocked((service) => service.deviceSigner(), { activity });
    if (!this.isEnrolled(signer)) throw new HubClientError('not_enrolled', 'Enroll this device with the hub first.');
    return this.client(activity);
  }

  async lookupClaim(claimCode: string): Promise<ClaimPreview> {
    await this.ready;
    let hash: string;
    try {
      normalizeClaimCode(claimCode);
      hash = claimCodeHash(claimCode);
    } catch {
      throw new HubClientError('claim_code_invalid', 'A claim code has 8 letters, like BCDF-GHJK.');
    }
    const client = await this.requireEnrolledClient(true);
    const found = await client.lookupClaim(claimCode);
    this.lookups.set(hash, found);
    const policy: Policy = defaultPolicy();
    return {
      claim_code: claimCode,
      agent_id: found.agent_id,
      name: found.name,
      // Our own computation: the hub's `fingerprint` field is not what the person compares.
      fingerprint: fingerprint(decodePublicKey(found.signing_key, 'ed25519')),
      manifestMarkdown: found.manifest.markdown,
      manifestSha256: toHex(sha256(utf8Encode(found.manifest.markdown))),
      requested_scopes: found.requested_scopes,
      policy,
      expires_at: found.expires_at,
    };
  }

  async claim(claimCode: string, grantedScopes: string[], picked?: Policy | null): Promise<{ installation_id: string }> {
    await this.ready;
    const policy = claimPolicy(picked);
    let hash: string;
    try {
      hash = claimCodeHash(claimCode);
    } catch {
      throw new HubClientError('claim_code_invalid', 'A claim code has 8 letters, like BCDF-GHJK.');
    }
    const found = this.lookups.get(hash);
    if (!found) throw new HubClientError('claim_code_invalid', 'Look the claim code up first.');
    const requested = new Set<string>(found.requested_scopes);
    if (!Array.isArray(grantedScopes) || !grantedScopes.every((s) => typeof s === 'string' && requested.has(s))) {
      throw new HubClientError('claim_invalid', 'Only scopes the agent asked for can be granted.');
    }
    const client = await this.requireEnrolledClient(true);
    const signer = await this.vault.withUnlocked((service) => service.deviceSigner(), { activity: true });
    const statement: ClaimStatement = {
      hub: this.hub,
      agent_id: found.agent_id,
      agent_signing_key: found.signing_key,
      agent_box_key: found.box_key,
      claim_code_hash: hash,
      granted_scopes: normalizeScopes(grantedScopes) as Scope[],
      policy,
      installation_id: `ins_${toBase64Url(randomBytes(16))}`,
      device_key: encodePublicKey(signer.publicKey),
      time: this.ports.now(),
    };
    const signature = toBase64Url(await signer.sign(claimBytes(statement)));
    const res = await client.claim({ statement, signature });
    if (res.installation_id !== statement.installation_id) throw new HubClientError('hub_bad_response', 'The hub answered with another installation id.');
    this.lookups.delete(hash);
    this.localInstallations.push({
      hub: this.hub,
      installation_id: statement.installation_id,
      agent_id: statement.agent_id,
      name: found.name,
      signing_key: statement.agent_signing_key,
      box_key: statement.agent_box_key,
      granted_scopes: statement.granted_scopes,
      policy: statement.policy,
      claimed_at: statement.time,
    });
    await this.ports.local.set({ [HUB_INSTALLATIONS_KEY]: this.localInstallations });
    await this.refreshInstallations().catch(() => {});
    this.ports.changed();
    return { installation_id: statement.installation_id };
  }

  async refresh(): Promise<HubState> {
    await this.ready;
    if (this.vault.isUnlocked) {
      await this.pollOnce();
      await this.refreshInstallations().catch(() => {});
      void this.ensureRunning();
    }
    return this.state();
  }

  async revoke(installationId: string): Promise<HubState> {
    await this.ready;
    const client = await this.requireEnrolledClient(true);
    await client.revokeInstallation(installationId);
    await this.refreshInstallations().catch(() => {});
    await this.pollOnce();
    return this.state();
  }

  async enableInstallation(installationId: string): Promise<HubState> {
    await this.ready;
    const client = await this.requireEnrolledClient(true);
    await client.enableInstallation(installationId);
    await this.refreshInstallations().catch(() => {});
    return this.state();
  }

  /** Saves the approval window / notification switches (booleans only; anything else is ignored). */
  async setPrefs(prefs: Partial<HubPrefs>): Promise<HubState> {
    await this.ready;
    const next = this.prefs();
    if (typeof prefs?.approvalWindow === 'boolean') next.approvalWindow = prefs.approvalWindow;
    if (typeof prefs?.notifications === 'boolean') next.notifications = prefs.notifications;
    this.settings!.prefs = next;
    await this.saveSettings();
    this.ports.changed();
    return this.state();
  }

  async decide(intentId: string, shownHash: string, decision: Decision): Promise<HubState> {
    await this.ready;
    if (decision !== 'approve' && decision !== 'deny') throw new HubClientError('protocol_invalid', 'Unknown decision.');
    const intent = this.pending.find((i) => i.intent_id === intentId);
    if (!intent) throw new HubClientError('intent_not_pending', 'This request is no longer pending.');
    // What the person saw is what gets signed: the page sends back the hash it displayed.
    if (intent.payload_hash !== shownHash) throw new HubClientError('payload_hash_mismatch', 'The request changed while you were looking at it. Look again.');
    const client = await this.requireEnrolledClient(true);
    const body = await this.vault.withUnlocked(async (service) => {
      const signer = await service.deviceSigner();
      return buildDecision({
        hub: this.hub,
        intent,
        decision,
        installation: this.installationFor(intent.installation_id),
        sign: (m) => signer.sign(m),
        now: this.ports.now(),
        readSecret: async (item) => {
          const matches = (await service.list()).filter((s) => s.kind === 'secret' && s.name === item);
          if (matches.length !== 1) return null;
          const found = await service.get({ id: matches[0]!.id });
          return found.kind === 'secret' && found.fields.name === item ? found.fields.value : null;
        },
      });
    }, { activity: true });
    try {
      await client.decide(intentId, body);
    } finally {
      await this.pollOnce();
    }
    // A denial may have locked the installation (5 in a row): show it in the Agents tab.
    if (decision === 'deny') await this.refreshInstallations().catch(() => {});
    // The stream may lag behind; the decided intent is not pending any more in any case.
    if (this.pending.some((i) => i.intent_id === intentId)) await this.setPending(this.pending.filter((i) => i.intent_id !== intentId));
    return this.state();
  }

  /** One page of the hub's audit entries about this account, in plain words (signed by the device). */
  async activity(before?: number): Promise<ActivityPage> {
    await this.ready;
    const client = await this.requireEnrolledClient(true);
    const page = await client.audit({ limit: ACTIVITY_PAGE, ...(before !== undefined ? { before } : {}) });
    const names = new Map<string, string>();
    for (const h of this.hubInstallations ?? []) if (h.agent_id) names.set(h.agent_id, h.name ?? h.agent_name ?? h.agent_id);
    for (const l of this.localInstallations.filter((i) => i.hub === this.hub)) names.set(l.agent_id, l.name);
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
    };
  }

  async denyAllFromAgent(agentId: string): Promise<HubState> {
    await this.ready;
    const targets = this.pending.filter((i) => i.agent_id === agentId);
    let firstError: unknown = null;
    for (const intent of targets) {
      try {
        await this.decide(intent.intent_id, intent.payload_hash, 'deny');
      } catch (err) {
        firstError ??= err;
      }
    }
    if (firstError) throw firstError;
    return this.state();
  }
}

export const ACTIVITY_PAGE = 20;

/**
 * The policy to sign from what the page sent: known kinds only, `secret.request` always added, daily limit 1..10000
 * or null. Nothing sent: the default (approval for every kind, no limit).
 */
function claimPolicy(picked: Policy | null | undefined): Policy {
  if (picked == null) return defaultPolicy();
  const kinds = (picked as { approval_required?: unknown }).approval_required;
  const limit = (picked as { daily_limit?: unknown }).daily_limit ?? null;
  if (!Array.isArray(kinds) || !kinds.every((k) => isIntentKind(k))) throw new HubClientError('claim_invalid', 'The policy names an unknown kind of request.');
  try {
    return makePolicy(kinds, limit as number | null);
  } catch {
    throw new HubClientError('claim_invalid', 'The daily limit must be a whole number from 1 to 10000, or empty for no limit.');
  }
}

function payloadHashOf(intent: Intent): string {
  return payloadHash(intent.kind, intent.payload);
}

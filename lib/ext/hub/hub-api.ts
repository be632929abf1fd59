import * as v from 'valibot';
import type { ActivityPage } from '../../hub-client/activity';
import type { ClaimPreview, DeviceInfo, DevicePreview, HubState } from '../../hub-client/api';
import type { JoinStatus } from '../../web-vault/page-devices';
import { defineService, events, method, type ServiceApi } from '../rpc/service';
import { bytesArg, kdfParamsArg } from '../rpc/service-args';

/** The policy a person picked when claiming, shape only: `makePolicy` (lib/protocol/approval.ts) checks its rules. */
const policyArg = v.object({ approval_required: v.array(v.string()), daily_limit: v.nullable(v.number()) });

/** "Don't ask again" on an http.request, shape only: http-rules.ts checks the prefix against the request and the limit. */
const httpRuleArg = v.object({ path_prefix: v.optional(v.string()), limit_per_day: v.optional(v.number()) });

/**
 * What extension pages may ask of the background about the hub (rpc/service.ts). The background holds the device key
 * and the vault; pages get views computed on the device and send decisions by intent id (plus the payload hash they
 * showed). `HubService` (hub-service.ts) implements it; pages get the generated proxy as {@link HubApi}.
 */
export const HUB_SERVICE = defineService({
  channel: 'clawkeep.hub.rpc',
  name: 'the hub',
  events: events('clawkeep.hub.event'),
  methods: {
    state: method().returns<HubState>(),
    setHubUrl: method(v.string()).returns<HubState>(),
    enroll: method(v.string()).returns<HubState>(),
    lookupClaim: method(v.string()).returns<ClaimPreview>(),
    /**
     * Signs and sends the claim. `policy` is what the person picked (kinds that need a click, daily limit); the
     * background adds `secret.request` and checks the limit. Omitted: the default policy.
     */
    claim: method(v.string(), v.array(v.string()), v.optional(policyArg)).returns<{ installation_id: string }>(),
    /** The hub's audit entries about this account, newest first, in plain words (`before`: a seq, for older ones). */
    activity: method(v.optional(v.number())).returns<ActivityPage>(),
    refresh: method().returns<HubState>(),
    revoke: method(v.string()).returns<HubState>(),
    /** Re-enables an installation the hub locked after repeated denials. */
    enableInstallation: method(v.string()).returns<HubState>(),
    setPrefs: method(
      v.object({ approvalWindow: v.optional(v.boolean()), notifications: v.optional(v.boolean()) }),
    ).returns<HubState>(),
    /**
     * `payloadHash` is the hash the page displayed: the background refuses if its intent differs. `remember`
     * ("Don't ask again") also approves, from now on, this exact secret request from this agent, or for an
     * http.request the calls inside a rule: same method and host, a path under `rule.path_prefix` (default: this
     * request's path), the same secrets in the same places, at most `rule.limit_per_day` a day (default 100).
     */
    decide: method(
      v.string(),
      v.string(),
      v.picklist(['approve', 'deny']),
      v.optional(v.boolean()),
      v.optional(httpRuleArg),
    ).returns<HubState>(),
    /**
     * A page shows this pending intent's card: the background prepares the decision on it (hub-service.ts). Sent on
     * display and every PREPARE_REFRESH_MS while the card stays.
     */
    prepareDecision: method(v.string()).returns<void>(),
    /** Stops a standing approval or http.request rule: the next request it covered asks again. */
    revokeStandingApproval: method(v.string()).returns<HubState>(),
    denyAllFromAgent: method(v.string()).returns<HubState>(),
    /**
     * Seals the vault's agent config `configId` to the claimed agent's key, signs it with the device key and uploads
     * it; from then on every edit of the config is delivered again as a new revision. Replaces the agent's previous
     * config, if any.
     */
    assignConfig: method(v.string(), v.string()).returns<HubState>(),
    /** Deletes the agent's config from the hub and stops delivering it. */
    unassignConfig: method(v.string()).returns<HubState>(),
    /** Devices and pairing (README "Devices and pairing"): what the code the new device shows belongs to. */
    lookupDevice: method(v.string()).returns<DevicePreview>(),
    /** One click: signs the device-add statement and sends the vault key sealed to the looked-up device. */
    approveDevice: method(v.string()).returns<{ device_key_id: string; fingerprint: string }>(),
    /** Refuses the looked-up device: it sees "refused" and needs a new code. */
    denyDevice: method(v.string()).returns<void>(),
    devices: method().returns<DeviceInfo[]>(),
    /** Revokes the device on the hub at once; returns the new list. */
    removeDevice: method(v.string()).returns<DeviceInfo[]>(),
    // Joining an existing vault as a new device (the page side is extension-join.ts, which derives the KEK).
    /** Makes this device's device key and box key and asks the hub for a pairing: the code and fingerprint to show. */
    startJoin: method(v.string(), v.string()).returns<{ code: string; fingerprint: string; expiresAt: number }>(),
    pollJoin: method().returns<JoinStatus>(),
    cancelJoin: method().returns<void>(),
    /** After approval: creates the local vault with the paired key under the page-derived KEK (wiped after use). */
    finishJoin: method(v.object({ kdf: kdfParamsArg, salt: bytesArg, kek: bytesArg })).returns<void>(),
  },
});

/**
 * How often a page showing a card asks the background to prepare it again: well inside CARD_PROOF_MAX_MS
 * (hub-identity.ts), so a click on a card that stayed up still finds a proof made since it was shown.
 */
export const PREPARE_REFRESH_MS = 20_000;

/** The hub as extension pages use it; `subscribe` is called whenever the background's hub state changes. */
export type HubApi = ServiceApi<typeof HUB_SERVICE>;

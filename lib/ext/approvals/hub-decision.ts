import { decodePublicKey, fingerprint } from '../../protocol/keys';
import type { Decision } from '../../protocol/approval';
import { isDisplaySafe } from '../../protocol/display-text';
import { payloadHash } from '../../protocol/intent-hash';
import { requiredScope, type Scope } from '../../protocol/scopes';
import type { Intent } from '../../protocol/wire';
import { parseHttpRequest } from '../../protocol/http-request';
import type { HttpOutcome } from '../../protocol/sealed-response';
import type { PendingIntentView } from '../../hub-client/api';
import { displayRisk, summarizeIntent } from '../../hub-client/summary';
import { buildDecision, checkDecidable } from './hub-approval';
import { readSecret, secretIndex, type SecretIndex } from './releasable-secrets';
import { httpBlocked, makeApprovedCall } from './hub-http-call';
import { callRecord, withCall } from './http-call-log';

export { secretIndex } from './releasable-secrets';
import type { HubCore } from '../hub/hub-core';
import { ensureHubIdentity, type IdentityNeed } from '../hub/hub-identity';
import { canRemember, matchesIntent, type StandingRecord } from './hub-standing-approvals';
import { isHttpRule, matchesHttpRule, takeHttpRuleUse } from './http-rules';

/** What the person sees of each pending request (and why it may not be approved), and their signed decision. */

/** A name from the hub or a claim lookup, unless it hides characters (display-text.ts): then it is not shown. */
const safeName = (name: string): string =>
  isDisplaySafe(name) ? name : 'Agent name withheld (it holds invisible characters)';

function payloadHashOf(intent: Intent): string {
  return payloadHash(intent.kind, intent.payload);
}

export function pendingView(core: HubCore, intent: Intent, secrets: SecretIndex): PendingIntentView {
  const summary = summarizeIntent(intent.kind, intent.payload);
  const local = core.installationFor(intent.installation_id);
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
  else if (!local || local.agent_id !== intent.agent_id)
    blocked = 'This device did not claim the agent behind this request.';
  else if (!summary.valid) blocked = `The request is malformed${summary.problem ? `: ${summary.problem}` : '.'}`;
  else if (!required || !local.granted_scopes.includes(required))
    blocked = `The agent was not granted ${required ?? 'this'}.`;
  else if (intent.kind === 'secret.request') {
    const item = (intent.payload as { item: string }).item;
    const n = secrets.counts.get(item) ?? 0;
    if (n === 0) blocked = `Your vault has no secret named "${item}".`;
    else if (n > 1) blocked = `Your vault has ${n} secrets named "${item}"; rename all but one.`;
  } else if (intent.kind === 'http.request') blocked = httpBlocked(parseHttpRequest(intent.payload), secrets);
  return {
    intent,
    summary,
    risk: displayRisk(summary.risk, intent.risk),
    agentName: safeName(core.agentName(intent.installation_id)),
    agentFingerprint: local ? fingerprint(decodePublicKey(local.signing_key, 'ed25519')) : null,
    grantedScopes: local?.granted_scopes ?? [],
    requiredScope: required,
    blocked,
    canAlwaysApprove: blocked === null && canRemember(intent.kind),
  };
}

/**
 * Signs a decision on `intent` with the device key (sealing the secret for an approved secret.request) and sends it,
 * to a hub that proved its pinned identity as `need` asks (hub-identity.ts): a standing approval (`false`) may reuse
 * a background proof, a person's decision on a card (`{ shownAt }`) only one made since the card was shown.
 * One vault call reads the signer, checks the enrolment and builds the statement; the person's activity is recorded
 * while the decision travels (it only moves the idle lock's deadline).
 */
export async function signAndSend(
  core: HubCore,
  intent: Intent,
  decision: Decision,
  need: IdentityNeed,
  /** With a denial of an http.request made unasked: the device's reason, sealed and signed for the agent. */
  refusal?: string,
): Promise<void> {
  await core.ready;
  // The box key a secret is sealed to comes only from the vault's authenticated record (decrypt_failed if edited).
  await core.ensureInstallations();
  // Nothing is signed for a hub at this URL that has not proved the identity key pinned at enrolment.
  await ensureHubIdentity(core, need);
  // An http.request is checked, then its call made, before anything is signed: the outcome is part of the decision.
  let httpOutcome: HttpOutcome | undefined =
    refusal === undefined ? undefined : { outcome: 'refused', code: 'http_host_not_allowed', message: refusal };
  if (decision === 'approve' && intent.kind === 'http.request') {
    checkDecidable(intent, decision, core.installationFor(intent.installation_id));
    httpOutcome = await makeApprovedCall(core, intent);
    // The call was made: it is logged whatever happens to the decision next (the hub may be unreachable now).
    const record = callRecord(
      intent,
      parseHttpRequest(intent.payload),
      httpOutcome,
      core.agentName(intent.installation_id),
      need === false ? 'rule' : 'person',
      core.ports.now(),
    );
    await core.vault
      .withUnlocked(
        (service) => core.httpCalls.update(service, (list) => ({ next: withCall(list, record), value: null })),
        {
          activity: false,
        },
      )
      .catch(() => {});
  }
  const { client, body } = await core.vault.withUnlocked(
    async (service) => {
      const signer = await service.deviceSigner();
      if (!core.isEnrolled(signer)) throw core.notEnrolled();
      const body = await buildDecision({
        hub: core.hub,
        intent,
        decision,
        installation: core.installationFor(intent.installation_id),
        sign: (m) => signer.sign(m),
        now: core.ports.now(),
        readSecret: (item) => readSecret(service, item),
        ...(httpOutcome ? { httpOutcome } : {}),
      });
      return { client: core.clientFor(signer), body };
    },
    { activity: false },
  );
  const activity = need !== false ? core.vault.withUnlocked(async () => undefined, { activity: true }) : null;
  await Promise.all([client.decide(intent.intent_id, body), activity]);
}

/** How many automatically answered intent ids are remembered (a hub that lists one again gets no second answer). */
const ANSWERED_KEPT = 1000;

/**
 * Standing approvals and http.request rules ("Don't ask again") at work: owns which intents are being approved right
 * now and which were answered, so a second update of the pending list never approves the same intent twice (for an
 * http.request that would be a second call with the secret).
 */
export class StandingApprover {
  /** Intent ids a standing approval is approving right now. */
  private readonly approving = new Set<string>();
  /** Intent ids answered here, oldest first: a pending list that still holds one (a lagging stream) is not obeyed. */
  private readonly answered = new Set<string>();

  /** `send` approves one intent; tests replace it to watch what is approved without a hub that takes the answer. */
  constructor(
    private readonly core: HubCore,
    private readonly send: (intent: Intent) => Promise<void> = (intent) => signAndSend(core, intent, 'approve', false),
  ) {}

  /**
   * Whether a standing approval is approving this intent right now, or answered it already (it is then not shown as
   * pending either: a list that still holds it lags behind the hub, which took the answer).
   */
  isApproving(intentId: string): boolean {
    return this.approving.has(intentId) || this.answered.has(intentId);
  }

  /**
   * Approves, without asking, each pending intent a standing approval covers (same hub, installation, agent, kind and
   * payload hash) or an http.request rule answers (http-rules.ts: its use is taken before the call, within the daily
   * limit), and that could be approved by a click right now (nothing blocks it, not expired). Returns the ids it
   * approved; anything that fails, or is over a rule's limit, stays pending for the person. Never extends the vault's
   * idle timer.
   */
  async approve(pending: Intent[]): Promise<Set<string>> {
    const core = this.core;
    const done = new Set<string>();
    const candidates = pending.filter(
      (i) =>
        canRemember(i.kind) &&
        !this.approving.has(i.intent_id) &&
        !this.answered.has(i.intent_id) &&
        i.expires_at > core.ports.now(),
    );
    if (candidates.length === 0 || !core.vault.isUnlocked) return done;
    let approvals: StandingRecord[];
    let secrets: SecretIndex;
    try {
      await core.ensureInstallations();
      ({ approvals, secrets } = await core.vault.withUnlocked(
        async (service) => ({
          approvals: await core.standing.update(service, (list) => ({ next: null, value: list })),
          secrets: await secretIndex(service, candidates),
        }),
        { activity: false },
      ));
    } catch {
      return done;
    }
    for (const intent of candidates) {
      // Another update of the list may have started on this intent while this one awaited the vault.
      if (this.approving.has(intent.intent_id) || this.answered.has(intent.intent_id)) continue;
      const approval = approvals.find((a) => matchesIntent(a, core.hub, intent));
      const rule = approval
        ? undefined
        : approvals.find((a) => isHttpRule(a) && matchesHttpRule(a, core.hub, intent, core.ports.now()));
      if ((!approval && !rule) || pendingView(core, intent, secrets).blocked !== null) continue;
      this.approving.add(intent.intent_id);
      try {
        // The list read above may be stale by now: the use is taken against the stored rule, one change at a time.
        if (rule) {
          const taken = await core.vault.withUnlocked(
            (service) => takeHttpRuleUse(core.standing, service, core.hub, intent, core.ports.now()),
            { activity: false },
          );
          if (taken === null) continue;
        }
        await this.send(intent);
        done.add(intent.intent_id);
        this.answered.add(intent.intent_id);
        if (this.answered.size > ANSWERED_KEPT) this.answered.delete(this.answered.values().next().value!);
        if (!approval) continue;
        await core.vault
          .withUnlocked(
            (service) =>
              core.standing.update(service, (list) => ({
                next: list.map((a) =>
                  a.id === approval.id ? { ...a, uses: a.uses + 1, last_used_at: core.ports.now() } : a,
                ),
                value: null,
              })),
            { activity: false },
          )
          .catch(() => {});
      } catch {
        // Left pending: the person sees it and decides (e.g. the hub refused, or the vault locked meanwhile).
      } finally {
        this.approving.delete(intent.intent_id);
      }
    }
    return done;
  }
}

import { utf8Encode, wipe } from '../../bytes';
import { approvalBytes, type ApprovalStatement, type Decision, type Policy } from '../../protocol/approval';
import { toBase64Url } from '../../protocol/base64url';
import { payloadHash } from '../../protocol/intent-hash';
import { verifyKeyBinding, type SignedKeyBinding } from '../../protocol/key-binding';
import { decodePublicKey } from '../../protocol/keys';
import { requiredScope } from '../../protocol/scopes';
import { buildResponseDelivery, type HttpOutcome, type ResponseDelivery } from '../../protocol/sealed-response';
import { sealSecret } from '../../protocol/sealed-secret';
import type { DecisionRequest, Intent } from '../../protocol/wire';
import { HubClientError, type HubClientErrorCode } from '../../hub-client/errors';
import { summarizeIntent } from '../../hub-client/summary';

/**
 * An installation as this device claimed it: the keys and grants it signed in the claim statement. Stored locally
 * (not secret), so approving never depends on what the hub says about an agent's keys.
 */
export interface LocalInstallation {
  hub: string;
  installation_id: string;
  agent_id: string;
  name: string;
  signing_key: string;
  box_key: string;
  /**
   * The agent's CKKB key binding that verified at claim time (its signing key signed box_key for this hub). Absent
   * from records made before bindings existed: nothing is sealed to those (see verifiedBoxKey).
   */
  key_binding?: SignedKeyBinding;
  granted_scopes: string[];
  policy: Policy;
  claimed_at: number;
}

const UNBOUND =
  "This agent's key is not vouched for by its signing key (it was claimed before key bindings, or the record changed): nothing is sealed to it. Ask the agent to register again and claim it anew.";

/**
 * The box key to seal to for this installation, only if the record's key binding verifies: signed by the agent's
 * signing key (the fingerprint the person compared) over exactly this box key, for `hub` (issue 13 item 2).
 * @throws HubClientError `key_binding_invalid`, before anything is sealed.
 */
export function verifiedBoxKey(hub: string, installation: LocalInstallation): Uint8Array {
  try {
    verifyKeyBinding(installation.key_binding, {
      hub,
      role: 'agent',
      signing_key: installation.signing_key,
      box_key: installation.box_key,
      name: installation.key_binding?.statement?.name ?? null,
    });
    return decodePublicKey(installation.box_key, 'x25519');
  } catch (err) {
    throw new HubClientError('key_binding_invalid', UNBOUND, { cause: err });
  }
}

export interface BuildDecisionInput {
  hub: string;
  intent: Intent;
  decision: Decision;
  /** The installation this device claimed for intent.installation_id, or null if it knows none. */
  installation: LocalInstallation | null;
  sign(message: Uint8Array): Promise<Uint8Array>;
  now: number;
  /** The value of the vault secret named exactly `item`; null when there is none. Needed to approve secret.request. */
  readSecret?(item: string): Promise<string | null>;
  /**
   * An http.request's outcome for the agent: the call's answer (or why none came) to approve, a `refused` outcome to
   * deny it unasked. Sealed to the agent's verified box key and signed (sealed-response.ts).
   */
  httpOutcome?: HttpOutcome;
}

const refuse = (code: HubClientErrorCode, message: string) => new HubClientError(code, message);

/**
 * The device's own checks before anything is signed (or, for an http.request, before the call is made): the payload
 * hash recomputed from kind + payload, the installation, the agent's nonce, and to approve a well-formed payload and
 * a granted scope. Returns the local payload hash.
 * @throws HubClientError `payload_hash_mismatch`, `installation_unknown`, `scope_not_granted`, `payload_invalid`
 */
export function checkDecidable(intent: Intent, decision: Decision, installation: LocalInstallation | null): string {
  let local: string;
  try {
    local = payloadHash(intent.kind, intent.payload);
  } catch {
    throw refuse('payload_invalid', 'The request cannot be hashed: it is malformed. Nothing was signed.');
  }
  if (local !== intent.payload_hash) {
    throw refuse(
      'payload_hash_mismatch',
      "The hub's payload hash does not match the request shown. Nothing was signed.",
    );
  }
  if (
    installation &&
    (installation.installation_id !== intent.installation_id || installation.agent_id !== intent.agent_id)
  ) {
    throw refuse(
      'installation_unknown',
      'The request names an installation or agent this device did not claim. Nothing was signed.',
    );
  }
  // CKAP v2 signs the agent's own nonce for this request; an intent without one cannot be answered by the agent.
  if (intent.agent_nonce === undefined)
    throw refuse('payload_invalid', 'The request carries no agent nonce (an older hub or agent). Nothing was signed.');
  if (decision === 'approve') {
    if (!installation)
      throw refuse(
        'installation_unknown',
        'This device did not claim the agent behind this request: only Deny is possible.',
      );
    if (!summarizeIntent(intent.kind, intent.payload).valid)
      throw refuse('payload_invalid', 'The request is malformed: only Deny is possible.');
    const scope = requiredScope(intent.kind, intent.payload);
    if (!installation.granted_scopes.includes(scope))
      throw refuse('scope_not_granted', `The agent was not granted ${scope}: only Deny is possible.`);
  }
  return local;
}

/**
 * Checks an intent against what the device itself knows and builds the body of POST /v1/intents/:id/decision.
 * The payload hash is recomputed from kind + payload: a hub that shows one payload and asks for a signature over
 * another gets nothing signed. Approving also requires a known installation, a granted scope, a well-formed payload
 * and, for a secret request, the secret itself, which is sealed to the agent's box key from this device's claim; for
 * an http.request, the call's outcome, sealed and signed the same way.
 * @throws HubClientError `payload_hash_mismatch`, `installation_unknown`, `scope_not_granted`, `payload_invalid`, `secret_missing`
 */
export async function buildDecision(input: BuildDecisionInput): Promise<DecisionRequest> {
  const { intent, decision, installation } = input;
  const local = checkDecidable(intent, decision, installation);
  let sealed: string | undefined;
  if (decision === 'approve' && installation) {
    if (intent.kind === 'secret.request') {
      const item = (intent.payload as { item: string }).item;
      // Checked before the secret is read: a box key the agent did not vouch for gets nothing.
      const boxKey = verifiedBoxKey(input.hub, installation);
      const value = input.readSecret ? await input.readSecret(item) : null;
      if (value === null)
        throw refuse('secret_missing', `Your vault has no secret named "${item}": only Deny is possible.`);
      const plaintext = utf8Encode(value);
      try {
        sealed = toBase64Url(
          sealSecret(boxKey, plaintext, {
            intent_id: intent.intent_id,
            payload_hash: local,
            agent_id: intent.agent_id,
          }),
        );
      } finally {
        wipe(plaintext);
      }
    }
  }
  const httpResponse = await httpDelivery(input, local);
  const statement: ApprovalStatement = {
    hub: input.hub,
    intent_id: intent.intent_id,
    payload_hash: local,
    decision,
    installation_id: intent.installation_id,
    agent_nonce: intent.agent_nonce!, // checkDecidable refused an intent without one
    time: input.now,
  };
  const signature = toBase64Url(await input.sign(approvalBytes(statement)));
  return {
    approval: { statement, signature },
    ...(sealed === undefined ? {} : { sealed_secret: sealed }),
    ...(httpResponse === undefined ? {} : { http_response: httpResponse }),
  };
}

/**
 * The sealed, signed outcome an http.request decision carries: required to approve one (the call was made), a
 * `refused` outcome only with a denial. Sealed only to a box key the agent vouched for.
 * @throws HubClientError `payload_invalid`, `installation_unknown`, `key_binding_invalid`
 */
async function httpDelivery(input: BuildDecisionInput, payloadHash: string): Promise<ResponseDelivery | undefined> {
  const { intent, decision, installation, httpOutcome } = input;
  if (intent.kind !== 'http.request') return undefined;
  if (httpOutcome === undefined) {
    if (decision === 'approve') throw refuse('payload_invalid', 'The call was not made: nothing was approved.');
    return undefined;
  }
  if ((httpOutcome.outcome === 'refused') !== (decision === 'deny'))
    throw refuse('payload_invalid', 'A refusal goes only with a denial. Nothing was signed.');
  if (!installation)
    throw refuse(
      'installation_unknown',
      'This device did not claim the agent behind this request. Nothing was signed.',
    );
  return buildResponseDelivery({
    hub: input.hub,
    agent_id: intent.agent_id,
    installation_id: intent.installation_id,
    intent_id: intent.intent_id,
    payload_hash: payloadHash,
    boxKey: verifiedBoxKey(input.hub, installation),
    outcome: httpOutcome,
    sign: input.sign,
    now: input.now,
  });
}

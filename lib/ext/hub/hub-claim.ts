import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes, toHex, utf8Encode } from '../../bytes';
import { claimBytes, defaultPolicy, makePolicy, type ClaimStatement, type Policy } from '../../protocol/approval';
import { toBase64Url } from '../../protocol/base64url';
import { claimCodeHash } from '../../protocol/claim-code';
import { isIntentKind } from '../../protocol/intent-kinds';
import { decodePublicKey, deviceKeyId, encodePublicKey, fingerprint } from '../../protocol/keys';
import { normalizeScopes, type Scope } from '../../protocol/scopes';
import type { ClaimPreview } from '../../hub-client/api';
import { assertKeyBinding, keyBindingProblem } from '../../hub-client/key-bindings';
import type { SignedKeyBinding } from '../../protocol/key-binding';
import type { ClaimLookupResponse } from '../../protocol/wire';
import { HubClientError } from '../../hub-client/errors';
import { pinAtEnrolment } from './hub-identity';
import type { HubCore } from './hub-core';
import { localInstallationFrom, refreshInstallations } from './hub-installations';

/** Enrolling this device with the hub, and claiming an agent: look the code up, then sign the claim statement. */

/** Enrolls the device key with the enrollment code the hub printed (the hub service then starts the subscription). */
export async function enroll(core: HubCore, enrollmentCode: string): Promise<void> {
  await core.ready;
  const code = String(enrollmentCode ?? '').trim();
  if (!code) throw new HubClientError('enrollment_code_invalid', 'Enter the enrollment code the hub printed.');
  const signer = await core.signer(true);
  const client = await core.client(true);
  const keyId = deviceKeyId(signer.publicKey);
  let announced: string | null = null;
  try {
    announced = (await client.enroll(code, signer.publicKey)).hub_key;
  } catch (err) {
    // Signed by this very key, so "already enrolled" means this device is known there.
    if (!(err instanceof HubClientError && err.code === 'device_already_enrolled')) throw err;
  }
  // Remember which hub this is: from now on a hub at this URL must prove this key (issue 13 item 15).
  await pinAtEnrolment(core, core.hub, announced);
  const list = new Set(core.settings!.enrolled[core.hub] ?? []);
  list.add(keyId);
  core.settings!.enrolled[core.hub] = [...list];
  await core.saveSettings();
}

/** The claim code's hash (normalizes what the person typed); a malformed code is a typed error. */
function hashClaimCode(claimCode: string): string {
  try {
    return claimCodeHash(claimCode);
  } catch {
    throw new HubClientError('claim_code_invalid', 'A claim code has 8 letters, like BCDF-GHJK.');
  }
}

export async function lookupClaim(core: HubCore, claimCode: string): Promise<ClaimPreview> {
  await core.ready;
  const hash = hashClaimCode(claimCode);
  const client = await core.requireEnrolledClient(true);
  const found = await client.lookupClaim(claimCode);
  core.lookups.set(hash, found);
  // The box key comes from the hub: shown as a refusal next to the fingerprint unless the agent's signing key signed
  // it for this hub and name (claim() checks again before signing anything).
  const keyProblem = keyBindingProblem(client.hub, 'agent', bindingInput(found));
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
    keyProblem,
  };
}

const bindingInput = (found: ClaimLookupResponse) => ({
  signing_key: found.signing_key,
  box_key: found.box_key,
  name: found.name,
  key_binding: found.key_binding,
});

export async function claim(
  core: HubCore,
  claimCode: string,
  grantedScopes: string[],
  picked?: Policy | null,
): Promise<{ installation_id: string }> {
  await core.ready;
  await core.ensureInstallations(); // the records it is added to must be readable before the hub is told
  const policy = claimPolicy(picked);
  const hash = hashClaimCode(claimCode);
  const found = core.lookups.get(hash);
  if (!found) throw new HubClientError('claim_code_invalid', 'Look the claim code up first.');
  const requested = new Set<string>(found.requested_scopes);
  if (!Array.isArray(grantedScopes) || !grantedScopes.every((s) => typeof s === 'string' && requested.has(s))) {
    throw new HubClientError('claim_invalid', 'Only scopes the agent asked for can be granted.');
  }
  const client = await core.requireEnrolledClient(true);
  // Nothing is signed for a box key the agent's signing key did not vouch for: the claim names it, and every secret
  // and config for this installation is sealed to it (issue 13 item 2).
  assertKeyBinding(client.hub, 'agent', bindingInput(found));
  const signer = await core.signer(true);
  const statement: ClaimStatement = {
    hub: core.hub,
    agent_id: found.agent_id,
    agent_signing_key: found.signing_key,
    agent_box_key: found.box_key,
    claim_code_hash: hash,
    granted_scopes: normalizeScopes(grantedScopes) as Scope[],
    policy,
    installation_id: `ins_${toBase64Url(randomBytes(16))}`,
    device_key: encodePublicKey(signer.publicKey),
    time: core.ports.now(),
  };
  const signature = toBase64Url(await signer.sign(claimBytes(statement)));
  const res = await client.claim({ statement, signature });
  if (res.installation_id !== statement.installation_id)
    throw new HubClientError('hub_bad_response', 'The hub answered with another installation id.');
  core.lookups.delete(hash);
  core.localInstallations.push(
    localInstallationFrom(core.hub, statement, found.name, found.key_binding as SignedKeyBinding),
  );
  await core.saveInstallations();
  await refreshInstallations(core).catch(() => {});
  core.ports.changed();
  return { installation_id: statement.installation_id };
}

/**
 * The policy to sign from what the page sent: known kinds only, `secret.request` always added, daily limit 1..10000
 * or null. Nothing sent: the default (approval for every kind, no limit).
 */
function claimPolicy(picked: Policy | null | undefined): Policy {
  if (picked == null) return defaultPolicy();
  const kinds = (picked as { approval_required?: unknown }).approval_required;
  const limit = (picked as { daily_limit?: unknown }).daily_limit ?? null;
  if (!Array.isArray(kinds) || !kinds.every((k) => isIntentKind(k)))
    throw new HubClientError('claim_invalid', 'The policy names an unknown kind of request.');
  try {
    return makePolicy(kinds, limit as number | null);
  } catch {
    throw new HubClientError(
      'claim_invalid',
      'The daily limit must be a whole number from 1 to 10000, or empty for no limit.',
    );
  }
}

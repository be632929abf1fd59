/**
 * The reserved vault tags: Clawkeep keeps its own records as secret items of the vault (encrypted, synced, usable
 * only while unlocked) and finds them by a tag in the `clawkeep:` namespace. Declared here once, each with what it
 * holds and its owner (issue 14 step 4).
 *
 * The whole namespace is reserved, not only the tags listed: an item with any `clawkeep:` tag (for instance one a
 * newer Clawkeep on another device synced here) is never released to an agent (hub-decision.ts). The release check
 * (test/unit/storage/registry-complete.test.ts) fails when a `clawkeep:` tag is spelled outside this file.
 */

export const RESERVED_TAG_PREFIX = 'clawkeep:';

export const TRUST_PINS_TAG = 'clawkeep:deploy-trust';
export const DEPLOYMENT_TAG = 'clawkeep:deployment';
export const CONFIG_ASSIGNMENTS_TAG = 'clawkeep:config-assignments';
export const INSTALLATIONS_TAG = 'clawkeep:installations';
export const STANDING_APPROVALS_TAG = 'clawkeep:standing-approvals';
export const OPENCLAW_GATEWAY_TAG = 'clawkeep:openclaw-gateway';
export const HTTP_CALLS_TAG = 'clawkeep:http-calls';

export interface ReservedTag {
  readonly tag: `clawkeep:${string}`;
  readonly holds: string;
  readonly owner: string;
}

export const RESERVED_TAGS: readonly ReservedTag[] = [
  {
    tag: TRUST_PINS_TAG,
    holds: 'deploy trust pins (KMS keys, OS image measurements)',
    owner: 'lib/deploy/vault-records.ts',
  },
  {
    tag: DEPLOYMENT_TAG,
    holds: 'one deployment record per CVM (no secret values)',
    owner: 'lib/deploy/vault-records.ts',
  },
  { tag: CONFIG_ASSIGNMENTS_TAG, holds: 'agent config assignments', owner: 'lib/ext/hub/hub-config-assignments.ts' },
  {
    tag: INSTALLATIONS_TAG,
    holds: 'the installations this device claimed (keys, scopes)',
    owner: 'lib/ext/hub/hub-installation-store.ts',
  },
  { tag: STANDING_APPROVALS_TAG, holds: 'standing approvals', owner: 'lib/ext/approvals/hub-standing-approvals.ts' },
  {
    tag: HTTP_CALLS_TAG,
    holds:
      'the log of http.request calls made for agents (method, host, path, status, bytes; never a secret or a body)',
    owner: 'lib/ext/approvals/http-call-log.ts',
  },
  {
    tag: OPENCLAW_GATEWAY_TAG,
    holds: 'OpenClaw gateway URL, token and device token',
    owner: 'lib/ext/openclaw/openclaw-config.ts',
  },
];

/** True for any tag in Clawkeep's reserved namespace: such an item is Clawkeep's own record, never an agent's secret. */
export function isReservedTag(tag: string): boolean {
  return tag.startsWith(RESERVED_TAG_PREFIX);
}

/**
 * True for an item that is one of Clawkeep's own records (any reserved tag): Items (vault page, popup search, web
 * vault) never lists it as an editable secret, since editing or deleting it by hand would break what owns it.
 */
export function isClawkeepRecord(item: { readonly tags: readonly string[] }): boolean {
  return item.tags.some(isReservedTag);
}

import { fromBase64UrlFixed, toBase64Url } from '../protocol/base64url';
import { decodePublicKey } from '../protocol/keys';
import { isEpoch, isId, isOrigin, isSha256Hex } from '../protocol/fields';
import { isRevision } from '../protocol/sealed-config';
import { KIND_PATTERN } from '../protocol/intent-hash';
import { isScope } from '../protocol/scopes';
import { AgentError } from './errors';
import { copyReplayRecords, replayRecordsProblem, type ExecutedIntent, type OpenRequest } from './replay-guard';
import type { AgentKeys } from './keys';
import { copyTrustRecords, trustRecordsProblem, type RemovedDevice, type SeenRevocation } from './device-trust';

/**
 * What an agent keeps between runs. Private keys are base64url. `device_key`, `installation_id`,
 * `granted_scopes` and `approval_required` are pinned from the first claim the agent verified itself; every later
 * claim must name the same device and installation. Unknown fields are ignored, so newer state still loads.
 */
export interface AgentState {
  version: 1;
  /** The hub origin, e.g. `http://127.0.0.1:8787`. */
  hub: string;
  agent_id: string;
  name?: string;
  /** Ed25519 private key (32-byte seed), base64url. Never printed. */
  signing_private: string;
  /** X25519 private key, base64url. Never printed. */
  box_private: string;
  /** claimCodeHash(claim code): the claim must carry it, so the hub cannot attach another code's claim. */
  claim_code_hash: string;
  /** Pinned after the first verified claim: the human's device key (Ed25519, base64url public key). */
  device_key?: string;
  installation_id?: string;
  granted_scopes?: string[];
  /** The signed policy: kinds that need a device-signed approval. */
  approval_required?: string[];
  /**
   * The newest agent config this agent accepted (config id, signed revision and signed device time): a later
   * delivery of the same config must not have a lower revision, and no delivery may be older than this one.
   */
  config_seen?: ConfigSeen;
  /** Requests made and not executed yet: their nonce, time and expiry (lib/agent/replay-guard.ts). Bounded. */
  requests?: OpenRequest[];
  /** Intents executed (until their expiry): never executed again. Bounded. */
  executed?: ExecutedIntent[];
  /**
   * The hub's identity key (base64url), pinned at registration: every later session must be with a hub that signs a
   * fresh challenge with it (docs/protocol.md §11). Absent in states from before pinning: pinned on first proof.
   */
  hub_key?: string;
  /** Devices removed by a verified CKDR: never trusted again, whatever the hub lists later (device-trust.ts). Bounded. */
  removed_devices?: RemovedDevice[];
  /** Set once a verified CKIR revoked this installation: the agent stops for good (device-trust.ts). */
  revoked?: SeenRevocation;
}

export interface ConfigSeen {
  config_id: string;
  revision: number;
  time: number;
}

const bad = (what: string) => new AgentError('state_invalid', `Agent state is invalid: ${what}.`);

/** Validates a parsed state document. @throws AgentError `state_invalid` naming the field, never its value. */
export function parseAgentState(value: unknown): AgentState {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('not a JSON object');
  const v = value as Record<string, unknown>;
  if (v.version !== 1) throw bad('version must be 1');
  if (!isOrigin(v.hub)) throw bad('hub');
  if (!isId(v.agent_id)) throw bad('agent_id');
  if (v.name !== undefined && typeof v.name !== 'string') throw bad('name');
  for (const k of ['signing_private', 'box_private'] as const) {
    try {
      fromBase64UrlFixed(v[k] as string, 32, k);
    } catch {
      throw bad(k);
    }
  }
  if (!isSha256Hex(v.claim_code_hash)) throw bad('claim_code_hash');
  if (v.device_key !== undefined) {
    try {
      decodePublicKey(v.device_key as string, 'ed25519', 'device_key');
    } catch {
      throw bad('device_key');
    }
    if (!isId(v.installation_id)) throw bad('installation_id');
  } else if (v.installation_id !== undefined) throw bad('installation_id without device_key');
  if (v.granted_scopes !== undefined && !(Array.isArray(v.granted_scopes) && v.granted_scopes.every(isScope)))
    throw bad('granted_scopes');
  if (
    v.approval_required !== undefined &&
    !(
      Array.isArray(v.approval_required) &&
      v.approval_required.every((k) => typeof k === 'string' && KIND_PATTERN.test(k))
    )
  ) {
    throw bad('approval_required');
  }
  if (v.config_seen !== undefined) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- not unnecessary: without it tsc infers a narrower type and fails
    const c = v.config_seen as Partial<ConfigSeen> | null;
    if (!c || typeof c !== 'object' || !isId(c.config_id) || !isRevision(c.revision) || !isEpoch(c.time))
      throw bad('config_seen');
  }
  const trustProblem = trustRecordsProblem(v);
  if (trustProblem) throw bad(trustProblem);
  const replayProblem = replayRecordsProblem(v);
  if (replayProblem) throw bad(replayProblem);
  if (v.hub_key !== undefined) {
    try {
      decodePublicKey(v.hub_key as string, 'ed25519', 'hub_key');
    } catch {
      throw bad('hub_key');
    }
  }
  const state: AgentState = {
    version: 1,
    hub: v.hub,
    agent_id: v.agent_id,
    signing_private: v.signing_private as string,
    box_private: v.box_private as string,
    claim_code_hash: v.claim_code_hash,
  };
  if (v.name !== undefined) state.name = v.name;
  if (v.hub_key !== undefined) state.hub_key = v.hub_key as string;
  if (v.device_key !== undefined) {
    state.device_key = v.device_key as string;
    state.installation_id = v.installation_id;
  }
  if (v.granted_scopes !== undefined) state.granted_scopes = [...(v.granted_scopes as string[])];
  if (v.approval_required !== undefined) state.approval_required = [...(v.approval_required as string[])];
  if (v.config_seen !== undefined) {
    const c = v.config_seen as ConfigSeen;
    state.config_seen = { config_id: c.config_id, revision: c.revision, time: c.time };
  }
  Object.assign(state, copyReplayRecords(v as Pick<AgentState, 'requests' | 'executed'>));
  Object.assign(state, copyTrustRecords(v as Pick<AgentState, 'removed_devices' | 'revoked'>));
  return state;
}

/** The private keys a state holds, decoded. The caller may wipe them after use. */
export function stateKeys(state: AgentState): AgentKeys {
  return {
    signingPrivate: fromBase64UrlFixed(state.signing_private, 32, 'signing_private'),
    boxPrivate: fromBase64UrlFixed(state.box_private, 32, 'box_private'),
  };
}

export const encodePrivateKey = (key: Uint8Array): string => toBase64Url(key);

import { wipe } from '../bytes';
import { decodeConfigPayload, type AgentConfigPayload } from '../protocol/config-payload';
import { openConfigDelivery, type ConfigStatement } from '../protocol/sealed-config';
import { trustedSigners, type RemovedDevice } from './device-trust';
import { AgentError } from './errors';
import type { AgentState, ConfigSeen } from './state';

export interface AcceptedConfig {
  config: AgentConfigPayload;
  config_id: string;
  revision: number;
  /** The device's signed time for this revision (epoch ms). */
  signed_at: number;
  /** What the state must remember now (unchanged when this revision was seen before). */
  seen: ConfigSeen;
  /** Devices first seen removed (verified CKDR) in this delivery's device list: the state must remember them. */
  learned: RemovedDevice[];
}

/**
 * Checks a delivery the hub relayed, trusting the hub with nothing: the statement must be signed by the device
 * pinned at the first claim and name our hub, agent and installation; the sealed bytes must be the ones signed and
 * open with our box key for exactly the signed config id and revision; and it must not be older than what this
 * agent accepted before (same config: revision not lower; any config: signed time not earlier).
 * @throws AgentError `state_invalid` (not claimed yet), `config_untrusted`, `config_rollback`
 */
export function acceptConfig(state: AgentState, boxPrivate: Uint8Array, delivery: unknown): AcceptedConfig {
  if (!state.device_key || !state.installation_id)
    throw new AgentError(
      'state_invalid',
      'This agent has not verified its claim yet: run `clawkeep agent status` first.',
    );
  let statement: ConfigStatement;
  let plaintext: Uint8Array | undefined;
  let config: AgentConfigPayload;
  let learned: RemovedDevice[] = [];
  try {
    const expected = { hub: state.hub, agent_id: state.agent_id, installation_id: state.installation_id };
    // The pinned device, or a device it added (by its signed device-add statements), none removed by a verified
    // CKDR: see device-trust.ts trustedSigners.
    const listed = (delivery as { devices?: unknown } | null)?.devices;
    const trust = trustedSigners(state, Array.isArray(listed) ? listed : undefined);
    const signers = trust.signers;
    learned = trust.learned;
    let opened: ReturnType<typeof openConfigDelivery> | undefined;
    let lastError: unknown;
    for (const key of signers) {
      try {
        opened = openConfigDelivery(key, boxPrivate, delivery, expected);
        break;
      } catch (err) {
        lastError = err;
      }
    }
    if (!opened) throw lastError;
    statement = opened.statement;
    plaintext = opened.plaintext;
    config = decodeConfigPayload(plaintext);
  } catch (err) {
    throw new AgentError(
      'config_untrusted',
      'The agent config is not signed by the pinned device (or a device it added) for this hub, agent and installation, or does not open for this agent.',
      { cause: err },
    );
  } finally {
    wipe(plaintext);
  }
  const last = state.config_seen;
  if (
    last &&
    ((last.config_id === statement.config_id && statement.revision < last.revision) || statement.time < last.time)
  ) {
    throw new AgentError(
      'config_rollback',
      `The hub sent revision ${statement.revision} of config ${statement.config_id}, older than the revision ${last.revision} of config ${last.config_id} accepted before.`,
    );
  }
  return {
    config,
    config_id: statement.config_id,
    revision: statement.revision,
    signed_at: statement.time,
    seen: { config_id: statement.config_id, revision: statement.revision, time: statement.time },
    learned,
  };
}

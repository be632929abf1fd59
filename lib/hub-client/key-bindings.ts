import { verifyKeyBinding, type KeyBindingRole } from '../protocol/key-binding';
import { HubClientError } from './errors';

/**
 * The device's side of CKKB key bindings (issue 13 items 1 and 2; docs/protocol.md §4 "Key binding"): before it
 * seals anything to a box key the hub handed it (the vault key to a new device, a secret or a config to an agent, or
 * names that box key in a claim), it checks that the signing key whose fingerprint the person compares signed that
 * box key, for the hub it is talking to, with the name it shows. These are the texts the person reads when the check
 * fails: short, and saying what to do.
 */
export const DEVICE_KEY_CHANGED = "The hub changed this device's key — do not approve.";
export const AGENT_KEY_CHANGED = "The hub changed this agent's key — do not claim.";
const DEVICE_UNBOUND =
  'The hub sent no key binding for this device, so the key the vault key would be sealed to cannot be checked — do not approve. Start pairing again on the new device.';
const AGENT_UNBOUND =
  'The hub sent no key binding for this agent, so the key its secrets would be sealed to cannot be checked — do not claim. Ask the agent to register again (clawkeep agent register).';
const AGENT_CHANGED_DETAIL = `${AGENT_KEY_CHANGED} Its secrets would be sealed to a key the agent never vouched for. Check the hub, then ask the agent to register again.`;

/** What the device knows about the keys it is about to seal to (all base64url, as the lookup named them). */
export interface BoundKeys {
  signing_key: string;
  box_key: string;
  name: string | null;
  key_binding: unknown;
}

/**
 * Null when `keys.key_binding` is a valid CKKB for `hub`, `role`, the signing key, the box key and the name; else the
 * sentence to show the person (where the fingerprint is shown). Never throws.
 */
export function keyBindingProblem(hub: string, role: KeyBindingRole, keys: BoundKeys): string | null {
  if (keys.key_binding === null || keys.key_binding === undefined)
    return role === 'device' ? DEVICE_UNBOUND : AGENT_UNBOUND;
  try {
    verifyKeyBinding(keys.key_binding, {
      hub,
      role,
      signing_key: keys.signing_key,
      box_key: keys.box_key,
      name: keys.name,
    });
    return null;
  } catch {
    // Any failure (bad signature, other hub, other key or name, malformed) is the same to the person: do not seal.
    return role === 'device' ? DEVICE_KEY_CHANGED : AGENT_CHANGED_DETAIL;
  }
}

/**
 * Throws unless the binding verifies (see keyBindingProblem). Call it right before sealing: nothing is sealed or
 * signed after a failure. @throws HubClientError `key_binding_invalid`
 */
export function assertKeyBinding(hub: string, role: KeyBindingRole, keys: BoundKeys): void {
  const problem = keyBindingProblem(hub, role, keys);
  if (problem !== null) throw new HubClientError('key_binding_invalid', problem);
}

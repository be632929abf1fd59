import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { encodePublicKey, fingerprint } from '../protocol/keys';

/** An agent's two key pairs: Ed25519 signs its requests, X25519 receives sealed secrets. */
export interface AgentKeys {
  /** Ed25519 private key (32-byte seed). */
  signingPrivate: Uint8Array;
  /** X25519 private key (32 bytes). */
  boxPrivate: Uint8Array;
}

export function generateAgentKeys(): AgentKeys {
  return { signingPrivate: ed25519.utils.randomSecretKey(), boxPrivate: x25519.utils.randomSecretKey() };
}

/** The public halves, as they travel on the wire (43 base64url characters each). */
export function agentPublicKeys(keys: AgentKeys): { signing_key: string; box_key: string; fingerprint: string } {
  const signing = ed25519.getPublicKey(keys.signingPrivate);
  return {
    signing_key: encodePublicKey(signing),
    box_key: encodePublicKey(x25519.getPublicKey(keys.boxPrivate)),
    fingerprint: fingerprint(signing),
  };
}

import { createPublicKey, verify } from 'node:crypto';
import { useSyncPlatformEd25519 } from '../lib/protocol/ed25519';

/**
 * Lends lib/protocol/ed25519.ts Node's OpenSSL Ed25519 (synchronous, ~15× noble's speed), so every signature the hub
 * and the CLI check — signed requests and signed statements alike — costs a fraction of a millisecond. The answers
 * stay noble's strict ones: OpenSSL's "valid" is only taken for keys that passed strict decoding, and its
 * "invalid" is decided by noble (see that module). Idempotent.
 */
export function useNodeEd25519(): void {
  useSyncPlatformEd25519((signature, message, publicKey) =>
    verify(
      null,
      message,
      createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') },
        format: 'jwk',
      }),
      signature,
    ),
  );
}

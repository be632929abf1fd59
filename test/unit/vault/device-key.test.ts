import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../lib/bytes';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import { FAST_KDF, kekFor, uniqueDbName } from './helpers';

describe('device signing key', () => {
  it('is created once, stored encrypted, survives lock/unlock, and signs verifiable Ed25519', async () => {
    const name = uniqueDbName();
    const service = new VaultService(new VaultDb(name));
    const salt = randomBytes(16);
    await service.create({ kdf: FAST_KDF, salt, kek: await kekFor('pw', salt) });
    const [a, b] = await Promise.all([service.deviceSigner(), service.deviceSigner()]);
    expect(a).toBe(b);
    const message = new TextEncoder().encode('approve intent 42');
    const signature = await a.sign(message);
    expect(ed25519.verify(signature, message, a.publicKey)).toBe(true);

    const stored = await new VaultDb(name).meta.get('deviceKey');
    expect(stored?.value).toBeInstanceOf(Uint8Array);
    expect(String.fromCharCode(...(stored!.value as Uint8Array).subarray(0, 4))).toBe('CKIE');

    await service.lock();
    expect(() => service.deviceSigner()).toThrow(expect.objectContaining({ code: 'vault_locked' }));
    await service.unlock({ kek: await kekFor('pw', salt) });
    const again = await service.deviceSigner();
    expect(again.publicKey).toEqual(a.publicKey);
    expect(ed25519.verify(await again.sign(message), message, a.publicKey)).toBe(true);
  });
});

import { randomBytes, utf8Encode, wipe } from '../../bytes';
import { SALT_LENGTH } from '../../crypto/kdf-params';
import type { KdfRunner } from '../../crypto/kdf-runner';
import { ClawkeepError } from '../../errors';
import type { JoinApi } from '../../web-vault/page-devices';
import type { HubApi } from './hub-api';

/**
 * "Join an existing vault" in the extension: the pairing (device key, box key, the sealed vault key) runs in the
 * background, reached through the hub's service proxy; this page only shows the code and derives the KEK from the
 * passphrase in its KDF worker, exactly as "Create vault" does, and hands the KEK over (the background wipes it
 * after use).
 */
export function createExtensionJoinApi(
  hub: Pick<HubApi, 'startJoin' | 'pollJoin' | 'cancelJoin' | 'finishJoin'>,
  kdf: KdfRunner,
): JoinApi {
  return {
    startJoin: (hubUrl, name) => hub.startJoin(hubUrl, name),
    pollJoin: () => hub.pollJoin(),
    cancelJoin: () => void hub.cancelJoin().catch(() => {}),
    async finishJoin(passphrase, params) {
      if (passphrase.length === 0) throw new ClawkeepError('item_invalid', 'Choose a passphrase.');
      const salt = randomBytes(SALT_LENGTH);
      // NFKC like PassphraseVaultClient: the same passphrase typed elsewhere must derive the same key.
      const bytes = utf8Encode(passphrase.normalize('NFKC'));
      let kek: Uint8Array | undefined;
      try {
        kek = await kdf.derive(bytes, salt, params);
        await hub.finishJoin({ kdf: params, salt, kek });
      } finally {
        wipe(bytes, kek);
      }
    },
  };
}

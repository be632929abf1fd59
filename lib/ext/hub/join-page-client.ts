import { randomBytes, toBase64, utf8Encode, wipe } from '../../bytes';
import { SALT_LENGTH } from '../../crypto/kdf-params';
import type { KdfRunner } from '../../crypto/kdf-runner';
import { ClawkeepError } from '../../errors';
import { relayedCode } from '../../errors';
import { HubClientError } from '../../hub-client/errors';
import type { JoinApi } from '../../web-vault/page-devices';
import { HUB_RPC_CHANNEL, type HubMethod } from './hub-rpc';
import { channelCaller } from '../rpc/rpc-channel';

const call = channelCaller<HubMethod>(HUB_RPC_CHANNEL, (code, message, cause) => new HubClientError(relayedCode(code), message, cause === undefined ? undefined : { cause }));

/**
 * "Join an existing vault" in the extension: the pairing (device key, box key, the sealed vault key) runs in the
 * background; this page only shows the code and derives the KEK from the passphrase in its KDF worker, exactly as
 * "Create vault" does, and hands the KEK over (the background wipes it after use).
 */
export function createExtensionJoinApi(kdf: KdfRunner): JoinApi {
  return {
    startJoin: (hubUrl, name) => call('startJoin', { hubUrl, name }),
    pollJoin: () => call('pollJoin'),
    cancelJoin: () => void call('cancelJoin').catch(() => {}),
    async finishJoin(passphrase, params) {
      if (passphrase.length === 0) throw new ClawkeepError('item_invalid', 'Choose a passphrase.');
      const salt = randomBytes(SALT_LENGTH);
      // NFKC like PassphraseVaultClient: the same passphrase typed elsewhere must derive the same key.
      const bytes = utf8Encode(passphrase.normalize('NFKC'));
      let kek: Uint8Array | undefined;
      try {
        kek = await kdf.derive(bytes, salt, params);
        await call('finishJoin', { kdf: params, salt: toBase64(salt), kek: toBase64(kek) });
      } finally {
        wipe(bytes, kek);
      }
    },
  };
}

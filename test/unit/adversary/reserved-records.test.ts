// @vitest-environment node
// A prompt-injected agent asks for Clawkeep's own records by name ("installations", "standing approvals"): they are
// secret items of the vault, tagged clawkeep:…, and must never count as a releasable secret, whatever the agent was
// granted — including a clawkeep: tag this version does not know (written by a newer Clawkeep on another device).
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../lib/bytes';
import { secretIndex } from '../../../lib/ext/approvals/hub-decision';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import { FAST_KDF, kekFor, uniqueDbName } from '../vault/helpers';

const secret = (name: string, tags: string[]) =>
  ({
    kind: 'secret',
    fields: { name, value: `value of ${name}`, notes: '', tags, expiresAt: null, allowedHosts: [] as string[] },
  }) as const;

describe('reserved clawkeep: records are never releasable to an agent', () => {
  it('secretIndex counts plain secrets only, not any item with a clawkeep: tag', async () => {
    const service = new VaultService(new VaultDb(uniqueDbName()));
    const salt = randomBytes(16);
    await service.create({ kdf: FAST_KDF, salt, kek: await kekFor('p', salt) });
    await service.save({ draft: secret('OPENAI_API_KEY', ['ai']) });
    await service.save({ draft: secret('installations', ['clawkeep:installations']) });
    await service.save({ draft: secret('standing approvals', ['clawkeep:standing-approvals']) });
    await service.save({ draft: secret('later', ['team', 'clawkeep:not-yet-invented']) });
    // Same name as a plain secret: only the plain one counts (an agent asking by name gets that one or nothing).
    await service.save({ draft: secret('OPENAI_API_KEY', ['clawkeep:deploy-trust']) });

    const { counts } = await secretIndex(service);
    expect(Object.fromEntries(counts)).toEqual({ OPENAI_API_KEY: 1 });
  });
});

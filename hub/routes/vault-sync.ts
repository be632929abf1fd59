import { Hono } from 'hono';
import * as v from 'valibot';
import { fromBase64Url, toBase64Url } from '../../lib/protocol/base64url';
import { deviceKeyId, decodePublicKey } from '../../lib/protocol/keys';
import { SyncError } from '../../lib/protocol/sync-errors';
import { verifyVaultHead } from '../../lib/protocol/vault-head';
import { envelopeHash, itemsHash, type SyncedEntry } from '../../lib/protocol/vault-items-hash';
import {
  VAULT_ENVELOPE_MAX_BYTES,
  VAULT_PUSH_MAX_BYTES,
  VaultPushSchema,
  type VaultPull,
} from '../../lib/protocol/vault-sync-wire';
import type { HubDeps } from '../deps';
import { appendAudit } from '../audit';
import { vaultPushResource } from '../../lib/protocol/audit-actions';
import { authenticateHuman, jsonBody } from '../auth';
import { HubError } from '../errors';
import type { HubEnv } from '../middleware';
import type { JsonValue, VaultItemRow } from '../store/port';

function entries(rows: VaultItemRow[]): Record<string, SyncedEntry> {
  const out: Record<string, SyncedEntry> = {};
  for (const r of rows)
    out[r.itemId] = {
      kind: r.kind,
      revision: r.revision,
      envelopeSha256: r.envelope ? envelopeHash(r.envelope) : null,
    };
  return out;
}

/**
 * Vault sync (issue 8). The hub keeps each device's CKIE envelopes exactly as sealed (ciphertext only, it has no
 * key) and the newest vault head a device signed. A push must be based on the current counter (else vault_stale:
 * pull first), each change on the item's current revision (else vault_conflict: the device shows both versions),
 * and carry a head for counter + 1, signed by a device of the account, whose items hash equals the hash of the
 * item set after the push. So the hub cannot accept a head that does not describe what it stores, and a device
 * that saw a head can detect a hub that later serves an older or different one.
 */
export function vaultSyncRoutes(deps: HubDeps): Hono<HubEnv> {
  return new Hono<HubEnv>()
    .get('/vault', async (c) => {
      const { account } = await authenticateHuman(c, deps);
      const since = Number(c.req.query('since') ?? '0');
      if (!Number.isSafeInteger(since) || since < 0)
        throw new HubError('protocol_invalid', '`since` must be a counter (a whole number ≥ 0).');
      const head = await deps.store.vault.head(account.accountId);
      const items = (await deps.store.vault.items(account.accountId, since)).map((r) => ({
        id: r.itemId,
        kind: r.kind as 'secret',
        revision: r.revision,
        envelope: r.envelope ? toBase64Url(r.envelope) : null,
        seq: r.seq,
      }));
      const response: VaultPull = {
        counter: head?.counter ?? 0,
        head: (head?.statement as VaultPull['head']) ?? null,
        items,
      };
      return c.json(response);
    })
    .post('/vault', async (c) => {
      const { account, body } = await authenticateHuman(c, deps);
      const parsed = v.safeParse(VaultPushSchema, jsonBody(body));
      if (!parsed.success) throw new HubError('protocol_invalid', 'The vault push is malformed.');
      const push = parsed.output;
      const ids = new Set(push.changes.map((ch) => ch.id));
      if (ids.size !== push.changes.length)
        throw new HubError('protocol_invalid', 'An item appears twice in one push.');
      let total = 0;
      const envelopes = new Map<string, Uint8Array | null>();
      for (const ch of push.changes) {
        let env: Uint8Array | null = null;
        if (ch.envelope !== null) {
          try {
            env = fromBase64Url(ch.envelope);
          } catch {
            throw new HubError('protocol_invalid', 'An envelope is not base64url.');
          }
          if (env.length === 0 || env.length > VAULT_ENVELOPE_MAX_BYTES)
            throw new HubError('protocol_invalid', 'An envelope is empty or too large.');
          total += env.length;
        }
        envelopes.set(ch.id, env);
      }
      if (total > VAULT_PUSH_MAX_BYTES) throw new HubError('payload_too_large', 'Push fewer items at once.');
      let head;
      try {
        head = verifyVaultHead(push.head, {
          hub: deps.origin,
          accountId: account.accountId,
          deviceKeys: await deps.store.vault.deviceKeys(account.accountId),
        });
      } catch (err) {
        if (err instanceof SyncError) throw new HubError('vault_head_invalid', err.message);
        throw err;
      }
      const signer = deviceKeyId(decodePublicKey(head.device_key, 'ed25519'));
      const now = deps.now();
      const counter = await deps.store.transaction(async () => {
        const current = (await deps.store.vault.head(account.accountId))?.counter ?? 0;
        if (push.base_counter !== current)
          throw new HubError('vault_stale', `The vault is at counter ${current} on the hub; pull and push again.`);
        if (head.counter !== current + 1)
          throw new HubError('vault_head_invalid', `The head must carry counter ${current + 1}.`);
        const all = entries(await deps.store.vault.items(account.accountId));
        const conflicts: string[] = [];
        for (const ch of push.changes) {
          const stored = all[ch.id];
          const storedRevision = stored?.revision ?? 0;
          if (ch.base_revision !== storedRevision) conflicts.push(ch.id);
          else if (ch.revision <= storedRevision)
            throw new HubError('protocol_invalid', 'A change must raise the item revision.');
          else if (ch.envelope === null && !stored)
            throw new HubError('protocol_invalid', 'Cannot delete an item the hub does not hold.');
        }
        if (conflicts.length > 0) {
          throw new HubError(
            'vault_conflict',
            `${conflicts.length} item(s) changed on the hub since this device last pulled: ${conflicts.slice(0, 20).join(', ')}`,
          );
        }
        for (const ch of push.changes) {
          const env = envelopes.get(ch.id)!;
          all[ch.id] = { kind: ch.kind, revision: ch.revision, envelopeSha256: env ? envelopeHash(env) : null };
        }
        if (itemsHash(all) !== head.items_hash)
          throw new HubError('vault_head_invalid', 'The head does not describe the items after this push.');
        const seq = current + 1;
        for (const ch of push.changes) {
          await deps.store.vault.put({
            accountId: account.accountId,
            itemId: ch.id,
            kind: ch.kind,
            revision: ch.revision,
            envelope: envelopes.get(ch.id)!,
            seq,
            deviceKeyId: signer,
            updatedAt: now,
          });
        }
        await deps.store.vault.setHead(account.accountId, seq, push.head as unknown as JsonValue);
        await appendAudit(deps.store, {
          time: now,
          actor: `account:${account.accountId}`,
          // The change count lets the Activity tab say "Synced 3 changes" (issue 15).
          resource: vaultPushResource(seq, push.changes.length),
          action: 'vault.push',
          requestId: c.get('requestId'),
        });
        return seq;
      });
      return c.json({ counter });
    });
}

import type { JsonValue, VaultItemRow, VaultRepo } from '../port';
import { bytes, bytesOrNull, jsonText, jsonValue, type SqlExecutor } from './executor';

interface Row {
  account_id: string;
  item_id: string;
  kind: string;
  revision: number;
  envelope: Buffer | null;
  seq: number;
  device_key_id: string;
  updated_at: number;
}

const toRow = (r: Row): VaultItemRow => ({
  accountId: r.account_id,
  itemId: r.item_id,
  kind: r.kind,
  revision: r.revision,
  envelope: bytesOrNull(r.envelope),
  seq: r.seq,
  deviceKeyId: r.device_key_id,
  updatedAt: r.updated_at,
});

/** Synced vault items and heads in SQLite: ciphertext as the devices sent it, one row per item. */
export class SqlVault implements VaultRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async items(accountId: string, since = 0): Promise<VaultItemRow[]> {
    return (
      await this.sql.all<Row>(
        'list vault items',
        'SELECT * FROM vault_items WHERE account_id = ? AND seq > ? ORDER BY seq, item_id',
        accountId,
        since,
      )
    ).map(toRow);
  }

  async get(accountId: string, itemId: string): Promise<VaultItemRow | null> {
    const r = await this.sql.get<Row>(
      'get vault item',
      'SELECT * FROM vault_items WHERE account_id = ? AND item_id = ?',
      accountId,
      itemId,
    );
    return r ? toRow(r) : null;
  }

  async put(r: VaultItemRow): Promise<void> {
    await this.sql.run(
      'store vault item',
      `INSERT INTO vault_items (account_id, item_id, kind, revision, envelope, seq, device_key_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, item_id) DO UPDATE SET kind = excluded.kind, revision = excluded.revision, envelope = excluded.envelope,
         seq = excluded.seq, device_key_id = excluded.device_key_id, updated_at = excluded.updated_at`,
      r.accountId,
      r.itemId,
      r.kind,
      r.revision,
      r.envelope,
      r.seq,
      r.deviceKeyId,
      r.updatedAt,
    );
  }

  async head(accountId: string): Promise<{ counter: number; statement: JsonValue } | null> {
    const r = await this.sql.get<{ counter: number; statement: string }>(
      'get vault head',
      'SELECT counter, statement FROM vault_heads WHERE account_id = ?',
      accountId,
    );
    return r ? { counter: r.counter, statement: jsonValue(r.statement) } : null;
  }

  async setHead(accountId: string, counter: number, statement: JsonValue): Promise<void> {
    await this.sql.run(
      'store vault head',
      `INSERT INTO vault_heads (account_id, counter, statement) VALUES (?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET counter = excluded.counter, statement = excluded.statement`,
      accountId,
      counter,
      jsonText(statement),
    );
  }

  async deviceKeys(accountId: string): Promise<Uint8Array[]> {
    const first = await this.sql.get<{ device_public_key: Buffer }>(
      'get account key',
      'SELECT device_public_key FROM accounts WHERE account_id = ?',
      accountId,
    );
    const added = await this.sql.all<{ public_key: Buffer }>(
      'list account devices',
      'SELECT public_key FROM account_devices WHERE account_id = ? AND revoked_at IS NULL ORDER BY added_at',
      accountId,
    );
    return [...(first ? [bytes(first.device_public_key)] : []), ...added.map((r) => bytes(r.public_key))];
  }
}

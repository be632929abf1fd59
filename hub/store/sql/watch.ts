import type { WatchToken, WatchTokenRepo } from '../port';
import { bytes, type SqlExecutor } from './executor';

interface WatchRow {
  device_key_id: string;
  account_id: string;
  token_sha256: Buffer;
  created_at: number;
}

const toToken = (r: WatchRow): WatchToken => ({
  deviceKeyId: r.device_key_id,
  accountId: r.account_id,
  tokenSha256: bytes(r.token_sha256),
  createdAt: r.created_at,
});

/** Watch credentials of devices (migration 7 `watch_tokens`): one per device, replaced on re-registration. */
export class SqlWatchTokens implements WatchTokenRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async put(t: WatchToken): Promise<void> {
    await this.sql.run(
      'put watch token',
      `INSERT INTO watch_tokens (device_key_id, account_id, token_sha256, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (device_key_id) DO UPDATE SET account_id = excluded.account_id,
         token_sha256 = excluded.token_sha256, created_at = excluded.created_at`,
      t.deviceKeyId,
      t.accountId,
      t.tokenSha256,
      t.createdAt,
    );
  }

  async findByHash(tokenSha256: Uint8Array): Promise<WatchToken | null> {
    const r = await this.sql.get<WatchRow>(
      'find watch token',
      'SELECT * FROM watch_tokens WHERE token_sha256 = ?',
      tokenSha256,
    );
    return r && toToken(r);
  }

  async remove(deviceKeyId: string): Promise<boolean> {
    return (
      (await this.sql.run('remove watch token', 'DELETE FROM watch_tokens WHERE device_key_id = ?', deviceKeyId)) > 0
    );
  }
}

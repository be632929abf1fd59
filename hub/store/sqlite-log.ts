import type { AuditRepo, AuditRow, NonceRepo } from './port';
import type { Sql } from './sqlite-util';

interface AuditDbRow {
  seq: number;
  time: number;
  actor: string;
  agent: string | null;
  resource: string | null;
  action: string;
  request_id: string | null;
  idempotency_key: string | null;
  prev_hash: string;
  entry_hash: string;
}

const toAuditRow = (r: AuditDbRow): AuditRow => ({
  seq: r.seq,
  time: r.time,
  actor: r.actor,
  agent: r.agent,
  resource: r.resource,
  action: r.action,
  requestId: r.request_id,
  idempotencyKey: r.idempotency_key,
  prevHash: r.prev_hash,
  entryHash: r.entry_hash,
});

/** The replay cache of signed requests. */
export class SqliteNonces implements NonceRepo {
  constructor(private readonly sql: Sql) {}

  remember(keyId: string, nonce: string, expiresAt: number, now: number): boolean {
    // One statement, so two racing requests cannot both win: insert, or take over a row only if it has expired.
    return (
      this.sql.run(
        'remember nonce',
        `INSERT INTO nonces (key_id, nonce, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at <= ?`,
        keyId,
        nonce,
        expiresAt,
        now,
      ) === 1
    );
  }

  prune(now: number): number {
    return this.sql.run('prune nonces', 'DELETE FROM nonces WHERE expires_at <= ?', now);
  }
}

/** Raw audit rows. The chain is computed and checked in hub/audit, not here. */
export class SqliteAudit implements AuditRepo {
  constructor(private readonly sql: Sql) {}

  insert(r: AuditRow): void {
    this.sql.run(
      'append audit entry',
      `INSERT INTO audit (seq, time, actor, agent, resource, action, request_id, idempotency_key, prev_hash, entry_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.seq,
      r.time,
      r.actor,
      r.agent,
      r.resource,
      r.action,
      r.requestId,
      r.idempotencyKey,
      r.prevHash,
      r.entryHash,
    );
  }

  head(): AuditRow | null {
    const r = this.sql.get<AuditDbRow>('read audit head', 'SELECT * FROM audit ORDER BY seq DESC LIMIT 1');
    return r && toAuditRow(r);
  }

  listForAccount(accountId: string, options: { beforeSeq?: number; limit: number }): AuditRow[] {
    // The IN lists are small (one account's installations, intents, agents); SQLite builds each once per query.
    return this.sql
      .all<AuditDbRow>(
        'list audit entries of account',
        `SELECT * FROM audit
         WHERE seq < @before
           AND (actor = 'account:' || @account OR resource = 'account:' || @account
             OR resource IN (SELECT 'installation:' || installation_id FROM installations WHERE account_id = @account)
             OR resource IN (SELECT 'agent:' || agent_id FROM installations WHERE account_id = @account)
             OR resource IN (SELECT 'intent:' || i.intent_id FROM intents i
                               JOIN installations n ON n.installation_id = i.installation_id WHERE n.account_id = @account))
         ORDER BY seq DESC LIMIT @limit`,
        { account: accountId, before: options.beforeSeq ?? Number.MAX_SAFE_INTEGER, limit: options.limit },
      )
      .map(toAuditRow);
  }

  *scan(): IterableIterator<AuditRow> {
    const rows = this.sql.guard(
      'read audit log',
      () => this.sql.stmt('SELECT * FROM audit ORDER BY seq').iterate() as IterableIterator<AuditDbRow>,
    );
    for (const r of rows) yield toAuditRow(r);
  }

  count(): number {
    return this.sql.get<{ n: number }>('count audit entries', 'SELECT count(*) AS n FROM audit')!.n;
  }
}

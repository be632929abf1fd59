import type { AuditRepo, AuditRow, NonceRepo } from '../port';
import type { SqlExecutor } from './executor';

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

/** Rows per query when scanning the whole log. */
const AUDIT_SCAN_PAGE = 1000;

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
export class SqlNonces implements NonceRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async remember(
    keyId: string,
    nonce: string,
    expiresAt: number,
    now: number,
  ): Promise<{ fresh: boolean; durable: Promise<void> }> {
    // One statement, so two racing requests cannot both win: insert, or take over a row only if it has expired.
    const { changes, committed } = await this.sql.runEarly(
      'remember nonce',
      `INSERT INTO nonces (key_id, nonce, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at <= ?`,
      keyId,
      nonce,
      expiresAt,
      now,
    );
    return { fresh: changes === 1, durable: committed };
  }

  async prune(now: number): Promise<number> {
    return await this.sql.run('prune nonces', 'DELETE FROM nonces WHERE expires_at <= ?', now);
  }
}

/** Raw audit rows. The chain is computed and checked in hub/audit, not here. */
export class SqlAudit implements AuditRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async insert(r: AuditRow): Promise<void> {
    await this.sql.run(
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

  async head(): Promise<AuditRow | null> {
    const r = await this.sql.get<AuditDbRow>('read audit head', 'SELECT * FROM audit ORDER BY seq DESC LIMIT 1');
    return r && toAuditRow(r);
  }

  async listForAccount(accountId: string, options: { beforeSeq?: number; limit: number }): Promise<AuditRow[]> {
    // The IN lists are small (one account's installations, intents, agents); the engine builds each once per query.
    // Positional parameters only (the account id five times): the PostgreSQL executor numbers `?` in order.
    return (
      await this.sql.all<AuditDbRow>(
        'list audit entries of account',
        `SELECT * FROM audit
         WHERE seq < ?
           AND (actor = 'account:' || ? OR resource = 'account:' || ?
             OR resource IN (SELECT 'installation:' || installation_id FROM installations WHERE account_id = ?)
             OR resource IN (SELECT 'agent:' || agent_id FROM installations WHERE account_id = ?)
             OR resource IN (SELECT 'intent:' || i.intent_id FROM intents i
                               JOIN installations n ON n.installation_id = i.installation_id WHERE n.account_id = ?))
         ORDER BY seq DESC LIMIT ?`,
        options.beforeSeq ?? Number.MAX_SAFE_INTEGER,
        ...Array<string>(5).fill(accountId),
        options.limit,
      )
    ).map(toAuditRow);
  }

  async intentChanges(
    accountId: string,
    afterSeq: number,
    throughSeq: number,
    limit: number,
  ): Promise<{ seq: number; action: string; intentId: string }[]> {
    // A range of the primary key, joined to the account by primary-key lookups: cheap for the short ranges a live
    // stream asks for; the caller bounds the range (MAX_RESUME_ROWS) before asking for a long one.
    return (
      await this.sql.all<{ seq: number; action: string; intent_id: string }>(
        'list intent changes of account',
        `SELECT a.seq AS seq, a.action AS action, i.intent_id AS intent_id
         FROM audit a
         JOIN intents i ON i.intent_id = substr(a.resource, 8)
         JOIN installations n ON n.installation_id = i.installation_id
         WHERE a.seq > ? AND a.seq <= ? AND a.resource LIKE 'intent:%' AND n.account_id = ?
         ORDER BY a.seq LIMIT ?`,
        afterSeq,
        throughSeq,
        accountId,
        limit,
      )
    ).map((r) => ({ seq: Number(r.seq), action: r.action, intentId: r.intent_id }));
  }

  async *scan(): AsyncIterable<AuditRow> {
    // Keyset pages in seq order: each page is one short query, so a long log is never held in memory (or in one
    // long-running statement) at once, and entries appended meanwhile are picked up by a later page.
    let after = 0;
    for (;;) {
      const page = await this.sql.all<AuditDbRow>(
        'read audit log',
        'SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?',
        after,
        AUDIT_SCAN_PAGE,
      );
      for (const r of page) yield toAuditRow(r);
      if (page.length < AUDIT_SCAN_PAGE) return;
      after = page[page.length - 1]!.seq;
    }
  }

  async count(): Promise<number> {
    return (await this.sql.get<{ n: number }>('count audit entries', 'SELECT count(*) AS n FROM audit'))!.n;
  }
}

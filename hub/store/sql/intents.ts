import type { Intent, IntentRepo, IntentStatus, JsonValue, NewIntent, SealedSecretRepo } from '../port';
import { StoreError } from '../errors';
import { bytes, jsonText, jsonValue, type SqlExecutor } from './executor';

interface IntentRow {
  intent_id: string;
  installation_id: string;
  kind: string;
  payload: string;
  payload_hash: Buffer;
  idempotency_key: string;
  status: IntentStatus;
  risk: string;
  created_at: number;
  expires_at: number;
  agent_nonce: string | null;
  decided_at: number | null;
  decision_statement: string | null;
  executed_at: number | null;
}

const toIntent = (r: IntentRow): Intent => ({
  intentId: r.intent_id,
  installationId: r.installation_id,
  kind: r.kind,
  payload: r.payload,
  payloadHash: bytes(r.payload_hash),
  idempotencyKey: r.idempotency_key,
  status: r.status,
  risk: r.risk,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  agentNonce: r.agent_nonce,
  decidedAt: r.decided_at,
  decisionStatement: r.decision_statement === null ? null : jsonValue(r.decision_statement),
  executedAt: r.executed_at,
});

/** Intents in SQLite. State changes are guarded UPDATEs, so a race between two deciders changes one row once. */
export class SqlIntents implements IntentRepo {
  constructor(private readonly sql: SqlExecutor) {}

  // Writes return the row they wrote (RETURNING, SQLite ≥ 3.35 and PostgreSQL): reading it again cost one more
  // statement, on PostgreSQL one more round trip while the global transaction lock is held.
  async create(i: NewIntent): Promise<Intent> {
    const row = await this.sql.get<IntentRow>(
      'create intent',
      `INSERT INTO intents (intent_id, installation_id, kind, payload, payload_hash, idempotency_key, risk, created_at,
         expires_at, agent_nonce) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      i.intentId,
      i.installationId,
      i.kind,
      i.payload,
      i.payloadHash,
      i.idempotencyKey,
      i.risk,
      i.createdAt,
      i.expiresAt,
      i.agentNonce,
    );
    return toIntent(row!);
  }

  async get(intentId: string): Promise<Intent | null> {
    const r = await this.sql.get<IntentRow>('get intent', 'SELECT * FROM intents WHERE intent_id = ?', intentId);
    return r && toIntent(r);
  }

  async getByIdempotencyKey(installationId: string, idempotencyKey: string): Promise<Intent | null> {
    const r = await this.sql.get<IntentRow>(
      'get intent by idempotency key',
      'SELECT * FROM intents WHERE installation_id = ? AND idempotency_key = ?',
      installationId,
      idempotencyKey,
    );
    return r && toIntent(r);
  }

  async countCreatedSince(installationId: string, since: number): Promise<{ count: number; oldest: number | null }> {
    const r = (await this.sql.get<{ n: number; oldest: number | null }>(
      'count recent intents',
      'SELECT count(*) AS n, min(created_at) AS oldest FROM intents WHERE installation_id = ? AND created_at >= ?',
      installationId,
      since,
    ))!;
    return { count: r.n, oldest: r.oldest };
  }

  async listPendingForAccount(
    accountId: string,
    now: number,
    page?: { after?: { createdAt: number; intentId: string }; limit: number },
  ): Promise<Intent[]> {
    if (!page)
      return (
        await this.sql.all<IntentRow>(
          'list pending intents',
          `SELECT i.* FROM intents i JOIN installations n ON n.installation_id = i.installation_id
           WHERE n.account_id = ? AND i.status = 'pending' AND i.expires_at > ? ORDER BY i.created_at, i.intent_id`,
          accountId,
          now,
        )
      ).map(toIntent);
    // Keyset: rows after (created_at, intent_id) of the previous page's last row; a new intent never lands before it.
    const after = page.after ?? { createdAt: Number.MIN_SAFE_INTEGER, intentId: '' };
    return (
      await this.sql.all<IntentRow>(
        'list a page of pending intents',
        `SELECT i.* FROM intents i JOIN installations n ON n.installation_id = i.installation_id
         WHERE n.account_id = ? AND i.status = 'pending' AND i.expires_at > ?
           AND (i.created_at > ? OR (i.created_at = ? AND i.intent_id > ?))
         ORDER BY i.created_at, i.intent_id LIMIT ?`,
        accountId,
        now,
        after.createdAt,
        after.createdAt,
        after.intentId,
        page.limit,
      )
    ).map(toIntent);
  }

  async decide(
    intentId: string,
    d: { status: 'approved' | 'denied'; decidedAt: number; decisionStatement: JsonValue },
  ): Promise<Intent> {
    const row = await this.sql.get<IntentRow>(
      'decide intent',
      `UPDATE intents SET status = ?, decided_at = ?, decision_statement = ?
       WHERE intent_id = ? AND status = 'pending' AND expires_at > ? RETURNING *`,
      d.status,
      d.decidedAt,
      jsonText(d.decisionStatement),
      intentId,
      d.decidedAt,
    );
    return row ? toIntent(row) : await this.guardedUpdateFailed('decide intent', intentId, 'is no longer pending');
  }

  async expireDue(now: number): Promise<string[]> {
    return (
      await this.sql.all<{ intent_id: string }>(
        'expire intents',
        `UPDATE intents SET status = 'expired' WHERE status = 'pending' AND expires_at <= ? RETURNING intent_id`,
        now,
      )
    ).map((r) => r.intent_id);
  }

  async anyDue(now: number): Promise<boolean> {
    return (
      (await this.sql.get<{ due: number }>(
        'find due intents',
        `SELECT 1 AS due FROM intents WHERE status = 'pending' AND expires_at <= ? LIMIT 1`,
        now,
      )) !== null
    );
  }

  async expireForInstallation(installationId: string): Promise<string[]> {
    return (
      await this.sql.all<{ intent_id: string }>(
        'expire intents of installation',
        `UPDATE intents SET status = 'expired' WHERE status = 'pending' AND installation_id = ? RETURNING intent_id`,
        installationId,
      )
    ).map((r) => r.intent_id);
  }

  async markExecuted(intentId: string, at: number): Promise<Intent> {
    const row = await this.sql.get<IntentRow>(
      'mark intent executed',
      `UPDATE intents SET executed_at = ? WHERE intent_id = ? AND status = 'approved' AND executed_at IS NULL
       RETURNING *`,
      at,
      intentId,
    );
    return row
      ? toIntent(row)
      : await this.guardedUpdateFailed('mark intent executed', intentId, 'is not approved or already executed');
  }

  async purgePayloads(cutoff: number, limit: number): Promise<string[]> {
    // Sealed secrets first (they reference the intent); the status guard keeps pending intents out whatever `cutoff`.
    const ids = (
      await this.sql.all<{ intent_id: string }>(
        'find intents past retention',
        `SELECT intent_id FROM intents WHERE status <> 'pending' AND expires_at <= ? AND payload <> ''
         ORDER BY expires_at LIMIT ?`,
        cutoff,
        limit,
      )
    ).map((r) => r.intent_id);
    for (const id of ids) {
      await this.sql.run('drop sealed secret past retention', 'DELETE FROM sealed_secrets WHERE intent_id = ?', id);
      await this.sql.run(
        'blank payload past retention',
        `UPDATE intents SET payload = '' WHERE intent_id = ? AND status <> 'pending'`,
        id,
      );
    }
    return ids;
  }

  /** After a guarded UPDATE: the new row, or tell "no such intent" apart from "wrong state". */
  /** A guarded UPDATE changed nothing: says whether the intent is missing or in the wrong state. */
  private async guardedUpdateFailed(what: string, intentId: string, stateProblem: string): Promise<never> {
    if (!(await this.get(intentId))) throw new StoreError('not_found', `${what}: no such intent`);
    throw new StoreError('invalid_state', `${what}: the intent ${stateProblem}`);
  }
}

/** Secrets sealed to an agent's box key, one blob per intent. The hub cannot open them. */
export class SqlSealedSecrets implements SealedSecretRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async put(intentId: string, sealed: Uint8Array): Promise<void> {
    await this.sql.run(
      'store sealed secret',
      'INSERT INTO sealed_secrets (intent_id, sealed) VALUES (?, ?)',
      intentId,
      sealed,
    );
  }

  async get(intentId: string): Promise<Uint8Array | null> {
    const r = await this.sql.get<{ sealed: Buffer }>(
      'get sealed secret',
      'SELECT sealed FROM sealed_secrets WHERE intent_id = ?',
      intentId,
    );
    return r && bytes(r.sealed);
  }

  async delete(intentId: string): Promise<boolean> {
    return (
      (await this.sql.run('delete sealed secret', 'DELETE FROM sealed_secrets WHERE intent_id = ?', intentId)) === 1
    );
  }

  async purgeDelivered(executedAtOrBefore: number, limit: number): Promise<number> {
    return await this.sql.run(
      'purge delivered sealed secrets',
      `DELETE FROM sealed_secrets WHERE intent_id IN (
         SELECT s.intent_id FROM sealed_secrets s JOIN intents i ON i.intent_id = s.intent_id
         WHERE i.executed_at IS NOT NULL AND i.executed_at <= ? ORDER BY i.executed_at LIMIT ?)`,
      executedAtOrBefore,
      limit,
    );
  }
}

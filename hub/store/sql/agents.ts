import type {
  Agent,
  AgentRepo,
  Installation,
  InstallationRepo,
  InstallationStatus,
  JsonValue,
  NewAgent,
  NewInstallation,
} from '../port';
import { StoreError } from '../errors';
import { bytes, bytesOrNull, jsonText, jsonValue, type SqlExecutor } from './executor';

interface AgentRow {
  agent_id: string;
  name: string;
  signing_key: Buffer;
  box_key: Buffer;
  manifest_snapshot: string;
  manifest_sha256: Buffer;
  requested_scopes: string;
  claim_code_hash: Buffer | null;
  claim_expires_at: number | null;
  created_at: number;
  key_binding: string | null;
}

interface InstallationRow {
  installation_id: string;
  agent_id: string;
  account_id: string;
  granted_scopes: string;
  policy: string;
  claim_statement: string;
  status: InstallationStatus;
  consecutive_denials: number;
  last_activity: number | null;
  created_at: number;
  revocation_statement: string | null;
}

const toAgent = (r: AgentRow): Agent => ({
  agentId: r.agent_id,
  name: r.name,
  signingKey: bytes(r.signing_key),
  boxKey: bytes(r.box_key),
  manifestSnapshot: r.manifest_snapshot,
  manifestSha256: bytes(r.manifest_sha256),
  requestedScopes: jsonValue(r.requested_scopes),
  claimCodeHash: bytesOrNull(r.claim_code_hash),
  claimExpiresAt: r.claim_expires_at,
  createdAt: r.created_at,
  keyBinding: r.key_binding === null ? null : jsonValue(r.key_binding),
});

const toInstallation = (r: InstallationRow): Installation => ({
  installationId: r.installation_id,
  agentId: r.agent_id,
  accountId: r.account_id,
  grantedScopes: jsonValue(r.granted_scopes),
  policy: jsonValue(r.policy),
  claimStatement: jsonValue(r.claim_statement),
  status: r.status,
  consecutiveDenials: r.consecutive_denials,
  lastActivity: r.last_activity,
  createdAt: r.created_at,
  revocationStatement: r.revocation_statement === null ? null : jsonValue(r.revocation_statement),
});

/** Registered agents in SQLite. */
export class SqlAgents implements AgentRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async create(a: NewAgent): Promise<Agent> {
    await this.sql.run(
      'register agent',
      `INSERT INTO agents (agent_id, name, signing_key, box_key, manifest_snapshot, manifest_sha256, requested_scopes,
         claim_code_hash, claim_expires_at, created_at, key_binding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      a.agentId,
      a.name,
      a.signingKey,
      a.boxKey,
      a.manifestSnapshot,
      a.manifestSha256,
      jsonText(a.requestedScopes),
      a.claimCodeHash,
      a.claimExpiresAt,
      a.createdAt,
      a.keyBinding == null ? null : jsonText(a.keyBinding),
    );
    return (await this.get(a.agentId))!;
  }

  async get(agentId: string): Promise<Agent | null> {
    const r = await this.sql.get<AgentRow>('get agent', 'SELECT * FROM agents WHERE agent_id = ?', agentId);
    return r && toAgent(r);
  }

  async getBySigningKey(signingKey: Uint8Array): Promise<Agent | null> {
    const r = await this.sql.get<AgentRow>(
      'get agent by key',
      'SELECT * FROM agents WHERE signing_key = ?',
      signingKey,
    );
    return r && toAgent(r);
  }

  async findByClaimCode(claimCodeHash: Uint8Array, now: number): Promise<Agent | null> {
    const r = await this.sql.get<AgentRow>(
      'find agent by claim code',
      'SELECT * FROM agents WHERE claim_code_hash = ? AND claim_expires_at > ?',
      claimCodeHash,
      now,
    );
    return r && toAgent(r);
  }

  async clearClaimCode(agentId: string): Promise<void> {
    const changed = await this.sql.run(
      'clear claim code',
      'UPDATE agents SET claim_code_hash = NULL, claim_expires_at = NULL WHERE agent_id = ?',
      agentId,
    );
    if (changed !== 1) throw new StoreError('not_found', 'clear claim code: no such agent');
  }

  async purgeUnclaimed(now: number, limit: number): Promise<string[]> {
    // NOT EXISTS: belt and braces, a claim clears the code in the same transaction that creates the installation.
    return (
      await this.sql.all<{ agent_id: string }>(
        'purge unclaimed agents',
        `DELETE FROM agents WHERE agent_id IN (
           SELECT a.agent_id FROM agents a WHERE a.claim_code_hash IS NOT NULL AND a.claim_expires_at <= ?
             AND NOT EXISTS (SELECT 1 FROM installations i WHERE i.agent_id = a.agent_id)
           ORDER BY a.claim_expires_at LIMIT ?)
         RETURNING agent_id`,
        now,
        limit,
      )
    ).map((r) => r.agent_id);
  }
}

/** Installations (agent claimed by an account) in SQLite. */
export class SqlInstallations implements InstallationRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async create(i: NewInstallation): Promise<Installation> {
    await this.sql.run(
      'create installation',
      `INSERT INTO installations (installation_id, agent_id, account_id, granted_scopes, policy, claim_statement,
         created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      i.installationId,
      i.agentId,
      i.accountId,
      jsonText(i.grantedScopes),
      jsonText(i.policy),
      jsonText(i.claimStatement),
      i.createdAt,
    );
    return (await this.get(i.installationId))!;
  }

  async get(installationId: string): Promise<Installation | null> {
    const r = await this.sql.get<InstallationRow>(
      'get installation',
      'SELECT * FROM installations WHERE installation_id = ?',
      installationId,
    );
    return r && toInstallation(r);
  }

  async listByAccount(accountId: string): Promise<Installation[]> {
    return (
      await this.sql.all<InstallationRow>(
        'list installations',
        'SELECT * FROM installations WHERE account_id = ? ORDER BY created_at, installation_id',
        accountId,
      )
    ).map(toInstallation);
  }

  async listByAgent(agentId: string): Promise<Installation[]> {
    return (
      await this.sql.all<InstallationRow>(
        'list installations',
        'SELECT * FROM installations WHERE agent_id = ? ORDER BY created_at, installation_id',
        agentId,
      )
    ).map(toInstallation);
  }

  async revoke(installationId: string, at: number, revocationStatement: JsonValue): Promise<Installation> {
    return this.update(
      'revoke installation',
      installationId,
      "UPDATE installations SET status = 'revoked', revocation_statement = ?, last_activity = ? WHERE installation_id = ?",
      jsonText(revocationStatement),
      at,
    );
  }

  async setStatus(installationId: string, status: InstallationStatus, at: number): Promise<Installation> {
    return this.update(
      'set installation status',
      installationId,
      'UPDATE installations SET status = ?, last_activity = ? WHERE installation_id = ?',
      status,
      at,
    );
  }

  async updateGrant(
    installationId: string,
    grant: { grantedScopes: JsonValue; policy: JsonValue },
    at: number,
  ): Promise<Installation> {
    return this.update(
      'update grant',
      installationId,
      'UPDATE installations SET granted_scopes = ?, policy = ?, last_activity = ? WHERE installation_id = ?',
      jsonText(grant.grantedScopes),
      jsonText(grant.policy),
      at,
    );
  }

  async recordDecision(installationId: string, approved: boolean, at: number): Promise<Installation> {
    return this.update(
      'record decision',
      installationId,
      `UPDATE installations SET consecutive_denials = CASE WHEN ? = 1 THEN 0 ELSE consecutive_denials + 1 END,
         last_activity = ? WHERE installation_id = ?`,
      approved ? 1 : 0,
      at,
    );
  }

  async touch(installationId: string, at: number): Promise<void> {
    await this.update(
      'touch installation',
      installationId,
      'UPDATE installations SET last_activity = ? WHERE installation_id = ?',
      at,
    );
  }

  /** Runs an UPDATE whose last parameter is the installation id; returns the updated row. */
  private async update(what: string, installationId: string, sql: string, ...params: unknown[]): Promise<Installation> {
    // RETURNING: the updated row without reading it again (one round trip fewer inside the transaction).
    const row = await this.sql.get<InstallationRow>(what, `${sql} RETURNING *`, ...params, installationId);
    if (!row) throw new StoreError('not_found', `${what}: no such installation`);
    return toInstallation(row);
  }
}

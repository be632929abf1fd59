import type { AgentConfigRepo, AgentConfigRow } from '../port';
import { bytes, jsonText, jsonValue, type SqlExecutor } from './executor';

interface Row {
  installation_id: string;
  config_id: string;
  revision: number;
  statement: string;
  sealed: Buffer;
  updated_at: number;
}

/** Agent configs in SQLite: one row per installation, replaced by each newer revision. */
export class SqlAgentConfigs implements AgentConfigRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async put(r: AgentConfigRow): Promise<void> {
    await this.sql.run(
      'store agent config',
      `INSERT INTO agent_configs (installation_id, config_id, revision, statement, sealed, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (installation_id) DO UPDATE SET config_id = excluded.config_id, revision = excluded.revision,
         statement = excluded.statement, sealed = excluded.sealed, updated_at = excluded.updated_at`,
      r.installationId,
      r.configId,
      r.revision,
      jsonText(r.statement),
      r.sealed,
      r.updatedAt,
    );
  }

  async get(installationId: string): Promise<AgentConfigRow | null> {
    const r = await this.sql.get<Row>(
      'get agent config',
      'SELECT * FROM agent_configs WHERE installation_id = ?',
      installationId,
    );
    return (
      r && {
        installationId: r.installation_id,
        configId: r.config_id,
        revision: r.revision,
        statement: jsonValue(r.statement),
        sealed: bytes(r.sealed),
        updatedAt: r.updated_at,
      }
    );
  }

  async delete(installationId: string): Promise<boolean> {
    return (
      (await this.sql.run(
        'delete agent config',
        'DELETE FROM agent_configs WHERE installation_id = ?',
        installationId,
      )) === 1
    );
  }
}

import type { AgentConfigRepo, AgentConfigRow } from './port';
import { bytes, jsonText, jsonValue, type Sql } from './sqlite-util';

interface Row {
  installation_id: string;
  config_id: string;
  revision: number;
  statement: string;
  sealed: Buffer;
  updated_at: number;
}

/** Agent configs in SQLite: one row per installation, replaced by each newer revision. */
export class SqliteAgentConfigs implements AgentConfigRepo {
  constructor(private readonly sql: Sql) {}

  put(r: AgentConfigRow): void {
    this.sql.run(
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

  get(installationId: string): AgentConfigRow | null {
    const r = this.sql.get<Row>(
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

  delete(installationId: string): boolean {
    return (
      this.sql.run('delete agent config', 'DELETE FROM agent_configs WHERE installation_id = ?', installationId) === 1
    );
  }
}

import type { MetaRepo } from '../port';
import type { SqlExecutor } from './executor';

/** Named values every hub process on the database shares (hub_meta, migration 8). */
export class SqlMeta implements MetaRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async get(name: string): Promise<string | null> {
    const r = await this.sql.get<{ value: string }>(
      'read hub metadata',
      'SELECT value FROM hub_meta WHERE name = ?',
      name,
    );
    return r?.value ?? null;
  }

  async setIfAbsent(name: string, value: string): Promise<string> {
    // One statement, so two processes starting at once agree on the first value written.
    await this.sql.run(
      'write hub metadata',
      'INSERT INTO hub_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
      name,
      value,
    );
    return (await this.get(name))!;
  }
}

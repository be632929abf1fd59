import path from 'node:path';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { verifyAudit } from '../../hub/audit';
import { StoreError } from '../../hub/store/errors';
import { DB_FILE, openSqliteStore } from '../../hub/store/sqlite';

const USAGE = [
  'Usage: clawkeep audit verify --data DIR',
  '',
  "  --data DIR  the hub's data directory (the one given to `clawkeep hub --data`)",
  '',
  'Checks the hash chain of the audit log. Exit 0: intact. Exit 1: an entry was changed, removed, inserted or',
  'moved (the first bad entry is named). Exit 2: bad arguments or no readable hub database.',
].join('\n');

export const auditCommand: Command = {
  name: 'audit',
  summary: "verify the hub's hash-chained audit log",
  usage: USAGE,
  async run(argv) {
    const args = parseCommandArgs(auditCommand, argv, { data: { type: 'string' } });
    if (!args) return 0;
    const { values, positionals } = args;
    if (positionals.length !== 1 || positionals[0] !== 'verify') {
      throw new UsageError(positionals.length === 0 ? 'missing subcommand "verify"' : `unknown arguments: ${positionals.join(' ')}`);
    }
    if (!values.data) throw new UsageError('--data DIR is required');
    const file = path.join(path.resolve(values.data), DB_FILE);

    let store;
    try {
      // Read-only and without migrating: the check must not change what it checks.
      store = openSqliteStore({ file, readonly: true });
    } catch (err) {
      // Not finding or not being able to read the log is not evidence of tampering: exit 2, not 1.
      const why = err instanceof StoreError && err.code === 'not_found' ? `no hub database at ${file}` : (err as Error).message;
      throw new UsageError(why);
    }
    try {
      const result = verifyAudit(store);
      if (result.ok) {
        console.log(`audit log intact: ${result.count} entries`);
        return 0;
      }
      console.error(`audit log broken at entry ${result.seq}: ${result.reason}`);
      return 1;
    } finally {
      store.close();
    }
  },
};

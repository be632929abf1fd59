import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { verifyAudit } from '../../hub/audit';
import { decodeIdentityFile, IDENTITY_FILE } from '../../hub/identity';
import { StoreError } from '../../hub/store/errors';
import { DB_FILE } from '../../hub/store/sqlite';
import { describeStoreLocation, openStore } from '../../hub/store/open';
import { storeOption } from './store-option';
import type { HubStore } from '../../hub/store/port';
import { fromHex, toHex } from '../../lib/bytes';
import { AUDIT_HEAD_FORMAT, verifyAuditHead, type AuditHead } from '../../lib/protocol/audit-head';
import { auditTreeRoot } from '../../lib/protocol/audit-tree';

const USAGE = [
  'Usage: clawkeep audit verify --data DIR [--store sqlite:DIR | --store postgres://…] [--head FILE]',
  '',
  "  --data DIR   the hub's data directory (the one given to `clawkeep hub --data`)",
  '  --head FILE  a signed audit head a device exported (Activity tab, "Export signed head")',
  '',
  'Checks the hash chain of the audit log. With --head, also checks that the head the device saw is in this chain',
  "(same entry at that position, same Merkle root of everything up to it) and is signed by this hub's identity key.",
  'Exit 0: intact. Exit 1: an entry was changed, removed, inserted or moved (the first bad entry is named), or the',
  'exported head is not in the chain. Exit 2: bad arguments, no readable hub database or head file.',
].join('\n');

/** The exported head, checked against its own key and (when the data directory has one) the hub's identity file. */
function readHead(file: string, dataDir: string): { head: AuditHead; keyProblem: string | null } {
  let signed: unknown;
  try {
    signed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the head file ${file}: ${(err as Error).message}`);
  }
  let named: AuditHead;
  try {
    named = AUDIT_HEAD_FORMAT.validate((signed as { statement?: unknown } | null)?.statement);
  } catch {
    throw new UsageError(`${file} is not a signed audit head (CKAH v1)`);
  }
  let head: AuditHead;
  try {
    head = verifyAuditHead(signed, { hub: named.hub, hubKey: named.hub_key });
  } catch {
    throw new UsageError(`${file}: the signature does not verify (the file was changed)`);
  }
  const keyFile = path.join(dataDir, IDENTITY_FILE);
  if (!existsSync(keyFile)) return { head, keyProblem: null };
  let hubKey: string;
  try {
    hubKey = decodeIdentityFile(new Uint8Array(readFileSync(keyFile))).hubKey;
  } catch (err) {
    throw new UsageError(`${keyFile}: ${(err as Error).message}`);
  }
  return {
    head,
    keyProblem:
      hubKey === head.hub_key ? null : "the exported head was signed by another hub key than this hub's identity",
  };
}

/** Whether `head` is in the store's chain: its entry at `seq` and the Merkle root of entries 1..seq match. */
async function headInChain(store: HubStore, head: AuditHead): Promise<string | null> {
  const leaves: Uint8Array[] = [];
  for await (const row of store.audit.scan()) {
    if (leaves.length === head.seq) break;
    leaves.push(fromHex(row.entryHash));
    if (leaves.length === head.seq && row.entryHash !== head.head_hash) {
      return `entry ${head.seq} is not the one the device saw (its hash differs): history up to it was rewritten`;
    }
  }
  if (leaves.length < head.seq)
    return `the device saw ${head.seq} entries, the database has only ${leaves.length}: entries were removed`;
  if (toHex(auditTreeRoot(leaves)) !== head.tree_root)
    return `entries 1..${head.seq} are not the ones the device saw (the tree root differs)`;
  return null;
}

export const auditCommand: Command = {
  name: 'audit',
  summary: "verify the hub's hash-chained audit log",
  usage: USAGE,
  async run(argv) {
    const args = parseCommandArgs(auditCommand, argv, {
      data: { type: 'string' },
      store: { type: 'string' },
      head: { type: 'string' },
    });
    if (!args) return 0;
    const { values, positionals } = args;
    if (positionals.length !== 1 || positionals[0] !== 'verify') {
      throw new UsageError(
        positionals.length === 0 ? 'missing subcommand "verify"' : `unknown arguments: ${positionals.join(' ')}`,
      );
    }
    if (!values.data) throw new UsageError('--data DIR is required');
    const dataDir = path.resolve(values.data);
    const location = storeOption(values.store, dataDir);
    const file = location.engine === 'sqlite' ? path.join(location.dir, DB_FILE) : describeStoreLocation(location);
    const exported = values.head ? readHead(path.resolve(values.head), dataDir) : null;

    let store;
    try {
      // Read-only and without migrating: the check must not change what it checks.
      store = await openStore(location, { readonly: true });
    } catch (err) {
      // Not finding or not being able to read the log is not evidence of tampering: exit 2, not 1.
      const why =
        err instanceof StoreError && err.code === 'not_found' ? `no hub database at ${file}` : (err as Error).message;
      throw new UsageError(why);
    }
    try {
      const result = await verifyAudit(store);
      if (!result.ok) {
        console.error(`audit log broken at entry ${result.seq}: ${result.reason}`);
        return 1;
      }
      if (exported) {
        const problem = exported.keyProblem ?? (await headInChain(store, exported.head));
        if (problem) {
          console.error(
            `the exported head (entry ${exported.head.seq}, signed ${new Date(exported.head.time).toISOString()}) is not in this audit log: ${problem}`,
          );
          return 1;
        }
        console.log(
          `audit log intact: ${result.count} entries; it contains the exported head (entry ${exported.head.seq})`,
        );
        return 0;
      }
      console.log(`audit log intact: ${result.count} entries`);
      return 0;
    } finally {
      await store.close();
    }
  },
};

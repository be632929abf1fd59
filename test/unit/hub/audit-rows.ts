import type { AuditRow, HubStore } from '../../../hub/store/port';

/** Every audit row in seq order, collected (tests look at the whole log; Array.fromAsync needs Node 22). */
export async function auditRows(store: HubStore): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  for await (const row of store.audit.scan()) rows.push(row);
  return rows;
}

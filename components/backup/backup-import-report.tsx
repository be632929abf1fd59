import type { BackupImportReport, MergeOutcome } from '../../lib/vault/backup-merge';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "2 added, 1 kept newer, 0 replaced, 3 unchanged": the one-line summary issue 15 asks for. */
export function backupReportSummary(r: BackupImportReport): string {
  const parts = [`${r.added} added`, `${r.keptNewer} kept newer`, `${r.replaced} replaced`, `${r.unchanged} unchanged`];
  if (r.keptConflict) parts.push(`${r.keptConflict} kept (changed on both sides)`);
  return `Backup imported: ${parts.join(', ')}.`;
}

const OUTCOME_WORDS: Record<MergeOutcome, string> = {
  added: 'added from the backup',
  replaced: 'replaced by the backup’s newer version',
  'kept-newer': 'kept: this vault’s version is newer than the backup’s',
  'kept-conflict': 'kept: changed here and in the backup at the same revision; this vault’s version stays',
  unchanged: 'unchanged: the same in both',
};

/** The report after a backup import: the summary, then each item that changed or was kept, by name. */
export function BackupImportReportView({ report }: { report: BackupImportReport }) {
  const listed = report.items.filter((i) => i.outcome !== 'unchanged');
  return (
    <div class="stack" role="status" aria-label="Backup import report">
      <p class="alert alert-ok">{backupReportSummary(report)}</p>
      {listed.length ? (
        <ul class="import-list" aria-label="What happened to each item">
          {listed.map((i) => (
            <li key={i.id}>
              <strong>{i.name}</strong> <span class="muted">— {OUTCOME_WORDS[i.outcome]}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">{plural(report.unchanged, 'item was', 'items were')} already in this vault as they are.</p>
      )}
    </div>
  );
}

/** "a, b ,, c" → ["a", "b", "c"], keeping the first spelling of duplicates. */
export function parseTags(text: string): string[] {
  const seen = new Set<string>();
  const tags: string[] = [];
  for (const raw of text.split(',')) {
    const tag = raw.trim();
    if (!tag || seen.has(tag.toLowerCase())) continue;
    seen.add(tag.toLowerCase());
    tags.push(tag);
  }
  return tags;
}

/**
 * The secret editor's "Allowed hosts" box → its entries: one per line, though commas and spaces also separate (a host
 * never holds either), blanks dropped. Checking and canonicalising is lib/vault/secret-hosts.ts's job.
 */
export function parseHostList(text: string): string[] {
  return text.split(/[\s,]+/).filter((entry) => entry !== '');
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** ISO date-time → the local calendar day for a date input ("" for none). */
export function isoToDateInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/**
 * A date input's "YYYY-MM-DD" → ISO date-time at the end of that local day, so "expires 3 May" means the
 * secret is still good for all of 3 May where the user is.
 */
export function dateInputToIso(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 999);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function formatDate(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? ''
    : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** 0.1 → "0.1 minutes", 1 → "1 minute"; trims float noise from seconds/60. */
export function formatMinutes(minutes: number): string {
  const rounded = Math.round(minutes * 100) / 100;
  return `${rounded} ${rounded === 1 ? 'minute' : 'minutes'}`;
}

/** Local "YYYY-MM-DD" for file names. */
export function todayStamp(now = new Date()): string {
  return `${now.getFullYear()}-${pad2(now.getMonth() + 1)}-${pad2(now.getDate())}`;
}

/** The one-line promise shown next to the auto-lock choice (and in the popup). */
export function autoLockSummary(autoLockSeconds: number | null): string {
  if (autoLockSeconds === null) return 'Locks only when the browser closes or you press Lock now';
  return `Locks after ${formatMinutes(autoLockSeconds / 60)} idle and whenever the browser closes`;
}

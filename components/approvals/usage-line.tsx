import { ago } from '../agents/hub-use-state';

/** "Added 3 min ago · Used 2 times, last 1 min ago": a standing approval's or a rule's history, as the Agents tab lists it. */
export function UsageLine({
  created_at,
  uses,
  last_used_at,
}: {
  created_at: number;
  uses: number;
  last_used_at: number | null;
}) {
  return (
    <span class="small-text">
      Added {ago(created_at)} · Used {uses === 1 ? 'once' : `${uses} times`}
      {last_used_at !== null ? `, last ${ago(last_used_at)}` : ''}
    </span>
  );
}

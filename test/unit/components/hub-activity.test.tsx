import { render } from 'preact';
import { describe, expect, it } from 'vitest';
import { HubActivity } from '../../../components/agents/hub-activity';
import type { ActivityPage, AuditIntegrity } from '../../../lib/hub-client/activity';
import type { HubApi } from '../../../lib/ext/hub/hub-api';
import { waitFor as waitForIn } from './wait-for';
import { freshRootPerTest } from './mount-root';

// The Activity tab shows what the device concluded about the hub's signed audit head (lib/ext/hub/hub-audit.ts decides;
// test/unit/adversary/audit-rewrite.test.ts proves the decision against a real hub). Here: what the person sees.
let root: HTMLElement;
const waitFor = <T,>(find: () => T | null | undefined | false, what: string) => waitForIn(() => root, find, what);

const KEPT = {
  statement: {
    hub: 'http://127.0.0.1:8787',
    hub_key: 'k'.repeat(43),
    seq: 7,
    head_hash: 'a'.repeat(64),
    tree_root: 'b'.repeat(64),
    time: Date.UTC(2026, 10, 20, 9, 30),
  },
  signature: 's'.repeat(86),
};

function hubWith(integrity: AuditIntegrity): HubApi {
  const page: ActivityPage = {
    entries: [
      {
        seq: 8,
        time: Date.UTC(2026, 10, 21),
        text: 'research-bot registered with the hub',
        action: 'agent.register',
        entry_hash: 'c'.repeat(64),
      },
    ],
    nextBefore: null,
    head: { seq: 8, entry_hash: 'c'.repeat(64) },
    integrity,
  };
  return { activity: async () => page } as unknown as HubApi;
}

freshRootPerTest((r) => (root = r));

describe('Activity tab: the audit log check', () => {
  it('warns that the log was rewritten since the kept head, and offers the kept head as a file', async () => {
    render(
      <HubActivity
        hub={hubWith({
          status: 'rewritten',
          kept: KEPT,
          since: KEPT.statement.time,
          reason: 'The hub now shows 5 entries where it showed 7 before: entries were removed.',
        })}
      />,
      root,
    );
    const alert = await waitFor(() => root.querySelector('[aria-label="Audit log warning"]'), 'the warning');
    expect(alert.textContent).toContain("The hub's activity log was rewritten since");
    expect(alert.textContent).toContain(new Date(KEPT.statement.time).toLocaleString());
    expect(alert.textContent).toContain('entries were removed');
    expect(alert.textContent).toContain('7 entries');
    expect([...root.querySelectorAll('button')].some((b) => b.textContent === 'Export signed head')).toBe(true);
  });

  it('says quietly that the log extends what this device saw when it does', async () => {
    render(<HubActivity hub={hubWith({ status: 'verified', kept: KEPT })} />, root);
    const note = await waitFor(() => root.querySelector('[aria-label="Audit log check"]'), 'the note');
    expect(note.textContent).toContain('extends the one this device saw before');
    expect(root.querySelector('[aria-label="Audit log warning"]')).toBeNull();
  });
});

import { render } from 'preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalWindowApp, CLOSE_DELAY_MS } from '../../../components/approvals/approval-window-app';
import { deriveKey } from '../../../lib/crypto/kdf';
import { DEFAULT_PBKDF2 } from '../../../lib/crypto/kdf-params';
import type { KdfRunner } from '../../../lib/crypto/kdf-runner';
import type { HubApi } from '../../../lib/ext/hub/hub-api';
import type { HubState, PendingIntentView } from '../../../lib/hub-client/api';
import { summarizeIntent } from '../../../lib/hub-client/summary';
import type { VaultClient } from '../../../lib/vault/client';
import { VaultDb } from '../../../lib/vault/db';
import { createLocalVaultClient } from '../../../lib/web-vault/local-client';
import { waitFor as waitForIn } from './wait-for';

// Issue 15: the approval window closes once nothing is waiting, whichever surface decided. The window hears the
// background's pending list through the hub service's change events; here a hub service that holds a pending list
// and announces its changes stands for the background (the real one is driven end to end in
// test/e2e/approval-card-footer.spec.ts, where the popup decides). The vault is the real web-vault client.

const directKdf: KdfRunner = { derive: (passphrase, salt, params) => deriveKey(passphrase, salt, params) };
let root: HTMLElement;
let client: VaultClient;
let dbCount = 0;
const waitFor = <T,>(find: () => T | null | undefined | false, what: string) => waitForIn(() => root, find, what);

function view(id: string): PendingIntentView {
  const payload = { summary: `Step ${id}`, risk: 'low' };
  return {
    intent: {
      intent_id: id,
      agent_id: 'ag_1',
      installation_id: 'ins_1',
      kind: 'action.approve',
      payload,
      payload_hash: 'a'.repeat(64),
      status: 'pending',
      risk: 'medium',
      created_at: Date.now(),
      expires_at: Date.now() + 300_000,
    },
    summary: summarizeIntent('action.approve', payload),
    risk: 'medium',
    agentName: 'research-bot',
    agentFingerprint: null,
    grantedScopes: ['action:action.approve'],
    requiredScope: 'action:action.approve',
    blocked: null,
    canAlwaysApprove: false,
  };
}

/** A hub service whose pending list changes from outside (another surface deciding), announced to subscribers. */
function pendingHub(initial: PendingIntentView[]) {
  let pending = initial;
  const listeners = new Set<() => void>();
  const prepared: string[] = [];
  const hub = {
    state: async () => ({ unlocked: true, pending, deviceFingerprint: null }) as unknown as HubState,
    prepareDecision: async (id: string) => void prepared.push(id),
    subscribe: (listener: () => void) => (listeners.add(listener), () => void listeners.delete(listener)),
  } as unknown as HubApi;
  const set = (next: PendingIntentView[]) => {
    pending = next;
    for (const l of listeners) l();
  };
  return { hub, set, prepared };
}

beforeEach(async () => {
  root = document.createElement('div');
  document.body.append(root);
  client = createLocalVaultClient(directKdf, new VaultDb(`approval-window-test-${Date.now()}-${dbCount++}`));
  await client.create('orbit-lantern-velvet-42', DEFAULT_PBKDF2);
});
afterEach(() => {
  render(null, root);
  root.remove();
});

describe('a card on screen has its decision prepared', () => {
  it('asks the background to prepare the card shown, and the next one once it is shown', async () => {
    const { hub, set, prepared } = pendingHub([view('one'), view('two')]);
    render(<ApprovalWindowApp client={client} hub={hub} onDone={() => {}} />, root);
    await waitFor(() => root.textContent?.includes('Step one'), 'the card');
    await waitFor(() => prepared.includes('one'), 'the first card prepared');
    // Only the card on screen: the second request is not prepared before it is shown.
    expect(prepared).not.toContain('two');
    set([view('two')]);
    await waitFor(() => root.textContent?.includes('Step two'), 'the next card');
    await waitFor(() => prepared.includes('two'), 'the next card prepared');
    expect(prepared.filter((id) => id === 'one')).toHaveLength(1);
  });
});

describe('the approval window closes once nothing is waiting', () => {
  it('closes when another surface decided the last request, and not while one still waits', async () => {
    const { hub, set } = pendingHub([view('one'), view('two')]);
    let closed = 0;
    render(<ApprovalWindowApp client={client} hub={hub} onDone={() => closed++} />, root);
    await waitFor(() => root.textContent?.includes('1 of 2'), 'the card');
    set([view('two')]);
    await waitFor(() => root.textContent?.includes('1 of 1'), 'one left');
    await new Promise((r) => setTimeout(r, CLOSE_DELAY_MS + 200));
    expect(closed).toBe(0);
    set([]);
    await waitFor(() => closed === 1, 'the window to close');
  });

  it('a request arriving before the close is due keeps the window open', async () => {
    const { hub, set } = pendingHub([view('one')]);
    let closed = 0;
    render(<ApprovalWindowApp client={client} hub={hub} onDone={() => closed++} />, root);
    await waitFor(() => root.textContent?.includes('Step one'), 'the card');
    set([]);
    await waitFor(() => root.textContent?.includes('Nothing is waiting'), 'the empty queue');
    set([view('three')]);
    await waitFor(() => root.textContent?.includes('Step three'), 'the new request');
    await new Promise((r) => setTimeout(r, CLOSE_DELAY_MS + 200));
    expect(closed).toBe(0);
  });
});

import { h, render } from 'preact';
import { describe, expect, it } from 'vitest';
import { OpenClawQueue } from '../../../components/openclaw/openclaw-queue';
import { OpenClawSettings } from '../../../components/openclaw/openclaw-settings';
import type { OpenClawApi, OpenClawState } from '../../../lib/ext/openclaw/openclaw-api';
import type { PendingApproval } from '../../../lib/openclaw/approvals';
import { armedClick, pointerClick } from '../components/armed-click';
import { waitFor as waitForIn } from '../components/wait-for';
import { freshRootPerTest } from '../components/mount-root';

let root: HTMLElement;
const waitFor = <T>(find: () => T | null | undefined | false, what: string): Promise<T> =>
  waitForIn(() => root, find, what, 3000);
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
const buttons = (): string[] => [...root.querySelectorAll('button')].map((b) => b.textContent?.trim() ?? '');
const button = (text: string): HTMLButtonElement => {
  const b = [...root.querySelectorAll('button')].find((x) => x.textContent?.trim() === text);
  if (!b) throw new Error(`no button "${text}"`);
  return b;
};

const exec = (id: string, allowed: PendingApproval['allowedDecisions']): PendingApproval => ({
  kind: 'exec',
  id,
  createdAtMs: Date.now(),
  expiresAtMs: Date.now() + 90_000,
  agentId: 'main',
  sessionKey: 'agent:main:main',
  allowedDecisions: allowed,
  command: `rm -rf /tmp/${id}`,
  cwd: '/home/me',
  host: 'gateway',
  nodeId: null,
  resolvedPath: '/usr/bin/rm',
  warnings: ['Deletes files recursively'],
  riskKinds: ['destructive'],
});

function fakeApi(initial: Partial<OpenClawState>) {
  let state: OpenClawState = {
    unlocked: true,
    configured: true,
    url: 'ws://127.0.0.1:18789',
    paired: true,
    allAgents: false,
    status: 'connected',
    problem: null,
    origin: 'chrome-extension://abc',
    deviceId: 'ab'.repeat(32),
    approvals: [],
    ...initial,
  };
  const calls: unknown[][] = [];
  const listeners = new Set<() => void>();
  const api: OpenClawApi = {
    state: async () => state,
    save: async (url, token) => (calls.push(['save', url, token]), state),
    connect: async () => (calls.push(['connect']), state),
    disconnect: async () => (calls.push(['disconnect']), state),
    forget: async () => (calls.push(['forget']), state),
    resolve: async (kind, id, decision) => {
      calls.push(['resolve', kind, id, decision]);
      state = { ...state, approvals: state.approvals.filter((a) => a.id !== id) };
      return state;
    },
    subscribe: (fn) => (listeners.add(fn), () => listeners.delete(fn)),
  };
  const set = (next: Partial<OpenClawState>) => {
    state = { ...state, ...next };
    listeners.forEach((fn) => fn());
  };
  return { api, calls, set };
}

freshRootPerTest((r) => (root = r));

describe('OpenClawQueue', () => {
  it('shows command, cwd, host, agent, risk and a countdown, with buttons only for allowedDecisions', async () => {
    const { api, calls, set } = fakeApi({ approvals: [exec('a1', ['allow-once', 'deny'])] });
    render(h(OpenClawQueue, { api, unlocked: true }), root);
    await waitFor(() => root.textContent?.includes('rm -rf /tmp/a1'), 'the card');
    const text = root.textContent ?? '';
    for (const s of ['/home/me', 'gateway', 'main', '/usr/bin/rm', 'destructive', 'Deletes files recursively'])
      expect(text).toContain(s);
    expect(text).toMatch(/in 1:[23]\d/);
    expect(buttons()).toEqual(['Allow once', 'Deny']);
    button('Deny').click();
    await waitFor(() => calls.length === 1, 'the resolve');
    expect(calls[0]).toEqual(['resolve', 'exec', 'a1', 'deny']);
    await waitFor(() => !root.textContent?.includes('rm -rf'), 'the card to leave');
    // A request that allows "always" offers it; resolved elsewhere → it leaves.
    set({ approvals: [exec('a2', ['allow-once', 'allow-always', 'deny'])] });
    await waitFor(() => buttons().includes('Allow always'), 'allow always');
    expect(buttons()).toEqual(['Allow once', 'Allow always', 'Deny']);
    set({ approvals: [] });
    await waitFor(() => buttons().length === 0, 'the queue to empty');
  });

  it('shows a plugin approval: title, description, tool, severity; resolves it as a plugin approval', async () => {
    const plugin: PendingApproval = {
      kind: 'plugin',
      id: 'p1',
      createdAtMs: Date.now(),
      expiresAtMs: Date.now() + 30_000,
      agentId: 'main',
      sessionKey: null,
      allowedDecisions: ['allow-once', 'deny'],
      title: 'Send an email',
      description: 'to boss@example.com',
      severity: 'critical',
      toolName: 'mail.send',
      pluginId: 'mailer',
    };
    const { api, calls } = fakeApi({ approvals: [plugin] });
    render(h(OpenClawQueue, { api, unlocked: true }), root);
    await waitFor(() => root.textContent?.includes('Send an email'), 'the plugin card');
    for (const t of ['to boss@example.com', 'mail.send', 'critical']) expect(root.textContent).toContain(t);
    expect(buttons()).toEqual(['Allow once', 'Deny']);
    // A click the moment the card appears (typing or clicking meant for something else) allows nothing.
    pointerClick(button('Allow once'));
    button('Allow once').click();
    await settle();
    expect(calls).toEqual([]);
    await armedClick(button('Allow once'));
    await waitFor(() => calls.length === 1, 'the resolve');
    expect(calls[0]).toEqual(['resolve', 'plugin', 'p1', 'allow-once']);
  });

  it('renders nothing while locked', async () => {
    const { api } = fakeApi({ approvals: [exec('a1', ['deny'])] });
    render(h(OpenClawQueue, { api, unlocked: false }), root);
    await settle();
    expect(root.textContent).toBe('');
  });
});

describe('OpenClawSettings', () => {
  it('shows the pairing command and the origin, and saves URL + token', async () => {
    const { api, calls } = fakeApi({
      status: 'failed',
      problem: {
        code: 'PAIRING_REQUIRED',
        title: 'The gateway must approve this device once',
        action: 'Run `openclaw devices approve req-1` on the gateway host, then reconnect.',
      },
    });
    render(h(OpenClawSettings, { api }), root);
    await waitFor(() => root.textContent?.includes('openclaw devices approve req-1'), 'the pairing command');
    expect(root.textContent).toContain('chrome-extension://abc');
    const token = root.querySelector('input[type="password"]') as HTMLInputElement;
    token.value = 'secret-token';
    token.dispatchEvent(new Event('input', { bubbles: true }));
    await settle();
    button('Save and connect').click();
    await waitFor(() => calls.length === 1, 'the save');
    expect(calls[0]).toEqual(['save', 'ws://127.0.0.1:18789', 'secret-token']);
    await waitFor(() => token.value === '', 'the token field to clear');
  });
});

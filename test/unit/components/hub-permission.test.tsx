// Issue 16, "Reachable": in the extension's Agents tab and its "Join an existing vault" form, the hub's host
// permission is asked for inside the person's submit (the browser's prompt needs that user gesture), a refusal is
// explained in words, and nothing is saved or started. The pages talk to a real HubService through the real service
// channel (serveService / createHubPageApi over WXT's fake browser runtime); only the person's answer to the browser
// prompt is played by the test (headless browsers cannot show that prompt).
import { render } from 'preact';
import { browser } from 'wxt/browser';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HubAgents } from '../../../components/agents/hub-agents';
import { JoinVault } from '../../../components/unlock/join-vault';
import { DEFAULT_PBKDF2 } from '../../../lib/crypto/kdf-params';
import type { KdfRunner } from '../../../lib/crypto/kdf-runner';
import { HUB_SERVICE } from '../../../lib/ext/hub/hub-api';
import { createExtensionJoinApi } from '../../../lib/ext/hub/extension-join';
import { mayReachHub } from '../../../lib/ext/hub/host-access';
import { createHubPageApi } from '../../../lib/ext/hub/hub-page';
import { HubService, type HubVault } from '../../../lib/ext/hub/hub-service';
import { serveService } from '../../../lib/ext/rpc/service-server';
import { HUB_SETTINGS } from '../../../lib/storage/persisted-keys';
import { waitFor as waitForIn } from './wait-for';

const HUB = 'https://hub.example.com';

let root: HTMLElement;
const waitFor = <T,>(find: () => T | null | undefined | false, what: string): Promise<T> =>
  waitForIn(() => root, find, what);

function byLabel(text: string): HTMLInputElement {
  const label = [...root.querySelectorAll('label')].find((l) => l.textContent?.trim() === text);
  return root.ownerDocument.getElementById(label!.htmlFor) as HTMLInputElement;
}

/** Types `value` and lets Preact re-render, as it does between a person's typing and their click. */
async function setInput(label: string, value: string): Promise<void> {
  const el = byLabel(label);
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  await new Promise((r) => setTimeout(r, 0));
}

/** Submits the form holding `button` the way a click on it does; returns once the handlers have returned. */
function submit(buttonText: string): void {
  const b = [...root.querySelectorAll('button')].find((x) => x.textContent?.trim() === buttonText)!;
  b.form!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
}

const text = () => root.textContent ?? '';

/** The person's answer at the browser's prompt, and what the browser then holds. */
function prompt(answer: boolean) {
  const granted = new Set<string>();
  // Chrome's and Firefox's permissions API answer with a promise; the typings also list callback overloads (void).
  /* eslint-disable @typescript-eslint/no-misused-promises */
  const request = vi.fn((p: { origins?: string[] }): Promise<boolean> => {
    if (answer) for (const o of p.origins ?? []) granted.add(o);
    return Promise.resolve(answer);
  });
  const contains = (p: { origins?: string[] }) => Promise.resolve((p.origins ?? []).every((o) => granted.has(o)));
  vi.spyOn(browser.permissions, 'request').mockImplementation(request);
  vi.spyOn(browser.permissions, 'contains').mockImplementation(contains);
  /* eslint-enable @typescript-eslint/no-misused-promises */
  return { request };
}

let local: Record<string, unknown>;

beforeEach(() => {
  fakeBrowser.reset();
  root = document.createElement('div');
  document.body.append(root);
  local = {};
  const area = (data: Record<string, unknown>) => ({
    get: async (key: string) => (key in data ? { [key]: structuredClone(data[key]) } : {}),
    set: async (items: Record<string, unknown>) => void Object.assign(data, structuredClone(items)),
    remove: async (key: string) => void delete data[key],
  });
  const locked: HubVault = {
    whenReady: async () => {},
    isUnlocked: false,
    withUnlocked: () => Promise.reject(new Error('locked')),
  };
  // The background's side, as in hub-background.ts: its own permission check, and a network that reaches nothing.
  const svc = new HubService(locked, {
    local: area(local),
    session: area({}),
    badge: () => {},
    changed: () => {},
    fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    mayReach: mayReachHub,
    now: () => Date.now(),
  });
  serveService(HUB_SERVICE, svc, { isTrustedSender: () => true });
});

afterEach(() => {
  render(null, root);
  root.remove();
  vi.restoreAllMocks();
});

describe('Agents tab: saving a hub URL', () => {
  async function openAgents() {
    render(<HubAgents hub={createHubPageApi()} />, root);
    await waitFor(() => text().includes('Save hub URL'), 'the hub form');
  }

  it('asks for the origin within the submit; a refusal is explained and nothing is saved', async () => {
    const { request } = prompt(false);
    await openAgents();
    const before = structuredClone(local[HUB_SETTINGS.key]);
    await setInput('Hub URL', HUB);
    submit('Save hub URL');
    // Asked before the submit handler returned: still inside the person's gesture.
    expect(request).toHaveBeenCalledTimes(1);
    expect(request).toHaveBeenCalledWith({ origins: [`${HUB}/*`] });
    await waitFor(() => root.querySelector('[role="alert"]'), 'the refusal');
    expect(root.querySelector('[role="alert"]')!.textContent).toBe(
      'Clawkeep needs permission to reach https://hub.example.com. Nothing was saved.',
    );
    expect(text()).not.toContain('Hub URL saved.');
    expect(local[HUB_SETTINGS.key]).toEqual(before);
  });

  it('saves the hub URL once the person allows it', async () => {
    prompt(true);
    await openAgents();
    await setInput('Hub URL', HUB);
    submit('Save hub URL');
    await waitFor(() => text().includes('Hub URL saved.'), 'the saved note');
    expect(local[HUB_SETTINGS.key]).toMatchObject({ hubUrl: HUB });
  });

  it('saves a loopback hub without a prompt', async () => {
    const { request } = prompt(false);
    await openAgents();
    await setInput('Hub URL', 'http://127.0.0.1:9999');
    submit('Save hub URL');
    await waitFor(() => text().includes('Hub URL saved.'), 'the saved note');
    expect(request).not.toHaveBeenCalled();
    expect(local[HUB_SETTINGS.key]).toMatchObject({ hubUrl: 'http://127.0.0.1:9999' });
  });
});

describe('Join an existing vault (extension): the hub URL', () => {
  it('asks within the submit; a refusal is explained and no pairing starts', async () => {
    const { request } = prompt(false);
    const kdf: KdfRunner = { derive: () => Promise.reject(new Error('not used')) };
    const sent = vi.spyOn(browser.runtime, 'sendMessage');
    render(
      <JoinVault
        api={createExtensionJoinApi(createHubPageApi(), kdf)}
        defaultKdf={DEFAULT_PBKDF2}
        onJoined={() => {}}
        onCancel={() => {}}
      />,
      root,
    );
    await setInput('Hub URL', HUB);
    submit('Get a pairing code');
    expect(request).toHaveBeenCalledWith({ origins: [`${HUB}/*`] });
    await waitFor(() => root.querySelector('[role="alert"]')?.textContent, 'the refusal');
    expect(root.querySelector('[role="alert"]')!.textContent).toBe(
      'Clawkeep needs permission to reach https://hub.example.com. Nothing was saved.',
    );
    // Nothing went to the background but the cancel the form sends for an open pairing, if any.
    expect(sent.mock.calls.map(([m]) => (m as { method?: string }).method)).not.toContain('startJoin');
    expect(text()).not.toContain('Approve this device');
  });
});

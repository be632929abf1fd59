// @vitest-environment node
// Issue 16, "Reachable", the extension's side: saving a hub URL asks for that hub's host permission in the click,
// a refusal is explained and saves nothing, loopback needs no prompt, and a saved hub that lost its permission is
// reported as such rather than as "Could not reach the hub".
import { browser } from 'wxt/browser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hubFetch, hubPermissionPattern, mayReachHub, requestHubAccess } from '../../../lib/ext/hub/host-access';
import { HubClient } from '../../../lib/hub-client/client';
import { HubClientError } from '../../../lib/hub-client/errors';
import { proveHubIdentity } from '../../../lib/hub-client/hub-identity';
import { WatchClient } from '../../../lib/hub-client/watch-client';
import { HUB_SETTINGS } from '../../../lib/storage/persisted-keys';
import { realHubService } from './real-hub-service';

const HUB = 'https://hub.example.com';

/**
 * The browser's permissions API as the extension sees it: a set of granted origin patterns, and the person's answer
 * to the prompt (`answer`). Records each request and whether it came before the caller yielded.
 */
function browserPermissions(answer: 'allow' | 'deny' | 'throw') {
  const granted = new Set<string>();
  const requests: string[][] = [];
  // Chrome's and Firefox's permissions API answer with a promise; the typings also list callback overloads (void).
  /* eslint-disable @typescript-eslint/no-misused-promises */
  const request = vi.fn((p: { origins?: string[] }): Promise<boolean> => {
    const origins = p.origins ?? [];
    requests.push(origins);
    if (answer === 'throw') throw new Error('This function must be called during a user gesture');
    if (answer === 'allow') for (const o of origins) granted.add(o);
    return Promise.resolve(answer === 'allow');
  });
  const contains = (p: { origins?: string[] }) => Promise.resolve((p.origins ?? []).every((o) => granted.has(o)));
  vi.spyOn(browser.permissions, 'request').mockImplementation(request);
  vi.spyOn(browser.permissions, 'contains').mockImplementation(contains);
  /* eslint-enable @typescript-eslint/no-misused-promises */
  return { granted, requests, request };
}

afterEach(() => vi.restoreAllMocks());

describe('the host permission a hub needs', () => {
  it('is none for a loopback hub over http (granted at install), else exactly its origin', () => {
    expect(hubPermissionPattern('http://127.0.0.1:8787')).toBeNull();
    expect(hubPermissionPattern('http://localhost:8787')).toBeNull();
    expect(hubPermissionPattern('https://localhost:8443')).toBe('https://localhost:8443/*');
    expect(hubPermissionPattern('https://hub.example.com')).toBe('https://hub.example.com/*');
    expect(hubPermissionPattern('https://hub.test:8443')).toBe('https://hub.test:8443/*');
  });
});

describe('requestHubAccess', () => {
  it('asks for the origin synchronously, inside the caller (the user gesture), and resolves when allowed', async () => {
    const perms = browserPermissions('allow');
    const access = requestHubAccess(`${HUB}`);
    // Before anything was awaited: the request was already made.
    expect(perms.requests).toEqual([[`${HUB}/*`]]);
    await expect(access).resolves.toBeUndefined();
    expect(perms.granted.has(`${HUB}/*`)).toBe(true);
  });

  it('explains a refusal in words, with its own code', async () => {
    browserPermissions('deny');
    const refused = await requestHubAccess('https://hub.example.com').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HubClientError);
    expect(refused).toMatchObject({
      code: 'hub_permission_refused',
      message: 'Clawkeep needs permission to reach https://hub.example.com. Nothing was saved.',
    });
  });

  it('treats a browser that will not ask (no gesture, a policy) as a refusal', async () => {
    browserPermissions('throw');
    await expect(requestHubAccess(HUB)).rejects.toMatchObject({ code: 'hub_permission_refused' });
  });

  it('does not prompt for a loopback hub over http', async () => {
    const perms = browserPermissions('deny');
    await expect(requestHubAccess('http://127.0.0.1:8787')).resolves.toBeUndefined();
    await expect(requestHubAccess('http://localhost:8787')).resolves.toBeUndefined();
    expect(perms.requests).toEqual([]);
  });

  it('refuses what is not a hub origin without prompting', async () => {
    const perms = browserPermissions('allow');
    await expect(requestHubAccess('http://hub.example.com')).rejects.toMatchObject({ code: 'hub_url_invalid' });
    await expect(requestHubAccess('https://hub.example.com/v1')).rejects.toMatchObject({ code: 'hub_url_invalid' });
    expect(perms.requests).toEqual([]);
  });
});

describe('hubFetch: a saved hub whose origin lost its permission', () => {
  const offline: typeof fetch = () => Promise.reject(new TypeError('Failed to fetch'));

  it('says so with hub_permission_missing, through every hub client, instead of "Could not reach the hub"', async () => {
    browserPermissions('deny'); // nothing granted
    const f = hubFetch(offline);
    const missing = {
      code: 'hub_permission_missing',
      message: `Clawkeep no longer has permission to reach ${HUB}. Save the hub URL again in the Agents tab and allow it.`,
    };
    await expect(f(`${HUB}/v1/health`)).rejects.toMatchObject(missing);
    const signer = { role: 'human' as const, keyId: 'k', sign: () => Promise.resolve(new Uint8Array(64)) };
    const client = new HubClient({ hub: HUB, signer, fetch: f, now: () => Date.now() });
    await expect(client.listInstallations()).rejects.toMatchObject(missing);
    await expect(proveHubIdentity(f, HUB, null)).rejects.toMatchObject(missing);
    await expect(new WatchClient(HUB, 'token', f).snapshot()).rejects.toMatchObject(missing);
  });

  it('leaves a failure alone when the permission is there, or for a loopback hub', async () => {
    const perms = browserPermissions('allow');
    perms.granted.add(`${HUB}/*`);
    const f = hubFetch(offline);
    await expect(f(`${HUB}/v1/health`)).rejects.toBeInstanceOf(TypeError);
    await expect(f('http://127.0.0.1:8787/v1/health')).rejects.toBeInstanceOf(TypeError);
    const signer = { role: 'human' as const, keyId: 'k', sign: () => Promise.resolve(new Uint8Array(64)) };
    const client = new HubClient({ hub: HUB, signer, fetch: f, now: () => Date.now() });
    await expect(client.listInstallations()).rejects.toMatchObject({ code: 'hub_unreachable' });
  });

  it('passes answers through untouched', async () => {
    browserPermissions('deny');
    const answer = new Response('{}', { status: 200 });
    await expect(hubFetch(() => Promise.resolve(answer))(`${HUB}/v1/health`)).resolves.toBe(answer);
  });
});

describe("the background's own check", () => {
  beforeEach(() => browserPermissions('deny'));

  it('mayReachHub: loopback always, another origin only when granted', async () => {
    expect(await mayReachHub('http://127.0.0.1:8787')).toBe(true);
    expect(await mayReachHub(HUB)).toBe(false);
  });

  it('a hub URL the extension may not reach is not saved, and no pairing starts there', async () => {
    const { svc, local } = await realHubService([], { ports: { mayReach: mayReachHub } });
    const before = structuredClone(local.data[HUB_SETTINGS.key]);
    await expect(svc.setHubUrl(HUB)).rejects.toMatchObject({
      code: 'hub_permission_refused',
      message: `Clawkeep needs permission to reach ${HUB}. Nothing was saved.`,
    });
    expect(local.data[HUB_SETTINGS.key]).toEqual(before);
    expect((await svc.state()).hubUrl).toBe('http://127.0.0.1:8787');
    await expect(svc.startJoin(HUB, 'laptop')).rejects.toMatchObject({ code: 'hub_permission_refused' });
  });
});

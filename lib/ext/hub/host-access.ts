import { browser } from 'wxt/browser';
import { INTEL_PCS_URL, INTEL_ROOT_CA_CRL_URL } from '../../attest/pccs-endpoints';
import { normalizeHubUrl } from '../../hub-client/client';
import { HubClientError, hubPermissionRefused } from '../../hub-client/errors';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Origins a collateral fetch from `pccsUrl` touches. Intel's PCS serves its root CA CRL from a second host; a PCCS
 * that lacks the root CRL endpoint falls back to that host too.
 */
export function pccsOrigins(pccsUrl: string): string[] {
  const origins = new Set<string>();
  const url = new URL(pccsUrl);
  if (!LOOPBACK.has(url.hostname)) origins.add(`${url.origin}/*`);
  if (url.origin === new URL(INTEL_PCS_URL).origin || !LOOPBACK.has(url.hostname)) {
    origins.add(`${new URL(INTEL_ROOT_CA_CRL_URL).origin}/*`);
  }
  return [...origins];
}

/**
 * Asks for the optional host permission of a PCCS (declared in the manifest) right before fetching from it, so
 * the extension contacts no attestation service the user did not ask for. Loopback is always allowed.
 */
export async function requestPccsAccess(pccsUrl: string): Promise<boolean> {
  let origins: string[];
  try {
    origins = pccsOrigins(pccsUrl);
  } catch {
    // Not a URL: let the fetcher report it with its own clear message.
    return true;
  }
  if (origins.length === 0) return true;
  if (await browser.permissions.contains({ origins })) return true;
  try {
    return await browser.permissions.request({ origins });
  } catch {
    // The origin is not among the optional host permissions (a custom PCCS): say no rather than throw.
    return false;
  }
}

/**
 * Asks for the optional host permission of one API origin (Phala Cloud's https://cloud-api.phala.com, or another
 * provider URL the user typed) right before the first call to it. Loopback (the CVM simulator, a local hub) is
 * always allowed.
 */
export async function requestApiAccess(apiUrl: string): Promise<boolean> {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    // Not a URL: the API client reports it with its own message.
    return true;
  }
  if (LOOPBACK.has(url.hostname)) return true;
  const origins = [`${url.origin}/*`];
  if (await browser.permissions.contains({ origins })) return true;
  try {
    return await browser.permissions.request({ origins });
  } catch {
    // Not among the optional host permissions (e.g. plain http to a remote host): say no rather than throw.
    return false;
  }
}

/**
 * Hosts the manifest grants at install (`host_permissions` in wxt.config.ts), over http only: a local hub needs no
 * prompt. Everything else, `https://localhost` included, is an optional host permission asked for when saved.
 */
const INSTALL_GRANTED_HTTP_HOSTS = new Set(['127.0.0.1', 'localhost']);

/**
 * The host permission pattern a hub at `origin` (as `normalizeHubUrl` returns it) needs, or null when the manifest
 * grants it already (a loopback hub over http).
 */
export function hubPermissionPattern(origin: string): string | null {
  const url = new URL(origin);
  if (url.protocol === 'http:' && INSTALL_GRANTED_HTTP_HOSTS.has(url.hostname)) return null;
  return `${url.origin}/*`;
}

/**
 * Asks the browser for the host permission of the hub at `hubUrl` (the optional `https://*` declared in the
 * manifest, narrowed to this one origin), before the hub URL is saved or a pairing starts there. Resolves when the
 * extension may reach it; a loopback hub over http resolves at once, without a prompt.
 *
 * Call it synchronously from the click or submit handler, before any `await`: `permissions.request` needs the user
 * gesture, and Chrome refuses it once the handler has yielded ("This function must be called during a user
 * gesture"); Firefox likewise tracks user input only within the handler. So this function is not `async`: the
 * request is made before it returns.
 * @throws HubClientError `hub_url_invalid` (not a hub origin: `normalizeHubUrl`), `hub_permission_refused` (the
 *   person said no, or the browser would not ask), as a rejected promise
 */
export function requestHubAccess(hubUrl: string): Promise<void> {
  let origin: string;
  let pattern: string | null;
  try {
    origin = normalizeHubUrl(hubUrl);
    pattern = hubPermissionPattern(origin);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  if (pattern === null) return Promise.resolve();
  let asked: Promise<boolean>;
  try {
    asked = browser.permissions.request({ origins: [pattern] });
  } catch (err) {
    asked = Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  return asked.then(
    (granted) => {
      if (!granted) throw hubPermissionRefused(origin);
    },
    (err: unknown) => {
      // The browser would not ask (no user gesture, not among the optional permissions, a policy): the same answer
      // for the person, with the browser's reason kept as the cause for a debugger.
      throw hubPermissionRefused(origin, err);
    },
  );
}

/**
 * Whether the extension may reach the hub at `origin` now (the background's check before it saves a hub URL or
 * starts a pairing: a page that did not ask first gets `hub_permission_refused`, and nothing is saved).
 */
export async function mayReachHub(origin: string): Promise<boolean> {
  const pattern = hubPermissionPattern(origin);
  if (pattern === null) return true;
  try {
    return await browser.permissions.contains({ origins: [pattern] });
  } catch {
    return false;
  }
}

/**
 * The background's fetch for hub calls. When a request to a hub fails because the extension may no longer reach
 * its origin (the person removed the site access in the browser's extension settings after saving the hub), the
 * failure says so, with a code of its own, instead of the "Could not reach the hub" an offline hub gets: the cure is
 * different (save the hub URL again and allow it). The permission is checked only after a failure, so a working
 * hub costs nothing extra.
 */
export function hubFetch(fetchImpl: typeof fetch): typeof fetch {
  return async (input, init) => {
    try {
      return await fetchImpl(input, init);
    } catch (err) {
      if (init?.signal?.aborted) throw err;
      const origin = originOf(input);
      const pattern = origin === null ? null : hubPermissionPattern(origin);
      if (origin === null || pattern === null) throw err;
      let allowed = true;
      try {
        allowed = await browser.permissions.contains({ origins: [pattern] });
      } catch {
        // Cannot tell: report the network failure as it was.
      }
      if (allowed) throw err;
      throw new HubClientError(
        'hub_permission_missing',
        `Clawkeep no longer has permission to reach ${origin}. Save the hub URL again in the Agents tab and allow it.`,
        { cause: err },
      );
    }
  };
}

function originOf(input: Parameters<typeof fetch>[0]): string | null {
  try {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
  } catch {
    return null;
  }
}

/** The host permission pattern for http.request calls to `host` (`hostname[:port]`, https only; issue 18). */
export const callPermissionPattern = (host: string): string => `https://${host}/*`;

/**
 * Asks the browser for the host permission an approved http.request needs (the optional `https://*` declared in the
 * manifest, narrowed to this one host), at the person's first approval of a call to it. Resolves true at once when
 * it is held already. Like requestHubAccess, call it synchronously from the Approve click, before any `await`: the
 * browser's prompt needs the user gesture. Resolves false when the person (or the browser) says no.
 */
export function requestCallAccess(host: string): Promise<boolean> {
  try {
    return browser.permissions.request({ origins: [callPermissionPattern(host)] }).catch(() => false);
  } catch {
    return Promise.resolve(false);
  }
}

/** Whether the extension may reach `host` for an http.request now (the background's check before the call). */
export async function mayCallHost(host: string): Promise<boolean> {
  try {
    return await browser.permissions.contains({ origins: [callPermissionPattern(host)] });
  } catch {
    return false;
  }
}

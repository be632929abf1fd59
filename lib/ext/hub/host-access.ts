import { browser } from 'wxt/browser';
import { INTEL_PCS_URL, INTEL_ROOT_CA_CRL_URL } from '../../attest/pccs-endpoints';

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

import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import { ClawkeepError, type ManifestFetchErrorCode } from '../lib/errors';

/**
 * Fetches an agent's manifest from a URL the agent supplied, without letting that URL reach into the hub's own
 * network (SSRF). The filtering agent checks the *resolved* address at connect time (so DNS rebinding and names
 * that resolve to loopback fail) and refuses loopback, private, link-local, metadata and reserved ranges.
 * Node's fetch ignores http.Agent, hence node:http(s) with redirects followed by hand, each hop re-checked.
 */
export class ManifestFetchError extends ClawkeepError {
  declare readonly code: ManifestFetchErrorCode;

  constructor(code: ManifestFetchErrorCode, message: string) {
    super(code, message);
    this.name = 'ManifestFetchError';
  }
}

export interface ManifestFetchOptions {
  /**
   * Total deadline for the whole fetch, redirects included (issue 13 item 12). A socket idle timeout alone would let
   * a server dripping one byte now and then hold the registration open for as long as it likes.
   */
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
  /** Tests only: plain http and these exact CIDRs (e.g. a loopback test server) are allowed. Never set in production. */
  testAllowList?: string[];
}

const ALLOWED_TYPES = ['text/markdown', 'text/plain', 'text/x-markdown'];

function checkUrl(raw: string, allowHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ManifestFetchError('manifest_url_invalid', 'The manifest URL is not a valid URL.');
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    throw new ManifestFetchError('manifest_url_invalid', 'The manifest URL must use https.');
  }
  if (url.username || url.password)
    throw new ManifestFetchError('manifest_url_invalid', 'The manifest URL must not carry credentials.');
  return url;
}

const timedOut = () => new ManifestFetchError('manifest_fetch_timeout', 'The manifest URL did not answer in time.');

/** One GET, over by `deadline` (ms since the epoch) whatever the server does: then it fails with `manifest_fetch_timeout`. */
function getOnce(
  url: URL,
  opts: Required<Omit<ManifestFetchOptions, 'testAllowList' | 'timeoutMs'>> & { allowList: string[]; deadline: number },
) {
  const filter = { allowIPAddressList: opts.allowList };
  const agent =
    url.protocol === 'https:' ? new RequestFilteringHttpsAgent(filter) : new RequestFilteringHttpAgent(filter);
  const get = url.protocol === 'https:' ? https.get : http.get;
  const remaining = opts.deadline - Date.now();
  if (remaining <= 0) return Promise.reject(timedOut());
  return new Promise<{ status: number; location?: string; type: string; body: Buffer }>((resolve, reject) => {
    // The total deadline: settles first (a promise settles once), then tears the connection down.
    const deadline = setTimeout(() => {
      reject(timedOut());
      req.destroy();
    }, remaining);
    const settle =
      <A extends unknown[]>(fn: (...a: A) => void) =>
      (...a: A) => {
        clearTimeout(deadline);
        fn(...a);
      };
    resolve = settle(resolve);
    reject = settle(reject);
    const req = get(url, { agent, timeout: remaining, headers: { accept: ALLOWED_TYPES.join(', ') } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > opts.maxBytes) {
          req.destroy();
          reject(new ManifestFetchError('manifest_too_large', `The manifest is larger than ${opts.maxBytes} bytes.`));
        } else chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          type: res.headers['content-type'] ?? '',
          body: Buffer.concat(chunks),
        }),
      );
      res.on('error', () =>
        reject(new ManifestFetchError('manifest_fetch_failed', 'The manifest could not be fetched.')),
      );
    });
    req.on('timeout', () => req.destroy(timedOut()));
    req.on('error', (err) => {
      if (err instanceof ManifestFetchError) return reject(err);
      // The filtering agent's refusal names the address; say "forbidden" without echoing internals.
      if (/not allowed/i.test(err.message))
        return reject(
          new ManifestFetchError('manifest_url_forbidden', 'The manifest URL points to a private or reserved address.'),
        );
      reject(new ManifestFetchError('manifest_fetch_failed', 'The manifest could not be fetched.'));
    });
  });
}

/** Returns the manifest text and its SHA-256 (hex): the hub stores both as an immutable snapshot. */
export async function fetchManifest(
  rawUrl: string,
  options: ManifestFetchOptions = {},
): Promise<{ markdown: string; sha256: string; url: string }> {
  const allowHttp = !!options.testAllowList;
  const opts = {
    deadline: Date.now() + (options.timeoutMs ?? 5000),
    maxBytes: options.maxBytes ?? 64 * 1024,
    maxRedirects: options.maxRedirects ?? 3,
    allowList: options.testAllowList ?? [],
  };
  let url = checkUrl(rawUrl, allowHttp);
  for (let hop = 0; ; hop++) {
    const res = await getOnce(url, opts);
    if (res.status >= 300 && res.status < 400 && res.location) {
      if (hop >= opts.maxRedirects)
        throw new ManifestFetchError('manifest_fetch_failed', 'The manifest URL redirects too often.');
      url = checkUrl(new URL(res.location, url).toString(), allowHttp);
      continue;
    }
    if (res.status !== 200)
      throw new ManifestFetchError('manifest_fetch_failed', `The manifest URL answered HTTP ${res.status}.`);
    const type = res.type.split(';')[0]!.trim().toLowerCase();
    if (!ALLOWED_TYPES.includes(type))
      throw new ManifestFetchError('manifest_bad_type', 'The manifest must be served as text/markdown or text/plain.');
    let markdown: string;
    try {
      markdown = new TextDecoder('utf-8', { fatal: true }).decode(res.body);
    } catch {
      throw new ManifestFetchError('manifest_bad_type', 'The manifest is not valid UTF-8 text.');
    }
    return { markdown, sha256: createHash('sha256').update(res.body).digest('hex'), url: url.toString() };
  }
}

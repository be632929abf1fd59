import { fromBase64, utf8Encode, wipe } from '../bytes';
import { readBounded } from '../read-bounded';
import { HEADER_VALUE, type HttpRequestIntent } from '../protocol/http-request';
import { fillPlaceholders, parsePlaceholders } from '../protocol/secret-placeholders';
import { HttpCallError } from './errors';
import { redactReflections, type ReflectionForm } from './redact';

/**
 * Makes an approved `http.request` call (issue 18) where the secrets are: the extension's background. Each
 * placeholder gets its secret's value in memory, right before the call; the response comes back with every
 * reflection of those values cut out (redact.ts), ready to be sealed to the agent. Redirects are never followed:
 * the request carries a secret, and a redirect could take it to another origin (the agent sees the redirect and may
 * ask again for the new address, which the person then sees).
 */

/** Response bytes at most; a larger answer is refused whole (a cut could fall inside a reflection). */
export const RESPONSE_MAX_BYTES = 1024 * 1024;
/** From the call to the last byte of the answer. */
export const CALL_TIMEOUT_MS = 30_000;

export interface HttpCallOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  maxResponseBytes?: number;
}

export interface HttpCallResponse {
  status: number;
  /** Response headers in order, lower-case names, values with reflections cut; never Set-Cookie. */
  headers: [string, string][];
  /** The body bytes (any content type, kept as bytes), with reflections cut. */
  body: Uint8Array;
  /** Which reflection forms were cut from the body or the headers (the card and Activity say so). */
  redacted: ReflectionForm[];
  /** The body was withheld whole: a reflection could not be cut with certainty. */
  withheld: boolean;
  /** A redirect the call did not follow, with its target when the platform shows it (an extension's fetch may not). */
  redirect: { location: string | null } | null;
}

/**
 * Makes the call. `valueOf` gives a used secret's value (the vault, unlocked); it is asked once per name.
 * @throws HttpCallError (`http_secret_unusable`, `http_call_failed`, `http_call_timeout`, `http_response_too_large`);
 *   whatever `valueOf` throws (a secret the vault does not hold).
 */
export async function makeHttpCall(
  request: HttpRequestIntent,
  valueOf: (name: string) => string,
  options: HttpCallOptions = {},
): Promise<HttpCallResponse> {
  const values = new Map<string, string>();
  const secret = (name: string) => {
    let value = values.get(name);
    if (value === undefined) values.set(name, (value = valueOf(name)));
    return value;
  };
  // Placeholders stand only inside query values (parseHttpRequest), so each is filled percent-encoded.
  const url = fillPlaceholders(parsePlaceholders(request.url), (name) => encodeURIComponent(secret(name)));
  const headers = new Headers();
  for (const [name, value] of request.headers) {
    const filled = fillPlaceholders(parsePlaceholders(value), secret);
    // Filled, the value must still be what the payload's values are (visible ASCII, inner spaces): fetch sends it as is.
    if (!HEADER_VALUE.test(filled)) {
      const names = parsePlaceholders(value).flatMap((s) => ('secret' in s ? [`“${s.secret}”`] : []));
      throw new HttpCallError(
        'http_secret_unusable',
        `${names.join(', ')} cannot be sent in the ${name} header: the value holds characters a header cannot carry.`,
      );
    }
    headers.append(name, filled);
  }
  let body: Uint8Array | undefined;
  if (request.body && 'text' in request.body)
    body = utf8Encode(fillPlaceholders(parsePlaceholders(request.body.text), secret));
  else if (request.body) body = fromBase64(request.body.base64);

  const timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, {
      method: request.method,
      headers,
      body: body as BodyInit | undefined,
      redirect: 'manual',
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
      signal,
    });
  } catch (err) {
    throw callFailure(err, signal, timeoutMs, request.host);
  } finally {
    wipe(body); // our copy of the filled body
  }
  const isRedirect = response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400);
  let bytes: Uint8Array;
  try {
    bytes = await readCapped(response, options.maxResponseBytes ?? RESPONSE_MAX_BYTES);
  } catch (err) {
    if (err instanceof HttpCallError) throw err;
    throw callFailure(err, signal, timeoutMs, request.host);
  }
  const secrets = [...values.values()];
  const found = new Set<ReflectionForm>();
  const cut = redactReflections(bytes, secrets);
  if (cut.body !== bytes) wipe(bytes);
  for (const f of cut.found) found.add(f);
  const outHeaders: [string, string][] = [];
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') continue;
    const h = redactReflections(utf8Encode(value), secrets);
    for (const f of h.found) found.add(f);
    outHeaders.push([name, new TextDecoder().decode(h.body)]);
  }
  // The redirect's target is a header too: a server may put the secret in it, so it is cut like the others.
  let redirect: HttpCallResponse['redirect'] = null;
  if (isRedirect) {
    const location = response.headers.get('location');
    if (location === null) redirect = { location: null };
    else {
      const cutLocation = redactReflections(utf8Encode(location), secrets);
      for (const f of cutLocation.found) found.add(f);
      redirect = { location: cutLocation.withheld ? null : new TextDecoder().decode(cutLocation.body) };
    }
  }
  return {
    status: response.status,
    headers: outHeaders,
    body: cut.body,
    redacted: [...found].sort(),
    withheld: cut.withheld,
    redirect,
  };
}

function callFailure(err: unknown, signal: AbortSignal, timeoutMs: number, host: string): HttpCallError {
  if (signal.aborted)
    return new HttpCallError('http_call_timeout', `${host} did not answer within ${Math.round(timeoutMs / 1000)} s.`, {
      cause: err,
    });
  return new HttpCallError('http_call_failed', `The call to ${host} failed before an answer came.`, { cause: err });
}

/** The whole body, or `http_response_too_large` as soon as it passes `max` (the rest is not read). */
async function readCapped(response: Response, max: number): Promise<Uint8Array> {
  const body = await readBounded(response, max, { wipeChunks: true });
  if (body === null) throw tooLarge(max);
  return body;
}

const tooLarge = (max: number) =>
  new HttpCallError(
    'http_response_too_large',
    `The answer was larger than ${Math.round(max / 1024)} KiB; nothing of it is returned.`,
  );

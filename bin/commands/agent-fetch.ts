import { UsageError } from '../command';
import type { HttpRequestInput, HttpResponseOutcome } from '../../lib/agent';
import { toBase64 } from '../../lib/bytes';
import { HTTP_METHODS, type HttpMethod } from '../../lib/protocol/http-request';
import { PLACEHOLDER_OPEN } from '../../lib/protocol/secret-placeholders';

/**
 * The curl-like face of `clawkeep agent fetch` (issue 18): turning arguments into an http.request, and the
 * response the device sealed back into what the agent reads. Kept apart from agent.ts so both can be tested
 * without a process; nothing here sees a secret's value (the device substitutes and redacts).
 */

export interface FetchArgs {
  url: string;
  /** `-X` / `--request`. */
  request?: string;
  /** `-H 'Name: value'`, in order. */
  header?: string[];
  /** `-d` / `--data`: text, or `@FILE` for a file's text. */
  data?: string;
  /** `--data-binary`: `@FILE` for a file's bytes, or literal text sent as bytes. */
  'data-binary'?: string;
  reason?: string;
}

/**
 * Builds the request from curl-style arguments: GET, or POST when a body is given (as curl does); header names
 * lower-cased; a URL without placeholders written in its normal form (so `https://api.example.com` works as
 * curl's would); nothing added that the agent did not write, so the card shows exactly the call.
 * @param readFile - reads `@FILE` (injected: tests give files without a disk).
 * @throws UsageError for arguments that do not make one request.
 */
export function parseFetchRequest(args: FetchArgs, readFile: (file: string) => Uint8Array): HttpRequestInput {
  const method = (args.request ?? (args.data !== undefined || args['data-binary'] !== undefined ? 'POST' : 'GET'))
    .toUpperCase()
    .trim();
  if (!(HTTP_METHODS as readonly string[]).includes(method))
    throw new UsageError(`-X must be one of ${HTTP_METHODS.join(', ')}`);
  if (args.data !== undefined && args['data-binary'] !== undefined)
    throw new UsageError('give at most one of --data or --data-binary');
  const headers = (args.header ?? []).map(parseHeader);
  const seen = new Set<string>();
  for (const [name] of headers) {
    if (seen.has(name)) throw new UsageError(`-H: "${name}" is given twice`);
    seen.add(name);
  }
  let body: HttpRequestInput['body'];
  if (args.data !== undefined) {
    const text = args.data.startsWith('@') ? fileText(readFile, args.data.slice(1)) : args.data;
    body = { text };
  } else if (args['data-binary'] !== undefined) {
    const raw = args['data-binary'];
    body = {
      base64: toBase64(raw.startsWith('@') ? fileBytes(readFile, raw.slice(1)) : new TextEncoder().encode(raw)),
    };
  }
  if (body && (method === 'GET' || method === 'HEAD')) throw new UsageError(`a ${method} request has no body`);
  return {
    method: method as HttpMethod,
    url: normalUrl(args.url),
    ...(headers.length > 0 ? { headers } : {}),
    ...(body ? { body } : {}),
    ...(args.reason ? { reason: args.reason } : {}),
  };
}

/** `Name: value` → `[name, value]`: the name lower-cased (RFC 9110 §5.1), spaces around the value dropped as curl does. */
function parseHeader(line: string): [string, string] {
  const colon = line.indexOf(':');
  const name = colon < 0 ? '' : line.slice(0, colon).trim();
  if (name === '') throw new UsageError("-H must look like 'Name: value'");
  return [name.replace(/[A-Z]/g, (c) => c.toLowerCase()), line.slice(colon + 1).trim()];
}

/**
 * The URL as the WHATWG parser writes it, when it holds no placeholder: the payload must be in that form (the
 * address the person reads is the address called). With a placeholder it is sent as written, for the parser would
 * percent-encode the braces; parseHttpRequest then says what the normal form is.
 */
function normalUrl(url: string): string {
  if (url.includes(PLACEHOLDER_OPEN)) return url;
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

function fileBytes(readFile: (file: string) => Uint8Array, file: string): Uint8Array {
  if (file === '') throw new UsageError('give a file name after @');
  try {
    return readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function fileText(readFile: (file: string) => Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(fileBytes(readFile, file));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--data @${file} is not UTF-8 text: use --data-binary @${file}`);
  }
}

/** Content types whose bytes are text to an agent (JSON, XML, forms, scripts and text/*). */
export function isTextualType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    /^application\/(?:json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql|yaml|x-yaml|toml)$/.test(type) ||
    /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+\+(?:json|xml|yaml)$/.test(type)
  );
}

/** What `--json` prints for a response: body as text when it is UTF-8 of a textual type, else as base64. */
export interface FetchJson {
  status: number;
  headers: [string, string][];
  body?: string;
  body_base64?: string;
  redacted: HttpResponseOutcome['redacted'];
  withheld: boolean;
  redirect: HttpResponseOutcome['redirect'];
}

export function fetchJson(outcome: HttpResponseOutcome, body: Uint8Array): FetchJson {
  const type = outcome.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  let text: string | undefined;
  if (isTextualType(type)) {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
    } catch {
      text = undefined;
    }
  }
  return {
    status: outcome.status,
    headers: outcome.headers.map(([n, v]) => [n, v]),
    ...(text !== undefined ? { body: text } : { body_base64: outcome.body }),
    redacted: [...outcome.redacted],
    withheld: outcome.withheld,
    redirect: outcome.redirect,
  };
}

/**
 * The lines for stderr beside a raw body: what the device did to the answer that the bytes alone do not say.
 * Each names no secret (the device cut them) and no header value.
 */
export function fetchNotes(outcome: HttpResponseOutcome): string[] {
  const notes: string[] = [];
  if (outcome.redacted.length > 0)
    notes.push(
      `clawkeep: the response reflected a secret; the device cut it (${outcome.redacted.join(', ')}) before sealing it to you.`,
    );
  if (outcome.withheld)
    notes.push(
      'clawkeep: the device withheld the response body: it may reflect a secret in a form that could not be cut for certain.',
    );
  if (outcome.redirect)
    notes.push(
      `clawkeep: HTTP ${outcome.status} redirect${outcome.redirect.location ? ` to ${outcome.redirect.location}` : ''} was not followed (a secret never goes on to another address): fetch it yourself if you need it.`,
    );
  return notes;
}

import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { isNormalPath } from '../lib/protocol/request-signing';
import { BOX_OVERHEAD } from '../lib/protocol/sealed-box';
import { SEALED_RESPONSE_MAX_PLAINTEXT } from '../lib/protocol/sealed-response';
import { HubError } from './errors';
import type { HubLogger } from './logger';
import type { HubEnv } from './middleware';

/**
 * Request bodies: how large each route's may be, when it is read, and how much memory all unread-but-arriving
 * bodies may hold together (issue 16, "Holds under load and abuse"; docs/protocol.md §8 "Bodies").
 *
 * Nothing reads a body up front. The caps below are enforced before a byte is read (a declared Content-Length over
 * the cap is a 413 at once) and again while streaming (a chunked body is counted and cut at the cap). A signed
 * route reads its body only after everything the headers alone can show was checked (hub/auth.ts: well-formed
 * ck-* headers, timestamp in the window, a known key); the signature covers the body's hash, so it is verified once
 * the body is in. Every body being read counts against one of two budgets (BodyBudget), one for unauthenticated
 * routes and one for signed ones, so a crowd of stalled uploads holds a bounded amount of memory, never
 * "250 × the largest cap" (the 1.1 GB of the issue).
 */

/** Who may send a body to a route: anyone (registration, enrolment, pairing creation) or a signed caller. */
export type BodyAccess = 'open' | 'signed';

export interface BodyRule {
  method: string;
  /** A route path, `:name` for one segment. */
  path: string;
  maxBytes: number;
  access: BodyAccess;
}

/** Largest request body of a signed route unless BODY_RULES says otherwise; wire messages are small JSON. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The routes whose bodies differ from "signed, MAX_BODY_BYTES". Unauthenticated routes get small caps: an enrolment
 * is a code and a key, a pairing request two keys, a name and a key binding. Registration is the exception: it
 * carries a manifest of up to 64 KiB of markdown inside JSON (docs/protocol.md §8), and JSON escaping can grow it
 * up to 6× (a control character becomes `\u00XX`); the open budget keeps many of those from piling up.
 */
export const BODY_RULES: readonly BodyRule[] = [
  { method: 'POST', path: '/v1/agents', maxBytes: 6 * 64 * 1024 + 16 * 1024, access: 'open' },
  { method: 'POST', path: '/v1/accounts', maxBytes: 4 * 1024, access: 'open' },
  { method: 'POST', path: '/v1/pairings', maxBytes: 8 * 1024, access: 'open' },
  // A vault push carries up to VAULT_PUSH_MAX_BYTES of envelopes (lib/protocol/vault-sync-wire.ts), base64url-encoded.
  { method: 'POST', path: '/v1/vault', maxBytes: 4 * 1024 * 1024, access: 'signed' },
  // A decision may carry an http.request's sealed response (lib/protocol/sealed-response.ts), base64url-encoded.
  {
    method: 'POST',
    path: '/v1/intents/:id/decision',
    maxBytes: Math.ceil(((SEALED_RESPONSE_MAX_PLAINTEXT + BOX_OVERHEAD) * 4) / 3) + MAX_BODY_BYTES,
    access: 'signed',
  },
];

/** Methods that never carry a body here: any body they announce is refused (413) without being read. */
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

const matches = (template: string, path: string): boolean => {
  const a = template.split('/');
  const b = path.split('/');
  return a.length === b.length && a.every((seg, i) => seg.startsWith(':') || seg === b[i]);
};

/** The rule for a request: BODY_RULES, else 0 bytes for GET/HEAD/OPTIONS, else signed with MAX_BODY_BYTES. */
export function bodyRuleFor(method: string, path: string): { maxBytes: number; access: BodyAccess } {
  const m = method.toUpperCase();
  const rule = BODY_RULES.find((r) => r.method === m && matches(r.path, path));
  if (rule) return { maxBytes: rule.maxBytes, access: rule.access };
  return { maxBytes: BODYLESS.has(m) ? 0 : MAX_BODY_BYTES, access: 'signed' };
}

/** The body ceiling for a request (see bodyRuleFor). */
export const bodyLimitFor = (method: string, path: string): number => bodyRuleFor(method, path).maxBytes;

/**
 * Bytes of request bodies held in memory at once, for one class of route. A body takes its bytes as they arrive
 * (not its declared length: a client that declares 4 MiB and sends 8 KiB holds 8 KiB) and gives them back when its
 * request ends. The first `SMALL_BODY_BYTES` of any body may use the whole budget; bytes beyond that only
 * `largeShare` of it, so stalled large uploads can never leave the ordinary small requests without room.
 */
export class BodyBudget {
  private used = 0;
  constructor(
    readonly totalBytes: number,
    readonly largeShare: number,
  ) {}

  /** Takes `n` bytes for a body that already holds `held`; false (nothing taken) if the budget cannot cover them. */
  take(n: number, held: number): boolean {
    const ceiling = held + n <= SMALL_BODY_BYTES ? this.totalBytes : this.largeShare;
    if (this.used + n > ceiling) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used -= n;
  }

  get inUse(): number {
    return this.used;
  }
}

/** A body up to this size counts as small (see BodyBudget). */
export const SMALL_BODY_BYTES = MAX_BODY_BYTES;
/** Unauthenticated bodies held at once: e.g. 10 worst-case registrations, thousands of ordinary ones. */
export const OPEN_BODY_BUDGET = { totalBytes: 4 * 1024 * 1024, largeShare: 3 * 1024 * 1024 };
/**
 * Signed bodies held at once, read before their signature can be checked: three 4 MiB vault pushes at a time. Held
 * bytes cost the process about 2.5 times their size in RSS under a flood (test/unit/adversary/hub-abuse.test.ts:
 * +70–80 MB at 16 MiB, +100–120 MB at 32 MiB).
 */
export const SIGNED_BODY_BUDGET = { totalBytes: 16 * 1024 * 1024, largeShare: 12 * 1024 * 1024 };

interface IngressState {
  maxBytes: number;
  budget: BodyBudget;
  /** Bytes this request took from `budget`: given back when the request ends. */
  held: number;
  /** Whether the whole body was read: otherwise an error answer closes the connection (see ingress). */
  consumed: boolean;
  body?: Promise<Uint8Array>;
  logger: HubLogger;
}

export type IngressVariables = { ingress: IngressState };

/** The node request behind a Hono request when served by node-server (absent for in-process app.request). */
const incomingOf = (c: Context<HubEnv>): IncomingMessage | undefined =>
  (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;

/**
 * The request target exactly as the client sent it (path and query), which is what a request signature covers
 * (docs/protocol.md §5): from the HTTP request line when served over HTTP (origin-form; for absolute-form
 * `GET http://host/p`, the part after the authority), else from the request URL (in-process requests).
 */
export function requestTarget(c: Context<HubEnv>): string {
  const raw = incomingOf(c)?.url;
  if (raw !== undefined) {
    if (raw.startsWith('/')) return raw;
    const m = /^https?:\/\/[^/?#]*(.*)$/i.exec(raw);
    if (m) return m[1] === '' ? '/' : m[1]!;
  }
  const url = new URL(c.req.url);
  return url.pathname + url.search;
}

/**
 * The first middleware after logging: refuses a non-normal path (`//`, `.`, `..`), refuses a body announced over
 * the route's cap (or any body on GET/HEAD/OPTIONS) without reading it, and sets up readBody. When it ends, the
 * request's bytes go back to their budget. An error answer to a request whose body was not read says
 * `Connection: close` (errorResponse, leavesBodyUnread), so the rest of that body is never waited for.
 */
export function ingress(options: {
  logger: HubLogger;
  open?: BodyBudget;
  signed?: BodyBudget;
}): MiddlewareHandler<HubEnv> {
  const open = options.open ?? new BodyBudget(OPEN_BODY_BUDGET.totalBytes, OPEN_BODY_BUDGET.largeShare);
  const signed = options.signed ?? new BodyBudget(SIGNED_BODY_BUDGET.totalBytes, SIGNED_BODY_BUDGET.largeShare);
  return async (c, next) => {
    const rule = bodyRuleFor(c.req.method, c.req.path);
    const state: IngressState = {
      maxBytes: rule.maxBytes,
      budget: rule.access === 'open' ? open : signed,
      held: 0,
      // In-process requests (no node request) may stream a body without announcing it in a header.
      consumed: !(announcesBody(c.req.raw.headers) || (!incomingOf(c) && c.req.raw.body !== null)),
      logger: options.logger,
    };
    // Set first, so that errorResponse (hub/middleware.ts) sees an unread body even when a check below refuses it.
    c.set('ingress', state);
    try {
      if (!isNormalPath(requestTarget(c)))
        throw new HubError('protocol_invalid', 'The request path must not contain empty, "." or ".." segments.');
      const declared = c.req.header('content-length');
      if (declared !== undefined) {
        if (!/^\d{1,16}$/.test(declared.trim())) throw new HubError('protocol_invalid', 'Content-Length is malformed.');
        if (Number(declared) > rule.maxBytes) throw tooLarge(rule.maxBytes);
      } else if (rule.maxBytes === 0 && c.req.header('transfer-encoding') !== undefined) throw tooLarge(0);
      await next();
    } finally {
      state.budget.give(state.held);
      state.held = 0;
    }
  };
}

/**
 * Whether an error answer must close the connection: the request announced a body that was not read to its end
 * (refused by a check before the read, or cut off during it). Keeping the connection would mean reading the rest
 * of a body nobody wants, or waiting for a client that stalled.
 */
export function leavesBodyUnread(c: Context<HubEnv>): boolean {
  return (c.get('ingress') as IngressState | undefined)?.consumed === false;
}

/** Whether a request announces a body (a non-zero Content-Length, or any Transfer-Encoding). */
function announcesBody(headers: Headers): boolean {
  const length = headers.get('content-length');
  return headers.has('transfer-encoding') || (length !== null && length.trim() !== '0');
}

const tooLarge = (maxBytes: number) =>
  new HubError(
    'payload_too_large',
    maxBytes === 0 ? 'This request takes no body.' : `The request body is over ${maxBytes} bytes.`,
  );

const busy = () =>
  new HubError('rate_limited', 'The hub is receiving too many request bodies at once. Retry shortly.', {
    headers: { 'Retry-After': '1' },
  });

/**
 * The request's body, read once (later calls get the same bytes) within the route's cap and its budget.
 * @throws HubError `payload_too_large` past the cap; `rate_limited` (Retry-After: 1) when the budget is spent;
 * `protocol_invalid` when the client went away before the end of its body, which is logged as `request_aborted`
 * (not a hub failure).
 */
export function readBody(c: Context<HubEnv>): Promise<Uint8Array> {
  const state = c.get('ingress') as IngressState | undefined;
  if (!state) throw new Error('readBody: the ingress middleware is not installed');
  if (BODYLESS.has(c.req.method.toUpperCase())) return Promise.resolve(new Uint8Array(0));
  state.body ??= readWithin(c, state);
  return state.body;
}

/** Counts one arriving chunk against the cap and the budget; throws the refusal. */
function admit(state: IngressState, size: number, n: number): void {
  if (size + n > state.maxBytes) throw tooLarge(state.maxBytes);
  if (!state.budget.take(n, state.held)) throw busy();
  state.held += n;
}

async function readWithin(c: Context<HubEnv>, state: IngressState): Promise<Uint8Array> {
  const incoming = incomingOf(c);
  const chunks = incoming ? await readIncoming(c, incoming, state) : await readStream(c, state);
  state.consumed = true;
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, ch) => n + ch.length, 0));
  let offset = 0;
  for (const ch of chunks) {
    out.set(ch, offset);
    offset += ch.length;
  }
  return out;
}

const aborted = (c: Context<HubEnv>, state: IngressState, received: number, reason: string): HubError => {
  state.logger.info('request_aborted', {
    request_id: c.get('requestId') ?? null,
    method: c.req.method,
    path: c.req.path.slice(0, 256),
    received_bytes: received,
    reason,
  });
  return new HubError('protocol_invalid', 'The request body ended before it was complete.');
};

/**
 * Reads straight from node's request stream (not through a web stream, so stopping early leaves nothing queued):
 * 'data' chunks are admitted one by one; on a refusal the stream is paused and left to node-server, which
 * discards what is still in flight after the answer (Connection: close ends it).
 */
function readIncoming(c: Context<HubEnv>, incoming: IncomingMessage, state: IngressState): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const done = (err: Error | null, value?: Uint8Array[]) => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
      if (err) {
        incoming.pause();
        reject(err);
      } else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      try {
        admit(state, size, chunk.length);
      } catch (err) {
        done(err as HubError);
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => done(null, chunks);
    const onError = (err: Error) =>
      done(aborted(c, state, size, (err as NodeJS.ErrnoException).code ?? err.name ?? 'error'));
    // 'close' before 'end': the connection went away (or the server's request timeout cut it).
    const onClose = () => done(aborted(c, state, size, 'closed'));
    if (incoming.readableEnded || incoming.destroyed) {
      done(aborted(c, state, 0, 'unreadable'));
      return;
    }
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
    incoming.resume();
  });
}

/** In-process requests (app.request in tests, no node request): the same accounting over the web body stream. */
async function readStream(c: Context<HubEnv>, state: IngressState): Promise<Uint8Array[]> {
  const body = c.req.raw.body;
  if (!body) return [];
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let next: Awaited<ReturnType<typeof reader.read>>;
    try {
      next = await reader.read();
    } catch (err) {
      throw aborted(c, state, size, err instanceof Error ? err.name : 'error');
    }
    if (next.done) return chunks;
    try {
      admit(state, size, next.value.length);
    } catch (err) {
      await reader.cancel().catch(() => undefined);
      throw err;
    }
    size += next.value.length;
    chunks.push(next.value);
  }
}

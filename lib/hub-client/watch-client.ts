import * as v from 'valibot';
import { WATCH_AUTH_SCHEME, WatchSnapshotSchema, type WatchSnapshot } from '../protocol/watch-wire';
import { responseError } from './client';
import { HubClientError } from './errors';
import { readStrictJson } from '../protocol/strict-json';
import { WatchMirror } from './pending-mirror';
import { readSse } from './sse';

/**
 * The locked watcher's client (issue 15): GET /v1/watch and GET /v1/watch/events with the watch token in the
 * Authorization header (never in the URL). It can only read `{pending, intent_ids}`: the hub answers nothing else to
 * this token, and this client has no method that could send anything else. Redirects are refused, cookies never sent.
 */
export class WatchClient {
  constructor(
    private readonly hub: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch,
  ) {}

  private async get(
    path: string,
    accept: string,
    signal?: AbortSignal,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchImpl(this.hub + path, {
        method: 'GET',
        headers: { accept, authorization: `${WATCH_AUTH_SCHEME} ${this.token}`, ...extra },
        signal,
        redirect: 'error',
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      // The extension's fetch already explains a failure it knows more about (a hub origin it may no longer reach).
      if (err instanceof HubClientError) throw err;
      throw new HubClientError('hub_unreachable', `Could not reach the hub at ${this.hub}.`, { cause: err });
    }
    if (!res.ok) throw await responseError(res);
    return res;
  }

  /** GET /v1/watch: how many requests wait, and their ids. */
  async snapshot(signal?: AbortSignal): Promise<WatchSnapshot> {
    const res = await this.get('/v1/watch', 'application/json', signal);
    let value: unknown;
    try {
      value = await readStrictJson(res);
    } catch (err) {
      throw new HubClientError('hub_bad_response', 'The hub sent a malformed watch answer.', { cause: err });
    }
    return parseWatchSnapshot(value);
  }

  /**
   * GET /v1/watch/events: calls `onSnapshot` with the current state after every `watch` snapshot and `watch-changes`
   * diff (applied to `mirror`, whose resume id is sent as Last-Event-ID: a reconnect gets only what changed since)
   * until the stream ends (resolves), fails or `signal` aborts (rejects). A malformed event ends the stream with
   * `hub_bad_response`.
   */
  async events(
    onSnapshot: (snapshot: WatchSnapshot) => void,
    options: { signal?: AbortSignal; onOpen?: () => void; mirror?: WatchMirror } = {},
  ): Promise<void> {
    const mirror = options.mirror ?? new WatchMirror();
    const resume: Record<string, string> = mirror.resumeId === null ? {} : { 'last-event-id': mirror.resumeId };
    const res = await this.get('/v1/watch/events', 'text/event-stream', options.signal, resume);
    if (!res.headers.get('content-type')?.startsWith('text/event-stream') || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new HubClientError('hub_bad_response', 'The hub did not answer with an event stream.');
    }
    options.onOpen?.();
    await readSse(res.body, (event) => {
      const state = mirror.apply(event);
      if (state) onSnapshot(state);
    });
  }
}

/**
 * Checks a watch answer. A count below the number of ids is refused; the count itself is only ever shown as a number
 * on the badge ("9+" above nine) and in one sentence, so a hub lying about it can at worst make the person look.
 */
export function parseWatchSnapshot(value: unknown): WatchSnapshot {
  const result = v.safeParse(WatchSnapshotSchema, value);
  if (!result.success || result.output.pending < result.output.intent_ids.length)
    throw new HubClientError('hub_bad_response', 'The hub sent a malformed watch answer.');
  return result.output;
}

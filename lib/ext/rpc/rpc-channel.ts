import { browser } from 'wxt/browser';

/**
 * The plumbing shared by the background's page-facing services (hub, OpenClaw): a named channel of plain-JSON
 * requests `{channel, method, args}` answered `{ok, value} | {ok: false, error: {code, message}}`, served only to
 * our own pages, and a "changed" broadcast pages subscribe to.
 */
export type ChannelResponse = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };

export interface ChannelRequest<M extends string> {
  channel: string;
  method: M;
  args: Record<string, unknown> | null;
}

export function isChannelRequest<M extends string>(message: unknown, channel: string, methods: readonly M[]): message is ChannelRequest<M> {
  const m = message as ChannelRequest<M> | null;
  return !!m && m.channel === channel && (methods as readonly string[]).includes(m.method);
}

/** A page-side caller for one channel; failures become `makeError(code, message)` (the service's typed error). */
export function channelCaller<M extends string>(channel: string, makeError: (code: string, message: string, cause?: unknown) => Error) {
  return async function call<T>(method: M, args: Record<string, unknown> | null = null): Promise<T> {
    let response: ChannelResponse | undefined;
    try {
      response = await browser.runtime.sendMessage({ channel, method, args });
    } catch (err) {
      throw makeError('rpc_failed', 'Could not reach the Clawkeep background. Reload the extension and try again.', err);
    }
    if (!response) throw makeError('rpc_failed', 'The Clawkeep background did not answer.');
    if (!response.ok) throw makeError(response.error.code, response.error.message);
    return response.value as T;
  };
}

/** Calls `listener` whenever the background broadcasts a message `isEvent` accepts; returns the unsubscribe. */
export function subscribeTo(isEvent: (message: unknown) => boolean, listener: () => void): () => void {
  const onMessage = (message: unknown) => {
    if (isEvent(message)) listener();
  };
  browser.runtime.onMessage.addListener(onMessage);
  return () => browser.runtime.onMessage.removeListener(onMessage);
}

/**
 * Serves one channel in the background: requests from anything but our own pages get `forbidden`; the rest go to
 * `handle` (which never throws: it returns a ChannelResponse).
 */
export function serveChannel<M extends string>(
  channel: string,
  methods: readonly M[],
  isTrustedSender: (sender: { id?: string; url?: string }) => boolean,
  forbiddenMessage: string,
  handle: (method: M, args: Record<string, unknown> | null) => Promise<ChannelResponse>,
): void {
  browser.runtime.onMessage.addListener((message: unknown, sender, sendResponse) => {
    if (!isChannelRequest(message, channel, methods)) return undefined;
    if (!isTrustedSender(sender)) {
      sendResponse({ ok: false, error: { code: 'forbidden', message: forbiddenMessage } });
      return true;
    }
    // sendResponse + `return true` is the form both Chromium and WXT's fake browser honour.
    void handle(message.method, message.args).then(sendResponse);
    return true;
  });
}

/** A storage area (chrome.storage.local / .session) as the services' small get / set / remove port. */
export function storageArea(area: 'local' | 'session') {
  return {
    get: (key: string) => browser.storage[area].get(key),
    set: (items: Record<string, unknown>) => browser.storage[area].set(items),
    remove: (key: string) => browser.storage[area].remove(key),
  };
}

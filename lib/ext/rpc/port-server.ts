import { browser } from 'wxt/browser';
import { errorToWire, RPC_PENDING_CHANNEL, type PortRequest, type ServiceResponse } from './wire';

/**
 * The background's end of the port transport (port-client.ts is the page's): in Chromium the MV3 background is a
 * service worker, and a page of the extension can post a call to it with a MessagePort for the answer. Both travel
 * by structured clone, which carries a 10,000-item list in about a third of the time runtime messaging takes
 * (Chrome converts every runtime message to JSON and back; measured 30 vs 60-80 ms for 10,000 summaries, issue 17).
 * Elsewhere (Firefox's event page, Node) there is no service worker and pages use runtime messaging only.
 */

/** The parts of a ServiceWorkerGlobalScope this uses (the DOM lib this code is checked with does not declare it). */
export interface PortScope {
  addEventListener(type: 'message', listener: (event: PortMessageEvent) => void): void;
}

/** An ExtendableMessageEvent as far as it is read here. */
export interface PortMessageEvent {
  data: unknown;
  ports: readonly MessagePort[];
  /** The posting client: a window (an extension page) or a worker; its `url` says which. */
  source: { url?: string } | null;
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * Per scope (one in the background: its service worker), the ids of the calls being answered: what the liveness
 * question asks about. Shared by every service served there; the question is answered once per scope.
 */
const pendingByScope = new WeakMap<PortScope, Set<string>>();

function pendingCalls(scope: PortScope): Set<string> {
  let pending = pendingByScope.get(scope);
  if (!pending) {
    const calls = (pending = new Set());
    pendingByScope.set(scope, calls);
    // Says only whether a call of that (random, unguessable) id is being answered: nothing to keep from any sender.
    browser.runtime.onMessage.addListener((message: unknown, _sender, sendResponse) => {
      const m = message as { channel?: unknown; id?: unknown } | null;
      if (!m || typeof m !== 'object' || m.channel !== RPC_PENDING_CHANNEL) return undefined;
      sendResponse(typeof m.id === 'string' && calls.has(m.id));
      return true;
    });
  }
  return pending;
}

/** This context's service worker scope, or null outside a service worker. */
function serviceWorkerScope(): PortScope | null {
  const Scope = (globalThis as { ServiceWorkerGlobalScope?: abstract new () => unknown }).ServiceWorkerGlobalScope;
  return Scope && globalThis instanceof Scope ? globalThis : null;
}

function answer(port: MessagePort, response: ServiceResponse): void {
  try {
    port.postMessage(response);
  } catch {
    // A value structured clone cannot carry is a bug in the service, reported as such (never its text).
    port.postMessage({ ok: false, error: errorToWire(new Error('uncloneable result')) } satisfies ServiceResponse);
  }
}

/**
 * Serves one declaration's calls posted to the service worker. Only pages of this extension may call: `trusted`
 * gets the posting client's URL, and anything else gets `refused` (the answer runtime messaging gives too).
 * Structured clone never delivers a message from another origin, so this is the same check runtime messaging makes,
 * kept as a second wall. `handle` is the service's dispatch. Listeners are added
 * synchronously, as for runtime messages, so a call that wakes a stopped worker is delivered.
 */
export function servePortRequests(
  channel: string,
  refused: ServiceResponse,
  handle: (request: PortRequest) => Promise<ServiceResponse>,
  trusted: (url: string | undefined) => boolean,
  scope: PortScope | null = serviceWorkerScope(),
): void {
  if (!scope) return;
  const pending = pendingCalls(scope);
  scope.addEventListener('message', (event) => {
    const request = event.data as Partial<PortRequest> | null;
    if (!request || typeof request !== 'object' || request.channel !== channel) return;
    const port = event.ports[0];
    if (!port) return;
    if (!trusted(event.source?.url)) {
      answer(port, refused);
      return;
    }
    const id = typeof request.id === 'string' ? request.id : null;
    if (id) pending.add(id);
    const done = handle(request as PortRequest)
      .then((response) => answer(port, response))
      .finally(() => {
        if (id) pending.delete(id);
        port.close();
      });
    // The worker stays up until the answer is posted.
    event.waitUntil(done);
  });
}

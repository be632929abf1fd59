import { browser } from 'wxt/browser';
import { RPC_PENDING_CHANNEL, type PortRequest, type ServiceRequest, type ServiceResponse } from './wire';

/**
 * The page's end of the port transport (port-server.ts is the background's): a call posted to the extension's
 * service worker with a MessagePort for its answer, structured-cloned both ways. Chromium only; where the page finds
 * no service worker of its own extension (Firefox, whose background is an event page; tests) it gets null and the
 * proxy uses runtime messaging.
 */

/** How often a page waiting for an answer asks whether the worker still holds its call. */
export const LIVENESS_MS = 2_000;

/**
 * The active service worker of this page's registration. Looked up once per page, except while the registration
 * exists but has no active worker yet (a page opened as the extension starts): then each call looks again, and
 * uses runtime messaging meanwhile. No registration at all (Firefox) is final.
 */
let worker: Promise<Pick<ServiceWorker, 'postMessage'> | null> | null = null;

function backgroundWorker(): Promise<Pick<ServiceWorker, 'postMessage'> | null> {
  worker ??= (async () => {
    const container = (globalThis as { navigator?: { serviceWorker?: ServiceWorkerContainer } }).navigator
      ?.serviceWorker;
    if (typeof container?.getRegistration !== 'function') return null;
    try {
      const registration = await container.getRegistration();
      if (registration && !registration.active) worker = null; // not active yet: ask again on the next call
      return registration?.active ?? null;
    } catch {
      return null;
    }
  })();
  return worker;
}

/** Why a port call ended without an answer: the proxy reports it as it reports runtime messaging's failures. */
export class PortDroppedError extends Error {
  constructor() {
    super('The background stopped before it answered.');
    this.name = 'PortDroppedError';
  }
}

/**
 * Posts `request` to the worker and resolves with its answer. A MessagePort says nothing when the worker behind it
 * stops (runtime messaging rejects instead), so while the answer is outstanding the page asks every
 * {@link LIVENESS_MS} over runtime messaging whether the worker still holds the call; two answers of "no" in a row
 * (the second leaves time for an answer already on its way), or no answer at all, end the call with
 * {@link PortDroppedError}.
 */
function callOverPort(target: Pick<ServiceWorker, 'postMessage'>, request: ServiceRequest): Promise<ServiceResponse> {
  return new Promise((resolve, reject) => {
    const { port1, port2 } = new MessageChannel();
    const message: PortRequest = { ...request, id: crypto.randomUUID() };
    let misses = 0;
    let settled = false;
    const settle = (done: () => void): void => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      port1.close();
      done();
    };
    const timer = setInterval(() => {
      Promise.resolve(browser.runtime.sendMessage({ channel: RPC_PENDING_CHANNEL, id: message.id })).then(
        (held: unknown) => {
          misses = held === true ? 0 : misses + 1;
          if (misses >= 2) settle(() => reject(new PortDroppedError()));
        },
        () => settle(() => reject(new PortDroppedError())),
      );
    }, LIVENESS_MS);
    port1.onmessage = (event) => settle(() => resolve(event.data as ServiceResponse));
    try {
      target.postMessage(message, [port2]);
    } catch (err) {
      settle(() => reject(err));
    }
  });
}

/**
 * The answer to `request` over the port transport, or null when this page has no service worker to post to (the
 * caller then uses runtime messaging).
 */
export async function sendOverPort(request: ServiceRequest): Promise<ServiceResponse | null> {
  const target = await backgroundWorker();
  return target ? callOverPort(target, request) : null;
}

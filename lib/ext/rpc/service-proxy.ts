import { browser } from 'wxt/browser';
import { ClawkeepError } from '../../errors';
import type { ServiceApi, ServiceDeclaration } from './service';
import {
  decodeWire,
  encodeWire,
  errorFromWire,
  type ServiceEventMessage,
  type ServiceRequest,
  type ServiceResponse,
} from './wire';
import { PortDroppedError, sendOverPort } from './port-client';

/**
 * Sends one request and returns its answer, values decoded. Chromium: posted to the service worker and
 * structured-cloned (port-client.ts). Elsewhere, or where the page finds no worker to post to: runtime messaging,
 * values as JSON with bytes as `{$bytes}` (wire.ts).
 */
async function exchange(request: ServiceRequest): Promise<ServiceResponse> {
  let response: ServiceResponse | undefined;
  try {
    const overPort = await sendOverPort(request);
    if (overPort) return overPort;
    response = await browser.runtime.sendMessage({ ...request, args: encodeWire(request.args) });
  } catch (err) {
    // A worker that stopped in the middle of a call starts again on the next one: asking again is enough.
    if (err instanceof PortDroppedError)
      throw new ClawkeepError('rpc_failed', 'The Clawkeep background stopped before it answered. Try again.', {
        cause: err,
      });
    throw new ClawkeepError(
      'rpc_failed',
      'Could not reach the Clawkeep background. Reload the extension and try again.',
      { cause: err },
    );
  }
  if (!response) throw new ClawkeepError('rpc_failed', 'The Clawkeep background did not answer.');
  return response.ok ? { ok: true, value: decodeWire(response.value) } : response;
}

/** Sends one request and returns its value, or throws the revived typed error (wire.ts). */
async function call(declaration: ServiceDeclaration, method: string, args: unknown[]): Promise<unknown> {
  // A left-out trailing argument is left out on the wire too (JSON would turn `undefined` into null).
  const sent = [...args];
  while (sent.length > 0 && sent[sent.length - 1] === undefined) sent.pop();
  const response = await exchange({ channel: declaration.channel, method, args: sent });
  if (!response.ok) throw errorFromWire(response.error);
  return response.value;
}

/**
 * The page side of a declared service: an object with one async method per declared method (each sends
 * `{channel, method, args}` to the background) and, when the service announces changes, `subscribe`.
 */
export function createServiceProxy<D extends ServiceDeclaration>(declaration: D): ServiceApi<D> {
  const api: Record<string, unknown> = {};
  for (const method of Object.keys(declaration.methods))
    api[method] = (...args: unknown[]) => call(declaration, method, args);
  const events = declaration.events;
  if (events) {
    api.subscribe = (listener: (event: unknown) => void) => {
      const onMessage = (message: unknown) => {
        const m = message as Partial<ServiceEventMessage> | null;
        if (m && typeof m === 'object' && m.channel === events.channel && 'event' in m) listener(m.event);
      };
      browser.runtime.onMessage.addListener(onMessage);
      return () => browser.runtime.onMessage.removeListener(onMessage);
    };
  }
  return api as ServiceApi<D>;
}

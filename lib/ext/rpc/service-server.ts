import * as v from 'valibot';
import { browser } from 'wxt/browser';
import { ClawkeepError } from '../../errors';
import type { EventOf, ServiceDeclaration, ServiceImpl } from './service';
import {
  decodeWire,
  encodeWire,
  errorToWire,
  type ServiceEventMessage,
  type ServiceRequest,
  type ServiceResponse,
} from './wire';
import { servePortRequests, type PortScope } from './port-server';

/** Who sent a runtime message, as the browser reports it. */
export interface MessageSender {
  id?: string;
  url?: string;
}

/** Only our own extension pages may call a service: no content scripts, no web pages, no other extensions. */
export function isTrustedSender(sender: MessageSender): boolean {
  if (sender.id !== browser.runtime.id || !sender.url) return false;
  return sender.url.startsWith(browser.runtime.getURL('/'));
}

/** The arguments' schema of every method, built once per declaration. */
const argSchemas = new WeakMap<ServiceDeclaration, Map<string, v.GenericSchema<unknown, unknown[]>>>();

function argsSchema(declaration: ServiceDeclaration, method: string): v.GenericSchema<unknown, unknown[]> {
  let schemas = argSchemas.get(declaration);
  if (!schemas) {
    schemas = new Map(Object.entries(declaration.methods).map(([name, spec]) => [name, v.strictTuple([...spec.args])]));
    argSchemas.set(declaration, schemas);
  }
  return schemas.get(method)!;
}

/**
 * Why the arguments were refused, for a person and a developer: which argument, where in it, and what was expected.
 * Never the value received (it could be a key or a secret), so valibot's own messages are not used.
 */
function describeIssue(declaration: ServiceDeclaration, method: string, issue: v.BaseIssue<unknown>): string {
  const keys = (issue.path ?? []).map((item) => String(item.key));
  const where =
    keys.length === 0
      ? 'the arguments'
      : `argument ${Number(keys[0]) + 1}${keys.length > 1 ? ` (${keys.slice(1).join('.')})` : ''}`;
  // A `v.custom` check carries the message its declaration wrote (service-args.ts); valibot's own messages are not used.
  const what =
    issue.type === 'strict_tuple'
      ? 'is one too many'
      : issue.type === 'custom'
        ? `must be ${issue.message}`
        : `must be ${issue.expected ?? 'valid'}`;
  return `Invalid request to ${declaration.name} (${method}): ${where} ${what}.`;
}

const METHOD_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/**
 * How a request's values travel: `json` over runtime messaging (bytes as `{$bytes}`, wire.ts), `clone` over a
 * MessagePort (structured clone: bytes as they are, nothing to encode).
 */
export type WireCodec = 'json' | 'clone';

/**
 * Runs one request against the service: the method must be declared (own property, never a prototype's), the
 * arguments must pass its schemas, and whatever happens the answer is a {@link ServiceResponse} (never a throw).
 */
export async function dispatch<D extends ServiceDeclaration>(
  declaration: D,
  impl: ServiceImpl<D>,
  method: unknown,
  args: unknown,
  codec: WireCodec = 'json',
): Promise<ServiceResponse> {
  try {
    if (typeof method !== 'string' || !Object.hasOwn(declaration.methods, method)) {
      const named = typeof method === 'string' && METHOD_NAME.test(method) ? ` "${method}"` : '';
      throw new ClawkeepError('rpc_unknown_method', `${declaration.name} has no method${named}.`);
    }
    const parsed = v.safeParse(
      argsSchema(declaration, method),
      codec === 'json' ? decodeWire(args ?? []) : (args ?? []),
    );
    if (!parsed.success)
      throw new ClawkeepError('rpc_invalid_args', describeIssue(declaration, method, parsed.issues[0]));
    const fn = (impl as Record<string, (...a: unknown[]) => unknown>)[method]!;
    const value = await fn.apply(impl, parsed.output);
    return { ok: true, value: codec === 'json' ? encodeWire(value ?? null) : (value ?? null) };
  } catch (err) {
    return { ok: false, error: errorToWire(err) };
  }
}

/**
 * Serves a declared service in the background, to runtime messages (JSON) and, where the background is a service
 * worker (Chromium), to calls posted to it with a port (structured clone, port-server.ts). Requests from anything
 * but our own pages get `forbidden`; the rest go through {@link dispatch}. The listeners are registered
 * synchronously, as MV3 requires, so a message that wakes a stopped worker is delivered. Returns `broadcast`, which tells every open page about a change (the proxy's
 * `subscribe`); no page being open is normal.
 */
export function serveService<D extends ServiceDeclaration>(
  declaration: D,
  impl: ServiceImpl<D>,
  options: {
    isTrustedSender?: (sender: MessageSender) => boolean;
    /** Where pages post calls with a port (port-server.ts): the service worker's scope unless given (tests). */
    portScope?: PortScope | null;
  } = {},
): { broadcast(event: EventOf<D>): void } {
  const trusted = options.isTrustedSender ?? isTrustedSender;
  // The one answer to a caller that is not one of our pages, on either transport.
  const refused: ServiceResponse = {
    ok: false,
    error: errorToWire(new ClawkeepError('forbidden', `Only Clawkeep pages may use ${declaration.name}.`)),
  };
  browser.runtime.onMessage.addListener((message: unknown, sender, sendResponse) => {
    const request = message as Partial<ServiceRequest> | null;
    if (!request || typeof request !== 'object' || request.channel !== declaration.channel) return undefined;
    if (!trusted(sender)) {
      sendResponse(refused);
      return true;
    }
    // sendResponse + `return true` is the form both Chromium and WXT's fake browser honour.
    void dispatch(declaration, impl, request.method, request.args).then(sendResponse);
    return true;
  });
  servePortRequests(
    declaration.channel,
    refused,
    (request) => dispatch(declaration, impl, request.method, request.args, 'clone'),
    (url) => trusted({ id: browser.runtime.id, ...(url === undefined ? {} : { url }) }),
    options.portScope,
  );
  return { broadcast: broadcaster(declaration) };
}

/**
 * Tells every open page (the proxy's `subscribe`) about a change of a declared service: `{channel, event}` on the
 * declaration's event channel. No page being open is normal: nobody to tell.
 */
export function broadcaster<D extends ServiceDeclaration>(declaration: D): (event: EventOf<D>) => void {
  return (event) => {
    if (!declaration.events) return;
    // `event: null` for a bare "changed" (JSON would drop an undefined field).
    const message: ServiceEventMessage<EventOf<D> | null> = {
      channel: declaration.events.channel,
      event: event ?? null,
    };
    Promise.resolve(browser.runtime.sendMessage(message)).catch(() => {});
  };
}

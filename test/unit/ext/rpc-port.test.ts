// The port transport (lib/ext/rpc/port-client.ts, port-server.ts): in Chromium a page posts its call to the
// extension's service worker with a MessagePort for the answer, structured-cloned both ways. Here the worker's scope
// is an object that hands each posted message to the server's listener the way a ServiceWorkerGlobalScope does
// (data cloned, the transferred port, the posting client's URL), and the ports are Node's real MessageChannel ports.
import * as v from 'valibot';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { browser } from 'wxt/browser';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { ClawkeepError } from '../../../lib/errors';
import type { PortMessageEvent, PortScope } from '../../../lib/ext/rpc/port-server';
import { defineService, method, type ServiceImpl } from '../../../lib/ext/rpc/service';
import { RPC_PENDING_CHANNEL, type PortRequest } from '../../../lib/ext/rpc/wire';
import { HubClientError } from '../../../lib/hub-client/errors';

const PORTED = defineService({
  channel: 'test.ported.rpc',
  name: 'the ported service',
  methods: {
    flip: method(v.object({ data: v.instance(Uint8Array) })).returns<{ data: Uint8Array; at: number }>(),
    held: method().returns<string>(),
    hub: method().returns<never>(),
    uncloneable: method().returns<unknown>(),
  },
});

class Ported implements ServiceImpl<typeof PORTED> {
  release: (value: string) => void = () => {};

  flip({ data }: { data: Uint8Array }) {
    return { data: data.map((b) => b ^ 0xff), at: 7 };
  }

  held(): Promise<string> {
    return new Promise((resolve) => (this.release = resolve));
  }

  hub(): never {
    throw new HubClientError('not_enrolled', 'Enroll this device with the hub first.', { status: 403 });
  }

  uncloneable(): unknown {
    return { call: () => 'functions do not clone' };
  }
}

/** What the page posts to, and where the server listens: one fake service worker. */
class FakeWorker implements PortScope {
  private readonly listeners: ((event: PortMessageEvent) => void)[] = [];
  /** The URL of the client posting (an extension page unless a test says otherwise). */
  sourceUrl = browser.runtime.getURL('/popup.html');
  /** When false, posted messages vanish: a worker that stopped with the call. */
  delivering = true;
  readonly posted: PortRequest[] = [];

  addEventListener(_type: 'message', listener: (event: PortMessageEvent) => void): void {
    this.listeners.push(listener);
  }

  postMessage(message: unknown, transfer: Transferable[]): void {
    const data = structuredClone(message) as PortRequest;
    this.posted.push(data);
    if (!this.delivering) return;
    const event: PortMessageEvent = {
      data,
      ports: transfer as MessagePort[],
      source: { url: this.sourceUrl },
      waitUntil: () => {},
    };
    for (const listener of this.listeners) listener(event);
  }
}

/** A fresh worker per test (fakeBrowser.reset drops the runtime listeners a worker's scope registered once). */
let worker = new FakeWorker();
let serveService: typeof import('../../../lib/ext/rpc/service-server').serveService;
let createServiceProxy: typeof import('../../../lib/ext/rpc/service-proxy').createServiceProxy;

beforeAll(async () => {
  // The page finds its extension's service worker through navigator.serviceWorker, as an extension page does.
  // The page looks its worker up once; it posts to whichever worker the current test started.
  const active = { postMessage: (message: unknown, transfer: Transferable[]) => worker.postMessage(message, transfer) };
  vi.stubGlobal('navigator', { serviceWorker: { getRegistration: async () => ({ active }) } });
  ({ serveService } = await import('../../../lib/ext/rpc/service-server'));
  ({ createServiceProxy } = await import('../../../lib/ext/rpc/service-proxy'));
});

describe('port transport: page → service worker → page', () => {
  let ported: Ported;
  beforeEach(() => {
    fakeBrowser.reset();
    ported = new Ported();
    worker = new FakeWorker();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a call travels over the port, bytes as bytes, and runtime messaging is not used', async () => {
    serveService(PORTED, ported, { portScope: worker });
    const sendMessage = vi.spyOn(browser.runtime, 'sendMessage');
    const api = createServiceProxy(PORTED);
    const result = await api.flip({ data: Uint8Array.of(0, 1, 254) });
    expect(result.data).toBeInstanceOf(Uint8Array);
    expect(result).toEqual({ data: Uint8Array.of(255, 254, 1), at: 7 });
    // The argument crossed as bytes, not as `{$bytes}`.
    expect(worker.posted.at(-1)!.args).toEqual([{ data: Uint8Array.of(0, 1, 254) }]);
    expect(sendMessage).not.toHaveBeenCalled();
  });

  it('refuses a call posted by anything but a page of this extension', async () => {
    serveService(PORTED, ported, { portScope: worker });
    const api = createServiceProxy(PORTED);
    worker.sourceUrl = 'https://evil.example/page.html';
    const err = await api.flip({ data: Uint8Array.of(1) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClawkeepError);
    expect((err as ClawkeepError).code).toBe('forbidden');
  });

  it('errors revive as their family, and a result structured clone cannot carry is an internal error, not a hang', async () => {
    serveService(PORTED, ported, { portScope: worker });
    const api = createServiceProxy(PORTED);
    const hubErr = await api.hub().catch((e: unknown) => e);
    expect(hubErr).toBeInstanceOf(HubClientError);
    expect((hubErr as HubClientError).code).toBe('not_enrolled');
    const internal = await api.uncloneable().catch((e: unknown) => e);
    expect(internal).toBeInstanceOf(ClawkeepError);
    expect((internal as ClawkeepError).code).toBe('internal');
  });

  it('the worker answers the liveness question: yes while it holds the call, no once it answered', async () => {
    serveService(PORTED, ported, { portScope: worker });
    const api = createServiceProxy(PORTED);
    const call = api.held();
    await vi.waitFor(() => expect(worker.posted.at(-1)?.method).toBe('held'));
    const id = worker.posted.at(-1)!.id;
    await expect(browser.runtime.sendMessage({ channel: RPC_PENDING_CHANNEL, id })).resolves.toBe(true);
    await expect(browser.runtime.sendMessage({ channel: RPC_PENDING_CHANNEL, id: 'other' })).resolves.toBe(false);
    ported.release('done');
    await expect(call).resolves.toBe('done');
    await expect(browser.runtime.sendMessage({ channel: RPC_PENDING_CHANNEL, id })).resolves.toBe(false);
  });

  it('a call the worker stopped with ends in rpc_failed after two "no" answers, instead of waiting forever', async () => {
    serveService(PORTED, ported, { portScope: worker });
    const api = createServiceProxy(PORTED);
    const { LIVENESS_MS } = await import('../../../lib/ext/rpc/port-client');
    vi.useFakeTimers();
    worker.delivering = false; // the message never reaches a listener: nothing holds the call
    let settled: unknown = 'pending';
    const call = api.held().then(
      () => 'resolved',
      (e: unknown) => e,
    );
    void call.then((s) => (settled = s));
    await vi.advanceTimersByTimeAsync(LIVENESS_MS);
    expect(settled).toBe('pending'); // one "no" may be an answer still on its way
    await vi.advanceTimersByTimeAsync(LIVENESS_MS);
    const err = await call;
    expect(err).toBeInstanceOf(ClawkeepError);
    expect((err as ClawkeepError).code).toBe('rpc_failed');
    expect((err as ClawkeepError).message).toBe('The Clawkeep background stopped before it answered. Try again.');
  });

  it('a call the worker still holds keeps waiting, however long it takes', async () => {
    serveService(PORTED, ported, { portScope: worker });
    const api = createServiceProxy(PORTED);
    const { LIVENESS_MS } = await import('../../../lib/ext/rpc/port-client');
    vi.useFakeTimers();
    let settled: unknown = 'pending';
    const call = api.held();
    void call.then((s) => (settled = s));
    await vi.advanceTimersByTimeAsync(LIVENESS_MS * 10);
    expect(settled).toBe('pending');
    ported.release('late');
    await vi.advanceTimersByTimeAsync(0);
    await expect(call).resolves.toBe('late');
  });
});

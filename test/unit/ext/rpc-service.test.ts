// The one typed service boundary (lib/ext/rpc/): a declaration, its generated page proxy and its background server,
// run through WXT's fake browser exactly as a page and the background talk.
import * as v from 'valibot';
import { beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { browser } from 'wxt/browser';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { ClawkeepError, WrongPassphraseError } from '../../../lib/errors';
import { createServiceProxy } from '../../../lib/ext/rpc/service-proxy';
import { dispatch, serveService } from '../../../lib/ext/rpc/service-server';
import { defineService, events, method, type ServiceApi, type ServiceImpl } from '../../../lib/ext/rpc/service';
import { errorFromWire, errorToWire } from '../../../lib/ext/rpc/wire';
import { HubClientError } from '../../../lib/hub-client/errors';
import { OpenClawError } from '../../../lib/openclaw/errors';
import { SyncError } from '../../../lib/protocol/sync-errors';
import { randomBytes } from '../../../lib/bytes';
import { implementByDispatch } from '../../../lib/ext/rpc/service';
import { decodeWire, encodeWire } from '../../../lib/ext/rpc/wire';
import { Keyholder } from '../../../lib/ext/vault/keyholder';
import { VAULT_SERVICE } from '../../../lib/ext/vault/vault-api';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import { FAST_KDF, kekFor, uniqueDbName } from '../vault/helpers';

const ECHO = defineService({
  channel: 'test.echo.rpc',
  name: 'the echo service',
  events: events<{ n: number }>('test.echo.event'),
  methods: {
    greet: method(v.string(), v.optional(v.boolean())).returns<string>(),
    measure: method(v.object({ data: v.instance(Uint8Array), label: v.string() })).returns<{
      data: Uint8Array;
      length: number;
    }>(),
    fail: method(v.picklist(['clawkeep', 'wrong_passphrase', 'hub', 'openclaw', 'sync', 'bug'])).returns<never>(),
    count: method().returns<number>(),
  },
});

/** A real implementation: tsc checks it against the declaration (`implements`). */
class Echo implements ServiceImpl<typeof ECHO> {
  calls = 0;

  greet(name: string, loud = false): string {
    this.calls++;
    return loud ? `HELLO ${name.toUpperCase()}` : `hello ${name}`;
  }

  async measure({ data }: { data: Uint8Array; label: string }) {
    this.calls++;
    return { data: data.map((b) => b ^ 0xff), length: data.length };
  }

  fail(kind: 'clawkeep' | 'wrong_passphrase' | 'hub' | 'openclaw' | 'sync' | 'bug'): never {
    this.calls++;
    if (kind === 'clawkeep') throw new ClawkeepError('item_not_found', 'No such item.');
    if (kind === 'wrong_passphrase') throw new WrongPassphraseError();
    if (kind === 'hub')
      throw new HubClientError('not_enrolled', 'Enroll this device with the hub first.', { status: 403 });
    if (kind === 'openclaw')
      throw new OpenClawError('PAIRING_REQUIRED', 'Approve this device on the gateway.', {
        retryable: true,
        retryAfterMs: 500,
        requestId: 'req-1',
      });
    if (kind === 'sync') throw new SyncError('sync_fork', 'Two histories.');
    throw new Error('a bug whose text mentions hunter2');
  }

  count(): number {
    return this.calls;
  }
}

const trustAll = () => true;

describe('service boundary: declaration → proxy → server', () => {
  let echo: Echo;
  beforeEach(() => {
    fakeBrowser.reset();
    echo = new Echo();
  });

  it('derives both ends from the declaration (checked by tsc)', () => {
    type Api = ServiceApi<typeof ECHO>;
    expectTypeOf<Parameters<Api['greet']>>().toEqualTypeOf<[string, (boolean | undefined)?]>();
    expectTypeOf<ReturnType<Api['greet']>>().toEqualTypeOf<Promise<string>>();
    expectTypeOf<Parameters<Api['count']>>().toEqualTypeOf<[]>();
    expectTypeOf<Parameters<Api['subscribe']>[0]>().toEqualTypeOf<(event: { n: number }) => void>();
    // A service that forgets a declared method, or takes the wrong argument type, does not compile.
    // @ts-expect-error `count` is missing
    const missing: ServiceImpl<typeof ECHO> = {
      greet: () => '',
      measure: async () => ({ data: new Uint8Array(), length: 0 }),
      fail: () => {
        throw new Error();
      },
    };
    // @ts-expect-error greet takes a string
    const wrongArg: ServiceImpl<typeof ECHO>['greet'] = (n: number) => String(n);
    expect([missing, wrongArg]).toHaveLength(2);
  });

  it('calls go through to the service, optional trailing arguments may be left out', async () => {
    serveService(ECHO, echo, { isTrustedSender: trustAll });
    const api = createServiceProxy(ECHO);
    await expect(api.greet('ada')).resolves.toBe('hello ada');
    await expect(api.greet('ada', true)).resolves.toBe('HELLO ADA');
    await expect(api.count()).resolves.toBe(2);
  });

  it('bytes cross both ways as bytes', async () => {
    serveService(ECHO, echo, { isTrustedSender: trustAll });
    const api = createServiceProxy(ECHO);
    const result = await api.measure({ data: Uint8Array.of(0, 1, 254, 255), label: 'k' });
    expect(result.data).toBeInstanceOf(Uint8Array);
    expect(result).toEqual({ data: Uint8Array.of(255, 254, 1, 0), length: 4 });
  });

  it('refuses arguments that fail the schema with rpc_invalid_args, before the service runs, never echoing the value', async () => {
    serveService(ECHO, echo, { isTrustedSender: trustAll });
    const api = createServiceProxy(ECHO) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const refused = async (...args: unknown[]) => {
      const err = await api.greet!(...args).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ClawkeepError);
      return err as ClawkeepError;
    };
    const wrongType = await refused(42);
    expect(wrongType.code).toBe('rpc_invalid_args');
    expect(wrongType.message).toBe('Invalid request to the echo service (greet): argument 1 must be string.');
    expect((await refused()).code).toBe('rpc_invalid_args');
    const tooMany = await refused('ada', true, 'extra');
    expect(tooMany.code).toBe('rpc_invalid_args');
    expect(tooMany.message).toContain('argument 3 is one too many');
    const secret = await refused('ada', 'correct horse battery staple');
    expect(secret.message).toContain('argument 2 must be boolean');
    expect(secret.message).not.toContain('correct horse');
    // Nested: the field that is wrong is named.
    const nested = await api.measure!({ data: 'not bytes', label: 'k' }).catch((e: ClawkeepError) => e);
    expect(nested).toMatchObject({
      code: 'rpc_invalid_args',
      message: 'Invalid request to the echo service (measure): argument 1 (data) must be Uint8Array.',
    });
    // Bytes that are not base64 are refused the same way, not thrown.
    const raw = await dispatch(ECHO, echo, 'measure', [{ data: { $bytes: '***' }, label: 'k' }]);
    expect(raw).toMatchObject({ ok: false, error: { code: 'rpc_invalid_args' } });
    expect(echo.calls).toBe(0);
  });

  it('refuses a method the declaration does not list, including prototype names', async () => {
    serveService(ECHO, echo, { isTrustedSender: trustAll });
    for (const name of ['nope', 'toString', '__proto__', 'constructor', 'hasOwnProperty', 42, null]) {
      const response = await browser.runtime.sendMessage({ channel: ECHO.channel, method: name, args: [] });
      expect(response).toMatchObject({ ok: false, error: { code: 'rpc_unknown_method' } });
    }
    expect(await browser.runtime.sendMessage({ channel: ECHO.channel, method: 'nope', args: [] })).toEqual({
      ok: false,
      error: { code: 'rpc_unknown_method', message: 'the echo service has no method "nope".' },
    });
    expect(echo.calls).toBe(0);
  });

  it('answers forbidden to anything but our own pages, and leaves other channels alone', async () => {
    serveService(ECHO, echo);
    // The fake browser delivers an empty sender: exactly what an untrusted context must not get through with.
    expect(await browser.runtime.sendMessage({ channel: ECHO.channel, method: 'greet', args: ['ada'] })).toEqual({
      ok: false,
      error: { code: 'forbidden', message: 'Only Clawkeep pages may use the echo service.' },
    });
    await expect(createServiceProxy(ECHO).greet('ada')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(
      browser.runtime.sendMessage({ channel: 'something-else', method: 'greet', args: ['ada'] }),
    ).resolves.toBeUndefined();
    expect(echo.calls).toBe(0);
  });

  it('errors cross with their family, code and message; anything else crosses as internal without its text', async () => {
    serveService(ECHO, echo, { isTrustedSender: trustAll });
    const api = createServiceProxy(ECHO);
    const caught = (kind: Parameters<typeof api.fail>[0]) =>
      api.fail(kind).then(
        () => null,
        (e: unknown) => e,
      );

    const own = await caught('clawkeep');
    expect(own).toBeInstanceOf(ClawkeepError);
    expect(own).toMatchObject({ code: 'item_not_found', message: 'No such item.' });
    expect(await caught('wrong_passphrase')).toBeInstanceOf(WrongPassphraseError);

    const hub = await caught('hub');
    expect(hub).toBeInstanceOf(HubClientError);
    expect(hub).toMatchObject({ code: 'not_enrolled', message: 'Enroll this device with the hub first.' });

    const gateway = await caught('openclaw');
    expect(gateway).toBeInstanceOf(OpenClawError);
    expect(gateway).toMatchObject({ code: 'PAIRING_REQUIRED', retryable: true, retryAfterMs: 500, requestId: 'req-1' });

    const sync = await caught('sync');
    expect(sync).toBeInstanceOf(SyncError);
    expect(sync).toMatchObject({ code: 'sync_fork', message: 'Two histories.' });

    const bug = (await caught('bug')) as ClawkeepError;
    expect(bug).toBeInstanceOf(ClawkeepError);
    expect(bug).toMatchObject({ code: 'internal', message: 'Unexpected failure.' });
    expect(JSON.stringify(errorToWire(new Error('hunter2')))).not.toContain('hunter2');
  });

  it('the reviver turns a malformed wire error into rpc_failed, never a crash', () => {
    for (const wire of [null, 'x', {}, { code: 1, message: 'm' }, { code: 'c' }]) {
      expect(errorFromWire(wire)).toMatchObject({ code: 'rpc_failed' });
    }
  });

  it('a background that cannot be reached is rpc_failed', async () => {
    // Nothing serves the channel: the fake browser answers undefined, as Chrome does when no listener responds.
    await expect(createServiceProxy(ECHO).count()).rejects.toMatchObject({ code: 'rpc_failed' });
  });

  it('broadcasts reach subscribed pages until they unsubscribe', async () => {
    const server = serveService(ECHO, echo, { isTrustedSender: trustAll });
    const api = createServiceProxy(ECHO);
    const seen: number[] = [];
    const unsubscribe = api.subscribe((event) => seen.push(event.n));
    server.broadcast({ n: 1 });
    await new Promise((r) => setTimeout(r, 10));
    unsubscribe();
    server.broadcast({ n: 2 });
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([1]);
  });
});

describe('service boundary: the real vault declaration over the real keyholder', () => {
  /** What background-vault.ts serves, called the way a page's proxy calls it (arguments and results JSON-encoded). */
  async function vaultCall(keyholder: Keyholder, method: string, ...args: unknown[]) {
    const impl = implementByDispatch(VAULT_SERVICE, (m, a) => keyholder.handle(m, a[0] ?? null));
    const request = JSON.parse(JSON.stringify(encodeWire(args)));
    const response = JSON.parse(JSON.stringify(await dispatch(VAULT_SERVICE, impl, method, request)));
    if (!response.ok) throw errorFromWire(response.error);
    return decodeWire(response.value);
  }

  it('creates and unlocks with bytes, refuses a KEK that is not bytes, and revives a wrong passphrase as its class', async () => {
    const session = new Map<string, unknown>();
    const keyholder = new Keyholder(new VaultService(new VaultDb(uniqueDbName())), {
      session: {
        get: async (key) => (session.has(key) ? { [key]: session.get(key) } : {}),
        set: async (items) => void Object.entries(items).forEach(([k, v]) => session.set(k, v)),
        remove: async (key) => void session.delete(key),
      },
      alarms: { create: () => {}, clear: () => {} },
      broadcast: () => {},
      now: () => Date.now(),
    });
    const salt = randomBytes(16);
    const kek = await kekFor('pw', salt);
    await vaultCall(keyholder, 'create', { kdf: FAST_KDF, salt, kek });
    await vaultCall(keyholder, 'lock');
    const status = (await vaultCall(keyholder, 'status')) as { state: string; header: { salt: Uint8Array } };
    expect(status.state).toBe('locked');
    expect(status.header.salt).toBeInstanceOf(Uint8Array);
    expect(status.header.salt).toEqual(salt);

    await expect(vaultCall(keyholder, 'unlock', { kek: 'not bytes' })).rejects.toMatchObject({
      code: 'rpc_invalid_args',
      message: 'Invalid request to the vault (unlock): argument 1 (kek) must be Uint8Array.',
    });
    await expect(vaultCall(keyholder, 'unlock', { kek: await kekFor('other', salt) })).rejects.toBeInstanceOf(
      WrongPassphraseError,
    );
    expect(keyholder.isUnlocked).toBe(false);
    await vaultCall(keyholder, 'unlock', { kek });
    expect(keyholder.isUnlocked).toBe(true);
  });
});

// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { createHubApp } from '../../../hub/app';
import { generateHubIdentity } from '../../../hub/identity';
import { silentLogger } from '../../../hub/logger';
import { LoopTurns } from '../../../hub/loop-turns';
import { openSqliteStore } from '../../../hub/store/sqlite';

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('LoopTurns: requests started per turn of the event loop', () => {
  it('starts at most `perTurn` in one turn, the rest in later turns, in arrival order', async () => {
    const turns = new LoopTurns(2);
    const started: number[] = [];
    const all = Array.from({ length: 5 }, (_, i) => turns.take().then(() => started.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(turns.waiting).toBe(3);
    await nextTurn();
    expect(started).toEqual([0, 1, 2, 3]);
    await nextTurn();
    await Promise.all(all);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(turns.waiting).toBe(0);
    expect(() => new LoopTurns(0)).toThrow(RangeError);
  });

  it('new work waits behind work in progress that waits, each in arrival order', async () => {
    const turns = new LoopTurns(1);
    const started: string[] = [];
    const take = (name: string, newWork: boolean) => turns.take(newWork).then(() => started.push(name));
    const all = [take('create-1', true), take('create-2', true), take('decide-1', false), take('create-3', true)];
    all.push(take('execute-1', false));
    for (let i = 0; i < 5; i++) await nextTurn();
    await Promise.all(all);
    expect(started).toEqual(['create-1', 'decide-1', 'execute-1', 'create-2', 'create-3']);
  });

  it('the hub lets the event loop turn (and its sockets be polled) between slices of a backlog', async () => {
    // Requests that never await real I/O (an in-memory SQLite hub): without turns, all of them finish before the
    // loop polls again; a listening socket accepts one connection per poll (libuv 1.45+).
    const app = createHubApp({
      store: openSqliteStore({ file: ':memory:' }),
      origin: 'http://127.0.0.1:8787',
      identity: generateHubIdentity(),
      logger: silentLogger,
      requestsPerTurn: 2,
    });
    const order: string[] = [];
    const requests = Array.from({ length: 6 }, (_, i) =>
      Promise.resolve(app.request('http://127.0.0.1:8787/v1/health', { headers: { host: '127.0.0.1:8787' } })).then(
        (res) => order.push(`answered ${i} (${res.status})`),
      ),
    );
    setImmediate(() => order.push('poll'));
    await Promise.all(requests);
    expect(order.filter((o) => o.startsWith('answered')).every((o) => o.endsWith('(200)'))).toBe(true);
    const polledAt = order.indexOf('poll');
    expect(polledAt).toBeGreaterThan(0);
    expect(polledAt).toBeLessThan(order.length - 1);
  });
});

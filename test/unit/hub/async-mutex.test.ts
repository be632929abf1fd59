// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { AsyncMutex } from '../../../hub/store/async-mutex';

describe('AsyncMutex (one SQLite connection)', () => {
  it('runs holders one at a time, first come first served', async () => {
    const lock = new AsyncMutex();
    const order: string[] = [];
    let inside = 0;
    const runs = Array.from({ length: 10 }, (_, i) =>
      lock.run(async () => {
        inside++;
        expect(inside).toBe(1);
        await Promise.resolve();
        order.push(`tx-${i}`);
        inside--;
      }),
    );
    await Promise.all(runs);
    expect(order).toEqual(Array.from({ length: 10 }, (_, i) => `tx-${i}`));
  });

  it('resumes the next holder in a later turn of the event loop, so queued transactions never starve I/O', async () => {
    const lock = new AsyncMutex();
    const order: string[] = [];
    const runs = Array.from({ length: 20 }, (_, i) => lock.run(async () => void order.push(`tx-${i}`)));
    setImmediate(() => order.push('socket polled'));
    await Promise.all(runs);
    const polledAt = order.indexOf('socket polled');
    expect(polledAt).toBeGreaterThan(0);
    expect(polledAt).toBeLessThan(order.length - 1);
  });
});

// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { PriorityGate } from '../../../hub/store/priority-gate';

const tick = () => new Promise((r) => setTimeout(r, 0));

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

describe('PriorityGate (PostgreSQL transactions of one process)', () => {
  it('holds at most `slots`; a waiter finishing work goes before waiters starting new work; each class in order', async () => {
    const g = new PriorityGate(2);
    const order: string[] = [];
    const holds = new Map<string, ReturnType<typeof gate>>();
    const enter = (name: string, newWork: boolean) => {
      const h = gate();
      holds.set(name, h);
      return g.run(newWork, async () => {
        order.push(name);
        await h.opened;
      });
    };
    const runs = [
      enter('create-1', true),
      enter('create-2', true),
      enter('create-3', true), // waits
      enter('create-4', true), // waits
      enter('decide-1', false), // waits, but goes first
      enter('execute-1', false), // waits, second
    ];
    await tick();
    expect(order).toEqual(['create-1', 'create-2']);
    expect(g.load).toEqual({ held: 2, finishing: 2, starting: 2 });
    holds.get('create-1')!.open();
    await tick();
    expect(order.at(-1)).toBe('decide-1');
    holds.get('create-2')!.open();
    await tick();
    expect(order.at(-1)).toBe('execute-1');
    holds.get('decide-1')!.open();
    holds.get('execute-1')!.open();
    await tick();
    await tick();
    expect(order).toEqual(['create-1', 'create-2', 'decide-1', 'execute-1', 'create-3', 'create-4']);
    for (const h of holds.values()) h.open();
    await Promise.all(runs);
    expect(g.load).toEqual({ held: 0, finishing: 0, starting: 0 });
  });

  it('a throw frees the slot', async () => {
    const g = new PriorityGate(1);
    await expect(g.run(false, async () => Promise.reject(new Error('tx failed')))).rejects.toThrow('tx failed');
    expect(await g.run(true, async () => 'next')).toBe('next');
    expect(() => new PriorityGate(0)).toThrow(RangeError);
  });
});

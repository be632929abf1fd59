// @vitest-environment node
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { batchedStdout, jsonLinesLogger } from '../../../hub/logger';

/** A stream that records what reached it in each write call (one entry per system call it would make). */
function recordingStream() {
  const calls: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      calls.push([chunk.toString()]);
      done();
    },
    writev(chunks, done) {
      calls.push(chunks.map((c) => String(c.chunk)));
      done();
    },
  });
  return { stream, calls };
}

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('hub log lines', () => {
  it('lines of one event-loop turn reach the stream in one write, in order; the next turn writes again', async () => {
    const { stream, calls } = recordingStream();
    const log = jsonLinesLogger(batchedStdout(stream));
    log.info('request', { n: 1 });
    log.warn('request', { n: 2 });
    log.error('request', { n: 3 });
    expect(calls).toEqual([]);
    await nextTurn();
    await nextTurn();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((l) => JSON.parse(l).n)).toEqual([1, 2, 3]);
    expect(calls[0]!.every((l) => l.endsWith('\n'))).toBe(true);
    log.info('request', { n: 4 });
    await nextTurn();
    await nextTurn();
    expect(calls).toHaveLength(2);
    expect(JSON.parse(calls[1]![0]!)).toMatchObject({ level: 'info', event: 'request', n: 4 });
  });
});

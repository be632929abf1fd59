import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLIPBOARD_CLEAR_MS, copyWithAutoClear } from '../../../components/shared/clipboard';

function mockClipboard(opts: { readable: boolean; current?: () => string }) {
  const writeText = vi.fn(async (_text: string) => undefined);
  const readText = vi.fn(async () => opts.current?.() ?? '');
  Object.defineProperty(navigator, 'clipboard', { value: { writeText, readText }, configurable: true });
  Object.defineProperty(navigator, 'permissions', {
    value: { query: vi.fn(async () => ({ state: opts.readable ? 'granted' : 'prompt' })) },
    configurable: true,
  });
  return { writeText, readText };
}

describe('copyWithAutoClear', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('empties the clipboard after 30 s when it cannot read it back', async () => {
    const { writeText, readText } = mockClipboard({ readable: false });
    await copyWithAutoClear('sk-secret');
    expect(writeText).toHaveBeenLastCalledWith('sk-secret');
    await vi.advanceTimersByTimeAsync(CLIPBOARD_CLEAR_MS - 1);
    expect(writeText).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(writeText).toHaveBeenLastCalledWith('');
    expect(readText).not.toHaveBeenCalled();
  });

  it('leaves the clipboard alone when the user has copied something else since', async () => {
    const { writeText } = mockClipboard({ readable: true, current: () => 'something the user copied' });
    await copyWithAutoClear('sk-secret');
    await vi.advanceTimersByTimeAsync(CLIPBOARD_CLEAR_MS);
    expect(writeText).toHaveBeenCalledTimes(1);
  });

  it('clears when the clipboard still holds our value', async () => {
    const { writeText } = mockClipboard({ readable: true, current: () => 'sk-secret' });
    await copyWithAutoClear('sk-secret');
    await vi.advanceTimersByTimeAsync(CLIPBOARD_CLEAR_MS);
    expect(writeText).toHaveBeenLastCalledWith('');
  });
});

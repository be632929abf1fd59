import { describe, expect, it } from 'vitest';
import { ARM_DELAY_MS, FOCUS_CLICK_SLACK_MS, InputArming } from '../../../components/shared/input-arming';

// The arming rule with an injected clock: nothing approves unless the whole gesture began after arming.
const D = ARM_DELAY_MS;

describe('InputArming', () => {
  it('the delay is in the range browsers use for permission prompts (500-800 ms)', () => {
    expect(D).toBeGreaterThanOrEqual(500);
    expect(D).toBeLessThanOrEqual(800);
  });

  it('one deliberate click after the card is visible counts, once', () => {
    const a = new InputArming(1000);
    a.pointerDownAnywhere(1000 + D + 10);
    a.pointerDown('approve', 1000 + D + 10);
    expect(a.activate('approve', 1000 + D + 60)).toEqual({ ok: true });
    // The gesture is used up: a second click event without a new pointerdown does nothing.
    expect(a.activate('approve', 1000 + D + 70)).toEqual({ ok: false, reason: 'no-gesture' });
  });

  it('a click during the arming delay is ignored', () => {
    const a = new InputArming(1000);
    a.pointerDown('approve', 1100);
    expect(a.activate('approve', 1150)).toEqual({ ok: false, reason: 'not-armed' });
  });

  it('a pointerdown before arming does not count even if the pointerup lands after', () => {
    const a = new InputArming(1000);
    a.pointerDown('approve', 1000 + D - 1);
    expect(a.activate('approve', 1000 + D + 500)).toEqual({ ok: false, reason: 'gesture-before-arming' });
  });

  it('a click with no gesture on the control (programmatic click) is refused', () => {
    const a = new InputArming(0);
    expect(a.activate('approve', 10 * D)).toEqual({ ok: false, reason: 'no-gesture' });
  });

  it('a pointerdown on another control does not arm this one', () => {
    const a = new InputArming(0);
    a.pointerDown('deny', 2 * D);
    expect(a.activate('approve', 2 * D + 5).ok).toBe(false);
  });

  it('Enter or Space pressed on the focused button after arming counts', () => {
    const a = new InputArming(0);
    a.keyDown('approve', 'Enter', false, 2 * D);
    expect(a.activate('approve', 2 * D)).toEqual({ ok: true });
    a.keyDown('approve', ' ', false, 3 * D);
    expect(a.activate('approve', 3 * D + 80)).toEqual({ ok: true });
  });

  it('a key held down since before arming never counts, also through auto-repeat', () => {
    const a = new InputArming(0);
    a.keyDown('approve', 'Enter', false, D - 50);
    a.keyDown('approve', 'Enter', true, D + 100);
    expect(a.activate('approve', D + 100)).toEqual({ ok: false, reason: 'gesture-before-arming' });
    // A repeat with no first press seen (the key went down elsewhere, focus moved here) also never counts.
    const b = new InputArming(0);
    b.keyDown('approve', ' ', true, 5 * D);
    expect(b.activate('approve', 5 * D + 10)).toEqual({ ok: false, reason: 'gesture-before-arming' });
  });

  it('other keys ("a", "y") start no gesture and cancel one in progress', () => {
    const a = new InputArming(0);
    a.keyDown('approve', 'a', false, 2 * D);
    expect(a.activate('approve', 2 * D).ok).toBe(false);
    a.keyDown('approve', ' ', false, 3 * D);
    a.keyDown('approve', 'a', false, 3 * D + 1);
    expect(a.activate('approve', 3 * D + 2).ok).toBe(false);
  });

  it('window focus re-arms the keyboard: keys typed for another window right after focus moved do nothing', () => {
    const a = new InputArming(0);
    a.focused(10_000);
    a.keyDown('approve', 'Enter', false, 10_000 + 20);
    expect(a.activate('approve', 10_000 + 20)).toEqual({ ok: false, reason: 'not-armed' });
    a.keyDown('approve', 'Enter', false, 10_000 + D);
    expect(a.activate('approve', 10_000 + D)).toEqual({ ok: true });
  });

  it('window focus re-arms the pointer too (the window was raised under it)', () => {
    const a = new InputArming(0);
    a.focused(10_000);
    a.pointerDownAnywhere(10_000 + FOCUS_CLICK_SLACK_MS + 50);
    a.pointerDown('approve', 10_000 + FOCUS_CLICK_SLACK_MS + 50);
    expect(a.activate('approve', 10_000 + FOCUS_CLICK_SLACK_MS + 90).ok).toBe(false);
    expect(a.pointerArmed(10_000 + 10)).toBe(false);
  });

  it('the click that focused a visible, armed window counts as one click (either event order)', () => {
    // focus, then pointerdown
    const a = new InputArming(0);
    a.focused(10_000);
    a.pointerDownAnywhere(10_000 + 5);
    a.pointerDown('approve', 10_000 + 5);
    expect(a.activate('approve', 10_000 + 60)).toEqual({ ok: true });
    // pointerdown, then focus
    const b = new InputArming(0);
    b.pointerDownAnywhere(10_000);
    b.pointerDown('approve', 10_000);
    b.focused(10_000 + 3);
    expect(b.activate('approve', 10_000 + 60)).toEqual({ ok: true });
  });

  it('the click that focused a window whose card just appeared does not count', () => {
    const a = new InputArming(10_000);
    a.focused(10_000 + 10);
    a.pointerDownAnywhere(10_000 + 15);
    a.pointerDown('approve', 10_000 + 15);
    expect(a.activate('approve', 10_000 + 80).ok).toBe(false);
  });

  it('a new card, the page becoming visible again, or the control moving re-arms everything', () => {
    for (const event of ['shown', 'moved'] as const) {
      const a = new InputArming(0);
      a.pointerDown('approve', 5000);
      a[event](5010);
      // The gesture began before the new card: it does not approve the new card.
      expect(a.activate('approve', 5000 + D + 100).ok).toBe(false);
      a.pointerDown('approve', 5010 + D - 1);
      expect(a.activate('approve', 5010 + D + 50)).toEqual({ ok: false, reason: 'gesture-before-arming' });
      a.pointerDown('approve', 5010 + D);
      expect(a.activate('approve', 5010 + D + 50)).toEqual({ ok: true });
    }
  });

  it('pointercancel or blur abandons the gesture', () => {
    const a = new InputArming(0);
    a.pointerDown('approve', 2 * D);
    a.cancel('approve');
    expect(a.activate('approve', 2 * D + 10).ok).toBe(false);
  });

  it('pointerArmedAt tells when the control stops looking disabled', () => {
    const a = new InputArming(100);
    expect(a.pointerArmed(100 + D - 1)).toBe(false);
    expect(a.pointerArmedAt()).toBe(100 + D);
    expect(a.pointerArmed(100 + D)).toBe(true);
  });
});

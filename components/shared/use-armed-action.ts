import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ARM_DELAY_MS, InputArming } from './input-arming';

/** Props to spread on one approving button. */
export interface ArmedButtonProps {
  ref: (el: HTMLElement | null) => void;
  onPointerDown: (e: PointerEvent) => void;
  onPointerCancel: () => void;
  onKeyDown: (e: KeyboardEvent) => void;
  onBlur: () => void;
  onClick: (e: MouseEvent) => void;
  'aria-disabled'?: 'true';
  title?: string;
}

export interface ArmedActions {
  /** Wires approving control `id` so `action` runs only for a gesture that began after arming. */
  bind(id: string, action: () => void): ArmedButtonProps;
}

const clock = (): number => performance.now();

/**
 * Arms a card's approving controls (see input-arming.ts for the rule and its rationale). `cardKey` names what the
 * card shows (e.g. the intent id): when it changes, the controls re-arm and lose keyboard focus, so a keystroke meant
 * for the previous card never decides the next one. Arming also restarts when the page becomes visible, when its
 * window gains focus (keys only, unless the focus came from a click on the visible window) and when a bound control
 * moves on screen.
 */
export function useArmedActions(cardKey: string, delayMs = ARM_DELAY_MS): ArmedActions {
  const arming = useRef<InputArming | null>(null);
  arming.current ??= new InputArming(clock(), delayMs);
  const elements = useRef(new Map<string, { el: HTMLElement; rect: string }>());
  const [, setTick] = useState(0);
  const rerender = useCallback(() => setTick((t) => t + 1), []);

  // Re-render when the pointer arming ends so the controls drop aria-disabled.
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const schedule = useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    const wait = arming.current!.pointerArmedAt() - clock();
    rerender();
    if (wait > 0) timer.current = setTimeout(rerender, wait + 5);
  }, [rerender]);

  const checkMoved = useCallback(() => {
    let moved = false;
    for (const entry of elements.current.values()) {
      const r = entry.el.getBoundingClientRect();
      const rect = `${r.left},${r.top},${r.width},${r.height}`;
      if (rect !== entry.rect) {
        if (entry.rect !== '') moved = true;
        entry.rect = rect;
      }
    }
    if (moved) {
      arming.current!.moved(clock());
      schedule();
    }
  }, [schedule]);

  // A new card (or the same card brought back): re-arm, and move keyboard focus off any approving control.
  const firstKey = useRef(true);
  useLayoutEffect(() => {
    if (firstKey.current) {
      firstKey.current = false;
    } else {
      arming.current!.shown(clock());
    }
    const active = document.activeElement;
    for (const { el } of elements.current.values()) if (el === active) el.blur();
    schedule();
  }, [cardKey, schedule]);

  // Every render may have moved a control (content above it changed).
  useLayoutEffect(() => checkMoved());

  useEffect(() => {
    const onVisibility = () => {
      if (document.visibilityState === 'visible') {
        arming.current!.shown(clock());
        schedule();
      }
    };
    const onFocus = () => {
      arming.current!.focused(clock());
      schedule();
    };
    const onPointerDown = () => arming.current!.pointerDownAnywhere(clock());
    const onPageShow = () => {
      arming.current!.shown(clock());
      schedule();
    };
    // Content elsewhere on the page (another queue above this card) can move a control without rendering it.
    const observer = typeof ResizeObserver === 'function' ? new ResizeObserver(() => checkMoved()) : null;
    observer?.observe(document.documentElement);
    document.addEventListener('visibilitychange', onVisibility);
    window.addEventListener('focus', onFocus);
    window.addEventListener('pageshow', onPageShow);
    window.addEventListener('resize', checkMoved);
    // Capture: runs before the control's own handler, so a click that focused the window is recognised first.
    window.addEventListener('pointerdown', onPointerDown, true);
    return () => {
      observer?.disconnect();
      document.removeEventListener('visibilitychange', onVisibility);
      window.removeEventListener('focus', onFocus);
      window.removeEventListener('pageshow', onPageShow);
      window.removeEventListener('resize', checkMoved);
      window.removeEventListener('pointerdown', onPointerDown, true);
      if (timer.current) clearTimeout(timer.current);
    };
  }, [checkMoved, schedule]);

  // One stable ref callback per control: a new function each render would detach and re-attach the element and
  // forget its last position.
  const refs = useRef(new Map<string, (el: HTMLElement | null) => void>());
  const refFor = (id: string) => {
    let fn = refs.current.get(id);
    if (!fn) {
      fn = (el) => {
        if (!el) elements.current.delete(id);
        else if (elements.current.get(id)?.el !== el) elements.current.set(id, { el, rect: '' });
      };
      refs.current.set(id, fn);
    }
    return fn;
  };

  const bind = (id: string, action: () => void): ArmedButtonProps => {
    const a = arming.current!;
    const armed = a.pointerArmed(clock());
    return {
      ref: refFor(id),
      onPointerDown: (e) => {
        if (e.isPrimary !== false && e.button === 0) a.pointerDown(id, clock());
        else a.cancel(id);
      },
      onPointerCancel: () => a.cancel(id),
      onKeyDown: (e) => a.keyDown(id, e.key, e.repeat, clock()),
      onBlur: () => a.cancel(id),
      onClick: (e) => {
        const result = a.activate(id, clock());
        if (!result.ok) {
          e.preventDefault();
          return;
        }
        action();
      },
      ...(armed ? {} : { 'aria-disabled': 'true' as const, title: 'Available in a moment: the request just appeared' }),
    };
  };
  return { bind };
}

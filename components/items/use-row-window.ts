import { useCallback, useEffect, useLayoutEffect, useState } from 'preact/hooks';

/** Rows rendered beyond each edge of the viewport, so a fast scroll shows rows rather than blank space. */
const OVERSCAN = 10;
/** Rows rendered where nothing is laid out (a hidden tab; a DOM without layout): a first screen's worth. */
const UNLAID_ROWS = 40;

export interface RowWindow {
  /** First row index rendered. */
  first: number;
  /** One past the last row index rendered. */
  last: number;
}

/**
 * Which rows of a list of `count` rows, each `pitch` px apart, intersect the viewport (plus OVERSCAN either side).
 * The list may scroll with the page or inside any scrolling ancestor: scroll events are heard at the window in the
 * capture phase (a scroll event does not bubble), and the window is recomputed once per frame.
 */
export function useRowWindow(list: { current: HTMLElement | null }, count: number, pitch: number): RowWindow {
  const [range, setRange] = useState<RowWindow>({ first: 0, last: Math.min(count, UNLAID_ROWS) });

  const compute = useCallback(() => {
    const el = list.current;
    if (!el) return;
    const rect = el.getBoundingClientRect();
    const viewport = window.innerHeight || document.documentElement.clientHeight;
    let next: RowWindow;
    if (rect.height === 0 || !viewport) {
      next = { first: 0, last: Math.min(count, UNLAID_ROWS) };
    } else {
      const top = Math.max(0, -rect.top);
      const bottom = Math.max(top, Math.min(rect.height, viewport - rect.top));
      const first = Math.max(0, Math.floor(top / pitch) - OVERSCAN);
      next = { first, last: Math.max(first, Math.min(count, Math.ceil(bottom / pitch) + OVERSCAN)) };
    }
    setRange((r) => (r.first === next.first && r.last === next.last ? r : next));
  }, [list, count, pitch]);

  // Before paint, whenever the list's size or row pitch changes (a search, the whole list replacing the first screen).
  useLayoutEffect(compute, [compute]);

  useEffect(() => {
    let frame = 0;
    const schedule = (): void => {
      if (!frame) frame = requestAnimationFrame(() => ((frame = 0), compute()));
    };
    window.addEventListener('scroll', schedule, { capture: true, passive: true });
    window.addEventListener('resize', schedule, { passive: true });
    return () => {
      if (frame) cancelAnimationFrame(frame);
      window.removeEventListener('scroll', schedule, { capture: true });
      window.removeEventListener('resize', schedule);
    };
  }, [compute]);

  return range;
}

import { waitFor } from './wait-for';

/** A real person's click as the DOM sees it: pointerdown on the control, then click. */
export function pointerClick(el: HTMLElement): void {
  const win = el.ownerDocument.defaultView as unknown as typeof globalThis;
  el.dispatchEvent(
    new win.PointerEvent('pointerdown', {
      bubbles: true,
      cancelable: true,
      button: 0,
      isPrimary: true,
      pointerType: 'mouse',
    }),
  );
  el.dispatchEvent(
    new win.PointerEvent('pointerup', {
      bubbles: true,
      cancelable: true,
      button: 0,
      isPrimary: true,
      pointerType: 'mouse',
    }),
  );
  el.dispatchEvent(new win.MouseEvent('click', { bubbles: true, cancelable: true, button: 0, detail: 1 }));
}

/** Waits until an armed control (components/shared/use-armed-action.ts) stops being aria-disabled, then clicks it. */
export async function armedClick(el: HTMLElement): Promise<void> {
  await waitFor(
    () => el.ownerDocument.body,
    () => el.getAttribute('aria-disabled') !== 'true',
    'the control to arm',
    3000,
  );
  pointerClick(el);
}

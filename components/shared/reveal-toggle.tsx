interface RevealToggleProps {
  revealed: boolean;
  onToggle: () => void;
  /** What it reveals, read after "Reveal" by screen readers ("Reveal value", "Reveal provider key 1 value"). */
  what: string;
  controls?: string;
}

/**
 * The show/hide switch next to a masked field: a toggle button (aria-pressed; it looks pressed while the value
 * shows) whose name stays "Reveal …" in both states, as ARIA asks of toggle buttons. The name comes from the button's text, not aria-label, so a label query
 * for the field ("Value") never also finds its toggle.
 */
export function RevealToggle({ revealed, onToggle, what, controls }: RevealToggleProps) {
  return (
    <button
      type="button"
      class="small reveal-toggle"
      aria-pressed={revealed ? 'true' : 'false'}
      aria-controls={controls}
      onClick={onToggle}
    >
      Reveal<span class="visually-hidden"> {what}</span>
    </button>
  );
}

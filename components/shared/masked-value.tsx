import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorAlert, Notice } from './alert';
import { CLIPBOARD_CLEAR_MS, copyWithAutoClear } from './clipboard';

const MASK = '••••••••••••';

interface MaskedValueProps {
  value: string;
  /** Names the buttons ("Reveal OPENAI_API_KEY") when several values share a screen. */
  name?: string;
}

/** A secret shown as dots until the user asks; copying clears the clipboard again after 30 s. */
export function MaskedValue({ value, name }: MaskedValueProps) {
  const [revealed, setRevealed] = useState(false);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  // A different item must start hidden again.
  useEffect(() => {
    setRevealed(false);
    setCopied(false);
  }, [value]);

  const copy = async (): Promise<void> => {
    setError(null);
    try {
      await copyWithAutoClear(value);
    } catch {
      setError('Could not copy: the browser blocked clipboard access.');
      return;
    }
    setCopied(true);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => setCopied(false), CLIPBOARD_CLEAR_MS);
  };

  const suffix = name ? ` ${name}` : '';
  return (
    <div class="masked">
      <div class="masked-row">
        <code class="masked-text">{revealed ? value || '(empty)' : MASK}</code>
        <button
          type="button"
          class="small"
          onClick={() => setRevealed(!revealed)}
          aria-label={name ? `${revealed ? 'Hide' : 'Reveal'}${suffix}` : undefined}
        >
          {revealed ? 'Hide' : 'Reveal'}
        </button>
        <button type="button" class="small" onClick={copy} aria-label={name ? `Copy${suffix}` : undefined}>
          Copy
        </button>
      </div>
      <Notice>{copied ? 'Copied — clears in 30 s' : null}</Notice>
      <ErrorAlert message={error} />
    </div>
  );
}

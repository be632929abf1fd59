import type { KdfProgress } from '../../lib/vault/client';

/** Shown while a passphrase is being stretched; indeterminate until the device has a measured estimate. */
export function KdfProgressBar({ progress, label = 'Deriving key' }: { progress: KdfProgress | null; label?: string }) {
  if (!progress) return null;
  const { elapsedMs, expectedMs } = progress;
  const seconds = (elapsedMs / 1000).toFixed(1);
  if (expectedMs === null || expectedMs <= 0) {
    return (
      <div class="kdf-progress">
        <progress key="indeterminate" aria-label={label} />
        <span class="hint">
          {label}… {seconds} s
        </span>
      </div>
    );
  }
  // Never show 100 % before the call returns: estimates are rough and a full bar that waits looks frozen.
  const percent = Math.min(99, Math.round((elapsedMs / expectedMs) * 100));
  return (
    <div class="kdf-progress">
      <progress key="determinate" aria-label={label} max={100} value={percent} />
      <span class="hint">
        {label}… {seconds} s of about {(expectedMs / 1000).toFixed(1)} s
      </span>
    </div>
  );
}

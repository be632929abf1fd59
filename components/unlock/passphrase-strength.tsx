import { useEffect, useState } from 'preact/hooks';
import {
  assessPassphrase,
  MIN_PASSPHRASE_LENGTH,
  preloadPassphraseEstimator,
  type PassphraseAssessment,
} from '../../lib/crypto/passphrase-policy';

/**
 * Checks a new master passphrase before it is used; the form shows the returned sentence when it is refused.
 * Every form that sets one (create, change, recover, join) calls this, so none can go below the floor.
 */
export async function passphraseFloorError(passphrase: string): Promise<string | null> {
  try {
    const verdict = await assessPassphrase(passphrase);
    return verdict.acceptable ? null : `This passphrase is not accepted. ${verdict.message}`;
  } catch {
    return 'The strength check could not load. Reload the page and try again.';
  }
}

/** The estimate for what is typed now; null while none is typed or the estimator is still loading. */
function useAssessment(passphrase: string): PassphraseAssessment | null {
  const [assessment, setAssessment] = useState<PassphraseAssessment | null>(null);
  useEffect(preloadPassphraseEstimator, []);
  useEffect(() => {
    if (!passphrase) {
      setAssessment(null);
      return;
    }
    let current = true;
    assessPassphrase(passphrase).then(
      (a) => current && setAssessment(a),
      () => current && setAssessment(null),
    );
    return () => {
      current = false;
    };
  }, [passphrase]);
  return passphrase ? assessment : null;
}

/** Strength bar and sentence under a new-passphrase field (zxcvbn estimate; lib/crypto/passphrase-policy.ts). */
export function PassphraseStrength({ passphrase }: { passphrase: string }) {
  const assessment = useAssessment(passphrase);
  const level = assessment ? Math.max(assessment.score, 1) : 0;
  const text = !passphrase
    ? `Use at least ${MIN_PASSPHRASE_LENGTH} characters; several unrelated words work well.`
    : assessment
      ? assessment.message
      : 'Checking…';
  return (
    <span class={`strength strength-${level}`} data-acceptable={assessment ? String(assessment.acceptable) : undefined}>
      <span class="strength-bar" aria-hidden="true">
        {[1, 2, 3, 4].map((n) => (
          <span key={n} class={n <= level ? 'on' : undefined} />
        ))}
      </span>
      <span>Strength: {text}</span>
    </span>
  );
}

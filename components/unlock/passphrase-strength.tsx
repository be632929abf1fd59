/**
 * A rough strength hint, not a guarantee: it estimates bits from length and character variety and flags
 * obvious repetition. Its only job is to nudge people towards long passphrases.
 */
export function estimateBits(passphrase: string): number {
  if (!passphrase) return 0;
  let pool = 0;
  if (/[a-z]/.test(passphrase)) pool += 26;
  if (/[A-Z]/.test(passphrase)) pool += 26;
  if (/[0-9]/.test(passphrase)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(passphrase)) pool += 33;
  const unique = new Set(passphrase).size;
  // Repeated characters ("aaaaaaaa") add far less than their length suggests.
  const effectiveLength = Math.min(passphrase.length, unique * 2);
  return Math.round(effectiveLength * Math.log2(Math.max(pool, 2)));
}

export function strengthLabel(passphrase: string): { level: 0 | 1 | 2 | 3 | 4; text: string } {
  if (!passphrase) return { level: 0, text: 'Use at least 12 characters; several unrelated words work well.' };
  const bits = estimateBits(passphrase);
  if (passphrase.length < 8 || bits < 40) return { level: 1, text: 'Weak: easy to guess. Make it longer.' };
  if (bits < 60) return { level: 2, text: 'Fair: a few more words would help.' };
  if (bits < 80) return { level: 3, text: 'Good.' };
  return { level: 4, text: 'Strong.' };
}

export function PassphraseStrength({ passphrase }: { passphrase: string }) {
  const { level, text } = strengthLabel(passphrase);
  return (
    <span class={`strength strength-${level}`}>
      <span class="strength-bar" aria-hidden="true">
        {[1, 2, 3, 4].map((n) => (
          <span key={n} class={n <= level ? 'on' : undefined} />
        ))}
      </span>
      <span>Strength: {text}</span>
    </span>
  );
}

/**
 * The floor every master passphrase must clear (create, change, recover, join; issue 15).
 *
 * - At least {@link MIN_PASSPHRASE_LENGTH} characters: 12 is what Bitwarden requires of a master password and what
 *   the form has always advised; four random words are well over it.
 * - A zxcvbn score of at least {@link MIN_PASSPHRASE_SCORE} (0–4), from zxcvbn-ts (core, common and English
 *   dictionaries): length alone lets "aaaaaaaaaaaa" or "password1234" through, and the vault file is open to offline
 *   guessing by whoever copies it. Score 3 is zxcvbn's "safely unguessable" band (≥ 10^8 guesses), each guess
 *   costing an Argon2id run here; a warning is shown below score 4.
 *
 * The estimator and its dictionaries (~1 MB) load only when a passphrase is being chosen, never on unlock.
 */

export const MIN_PASSPHRASE_LENGTH = 12;
export const MIN_PASSPHRASE_SCORE = 3;

/** zxcvbn's score: 0 (too guessable) … 4 (very unguessable). */
export type PassphraseScore = 0 | 1 | 2 | 3 | 4;

export interface PassphraseAssessment {
  score: PassphraseScore;
  /** True when the passphrase clears the floor (length and score). */
  acceptable: boolean;
  /** One sentence for the person: why it is refused, or how strong it is. Never contains the passphrase. */
  message: string;
  /** zxcvbn's hints ("Add more words that are less common."), already in English. */
  suggestions: string[];
}

interface Estimator {
  check(password: string): {
    score: PassphraseScore;
    feedback: { warning: string | null; suggestions: string[] };
  };
}

let estimator: Promise<Estimator> | null = null;

/** Loads zxcvbn-ts once per page (a separate chunk: the popup's unlock screen never pays for the dictionaries). */
function loadEstimator(): Promise<Estimator> {
  estimator ??= Promise.all([
    import('@zxcvbn-ts/core'),
    import('@zxcvbn-ts/language-common'),
    import('@zxcvbn-ts/language-en'),
  ]).then(
    ([core, common, en]) =>
      new core.ZxcvbnFactory({
        dictionary: { ...common.dictionary, ...en.dictionary },
        graphs: common.adjacencyGraphs,
        translations: en.translations,
      }),
    (err: unknown) => {
      // A failed chunk load (extension updated under an open page) may succeed on the next try.
      estimator = null;
      throw err;
    },
  );
  return estimator;
}

/** Starts loading the estimator (a form that sets a passphrase just appeared): the check on submit is then instant. */
export function preloadPassphraseEstimator(): void {
  loadEstimator().catch(() => undefined);
}

const WORDS: Record<PassphraseScore, string> = {
  0: 'Very weak',
  1: 'Weak',
  2: 'Fair',
  3: 'Good',
  4: 'Strong',
};

/** The word for a score ("Good"), as shown next to the strength bar. */
export function scoreWord(score: PassphraseScore): string {
  return WORDS[score];
}

/** Judges a candidate master passphrase against the floor; the passphrase itself never leaves this function. */
export async function assessPassphrase(passphrase: string): Promise<PassphraseAssessment> {
  const zxcvbn = await loadEstimator();
  const { score, feedback } = zxcvbn.check(passphrase);
  const suggestions = feedback.suggestions;
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    return {
      score: Math.min(score, 1) as PassphraseScore,
      acceptable: false,
      message: `Too short: use at least ${MIN_PASSPHRASE_LENGTH} characters (${passphrase.length} so far). Several unrelated words work well.`,
      suggestions,
    };
  }
  if (score < MIN_PASSPHRASE_SCORE) {
    const why = feedback.warning ? ` ${feedback.warning.replace(/\.?$/, '.')}` : '';
    return {
      score,
      acceptable: false,
      message: `${WORDS[score]}: too easy to guess.${why} Add more unrelated words.`,
      suggestions,
    };
  }
  return {
    score,
    acceptable: true,
    message: score === 4 ? 'Strong.' : 'Good. Another word would make it strong.',
    suggestions: score === 4 ? [] : suggestions,
  };
}

/**
 * Text a person reads before deciding (agent names, summaries, commands, message bodies, item names, the keys and
 * values of action details) must show what it is (issue 13 item 7). Refused everywhere such text enters: at the
 * hub's request validation and again on the device, which never trusts the hub's validation.
 *
 * Refused characters and why:
 * - `\p{Cf}` format characters: bidi overrides and isolates (U+202A-202E, U+2066-2069, U+200E/F) reorder what is
 *   shown ("Trojan Source", CVE-2021-42574); zero-width space / joiners (U+200B-200D, U+2060, U+FEFF) and tag
 *   characters make two different strings look the same. This also refuses the zero-width joiner inside emoji
 *   sequences: looking the same as something else is exactly the problem.
 * - `\p{Cc}` controls (newline and tab only where multi-line text is allowed), `\p{Zl}` / `\p{Zp}` line and paragraph
 *   separators (line breaks that do not look like newlines to every check), `\p{Cs}` lone surrogates (no UTF-8 form),
 *   `\p{Co}` private-use characters (their glyph depends on installed fonts).
 * - Characters that render as nothing but are letters or marks: Hangul fillers U+115F, U+1160, U+3164, U+FFA0 and
 *   the combining grapheme joiner U+034F.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\u034F\u115F\u1160\u3164\uFFA0]/u;
const HIDDEN_G = new RegExp(HIDDEN.source, 'gu');

/** What was found: its UTF-16 index and its code point as "U+202E". */
export interface HiddenCharacter {
  index: number;
  codePoint: string;
}

/**
 * The first character of `s` a person could not see for what it is, or null. `multiline` allows `"\n"` and `"\t"`
 * (reasons, commands, message bodies).
 */
export function hiddenCharacter(s: string, multiline = false): HiddenCharacter | null {
  HIDDEN_G.lastIndex = 0;
  for (let m = HIDDEN_G.exec(s); m !== null; m = HIDDEN_G.exec(s)) {
    if (multiline && (m[0] === '\n' || m[0] === '\t')) continue;
    return { index: m.index, codePoint: `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` };
  }
  return null;
}

/** True when `s` has no hidden character (see hiddenCharacter). */
export const isDisplaySafe = (s: string, multiline = false): boolean => hiddenCharacter(s, multiline) === null;

/** The same test for single characters, e.g. for a scope grammar's character class. */
export const HIDDEN_CHARACTER = HIDDEN;

/** The message every validator uses, so the refusal reads the same on the hub and on the device. */
export const HIDDEN_TEXT_MESSAGE =
  'invisible or direction-changing characters (bidi, zero-width, format or control characters) are not allowed';

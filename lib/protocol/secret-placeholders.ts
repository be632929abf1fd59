import { invalid } from './errors';
import { isItemName } from './item-name';

/**
 * Secret placeholders in an `http.request` intent (issue 18): where the request names a vault secret that the
 * person's browser puts in, in memory, when it makes the call. The agent never sees the value.
 *
 * ```text
 *   placeholder = "{{secret:" item-name "}}"   ; item-name as in scopes.ts, and without "{" or "}"
 * ```
 *
 * Every `{{secret:` starts a placeholder: one that is not closed, or whose name is not an item name, is refused
 * (a request the card could not describe exactly is never shown). Other text, `{{` included, is literal.
 */
export const PLACEHOLDER_OPEN = '{{secret:';
export const PLACEHOLDER_CLOSE = '}}';

export type PlaceholderSegment = { text: string } | { secret: string };

/**
 * Splits `value` into literal text and placeholders, in order; empty texts are left out.
 * @throws ProtocolError `protocol_invalid` for an unclosed placeholder or one that names no valid item.
 */
export function parsePlaceholders(value: string): PlaceholderSegment[] {
  const segments: PlaceholderSegment[] = [];
  let from = 0;
  for (let open = value.indexOf(PLACEHOLDER_OPEN); open !== -1; open = value.indexOf(PLACEHOLDER_OPEN, from)) {
    const nameStart = open + PLACEHOLDER_OPEN.length;
    const close = value.indexOf(PLACEHOLDER_CLOSE, nameStart);
    if (close === -1) throw invalid('A {{secret:…}} placeholder is not closed.');
    const name = value.slice(nameStart, close);
    if (!isItemName(name) || name.includes('{') || name.includes('}'))
      throw invalid('A {{secret:…}} placeholder does not name a valid vault item.');
    if (open > from) segments.push({ text: value.slice(from, open) });
    segments.push({ secret: name });
    from = close + PLACEHOLDER_CLOSE.length;
  }
  if (from < value.length) segments.push({ text: value.slice(from) });
  return segments;
}

/** The item names `value` refers to, each once, in order of first use. */
export function placeholderNames(value: string): string[] {
  const names = parsePlaceholders(value).flatMap((s) => ('secret' in s ? [s.secret] : []));
  return [...new Set(names)];
}

/** The placeholder text for `name`, as an agent writes it. */
export const placeholderFor = (name: string): string => `${PLACEHOLDER_OPEN}${name}${PLACEHOLDER_CLOSE}`;

/**
 * The value with each placeholder replaced by `valueOf(name)` (the browser, in memory, right before the call).
 * @throws whatever `valueOf` throws (a secret the vault does not hold).
 */
export function fillPlaceholders(segments: readonly PlaceholderSegment[], valueOf: (name: string) => string): string {
  return segments.map((s) => ('secret' in s ? valueOf(s.secret) : s.text)).join('');
}

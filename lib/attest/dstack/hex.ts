import { equalBytes, fromHex } from '../../bytes';

/** First 8 hex digits and an ellipsis: enough for a person to tell two measurements apart in a message. */
export function shortHex(hex: string): string {
  const lower = hex.toLowerCase();
  return lower.length > 12 ? `${lower.slice(0, 8)}…` : lower;
}

/** Compares two hex strings as bytes (case-insensitive); anything that is not hex never matches. */
export function sameHexBytes(a: string, b: string): boolean {
  let x: Uint8Array;
  let y: Uint8Array;
  try {
    x = fromHex(a);
    y = fromHex(b);
  } catch {
    return false;
  }
  return equalBytes(x, y);
}

/**
 * Short forms of two values shown side by side in a message; when their first 8 digits agree the short forms
 * would read as equal, so both are given in full.
 */
export function shortHexPair(a: string, b: string): [string, string] {
  const [sa, sb] = [shortHex(a), shortHex(b)];
  return sa === sb ? [a.toLowerCase(), b.toLowerCase()] : [sa, sb];
}

import { utf8Decode } from '../bytes';
import { invalid } from './errors';

/**
 * Strict JSON for the wire (docs/protocol.md §8, "Bodies"): UTF-8 that decodes without replacement, the JSON grammar
 * of RFC 8259, and no object with the same member name twice. `JSON.parse` keeps the last of duplicate names and
 * `TextDecoder` (non-fatal) turns bad bytes into U+FFFD, so two readers of the same signed bytes could see different
 * values (RFC 8259 §4: "the behavior of software that receives such an object is unpredictable"; RFC 7493 I-JSON §2.3
 * requires unique names). Every JSON body the hub reads, and every JSON answer a client verifies, goes through here.
 *
 * @throws ProtocolError `protocol_invalid`: "not valid UTF-8", "not valid JSON" or "duplicate member name". Messages
 * never quote the input (Node's own JSON.parse errors do).
 */
export function parseStrictJson(input: Uint8Array | string): unknown {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = utf8Decode(input); // fatal: invalid sequences throw
    } catch (err) {
      throw invalid('The JSON is not valid UTF-8.', { cause: err });
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('The JSON is not valid.');
  }
  if (hasDuplicateName(text)) throw invalid('The JSON has an object with a duplicate member name.');
  return value;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/**
 * Whether any object in `text` (already known to be valid JSON) names a member twice. One pass: a stack holds, for
 * each open object, the member names seen so far (arrays hold null). A string is a member name exactly when the
 * next non-whitespace character is `:`. Names are compared after unescaping, so `"a"` and `"\u0061"` are the same.
 */
function hasDuplicateName(text: string): boolean {
  const stack: (Set<string> | null)[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x7b /* { */) stack.push(new Set());
    else if (ch === 0x5b /* [ */) stack.push(null);
    else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) stack.pop();
    else if (ch === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c === BACKSLASH) {
          escaped = true;
          i++; // skip the escaped character (a `u` is followed by hex digits, which need no care)
        } else if (c === QUOTE) break;
      }
      let j = i + 1;
      while (j < n && (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r')) j++;
      if (j < n && text.charCodeAt(j) === COLON) {
        const names = stack[stack.length - 1];
        const raw = text.slice(start + 1, i);
        const name = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : raw;
        if (names) {
          if (names.has(name)) return true;
          names.add(name);
        }
      }
    }
  }
  return false;
}

/** A fetch answer's body as strict JSON (parseStrictJson): what clients use instead of `res.json()`. */
export async function readStrictJson(res: Response): Promise<unknown> {
  return parseStrictJson(new Uint8Array(await res.arrayBuffer()));
}

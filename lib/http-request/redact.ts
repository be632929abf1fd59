import { toBase64, utf8Encode } from '../bytes';
import type { ReflectionFormName } from '../protocol/sealed-response';

/**
 * Reflection of a secret in a response (issue 18): a server that echoes the request back (a debugging endpoint, an
 * error page quoting the Authorization header, a hostile target) would hand the secret to the agent that asked for
 * the call. Before a response is sealed to the agent, every form below of every secret used in the request is cut
 * out, and the card and Activity say which forms were found.
 *
 * - `verbatim`: the secret's UTF-8 bytes.
 * - `base64`: inside a standard or URL-safe base64 text, at any of the three byte offsets the secret can start at
 *   within the encoded bytes (an echoed `Basic` header, a JSON field holding a base64 blob). A secret's bytes at
 *   offset k always encode to the same characters between the ones they share with their neighbours (RFC 4648 §4:
 *   6-bit groups), so those characters are searched, and the whole base64 run that holds them is cut, since the
 *   characters at its edges carry a few of the secret's bits too.
 * - `percent`: percent-encoded (RFC 3986 §2.1, upper- or lower-case hex; only the reserved bytes or every byte;
 *   `+` for a space as in form bodies).
 * - `json`: as a JSON string escapes it (quotes, backslashes, control characters, `\/`, `\uXXXX` for non-ASCII).
 */
/** A form a secret can be reflected in (the outcome names them: sealed-response.ts REFLECTION_FORMS). */
export type ReflectionForm = ReflectionFormName;

export interface Redacted {
  /** The body with every reflection replaced by {@link REDACTED}; the whole body withheld if that did not settle. */
  body: Uint8Array;
  /** Which forms were found (empty when the body held none). */
  found: ReflectionForm[];
  /** True when the body could not be cleaned with certainty and was withheld whole (see redactReflections). */
  withheld: boolean;
}

/** What a reflection is replaced with. */
export const REDACTED = '[redacted by Clawkeep]';

/**
 * Shortest secret whose base64 forms are searched: below it, the characters a secret owns alone at some offset are
 * fewer than 6 (36 bits), and unrelated base64 text would match by chance.
 */
export const BASE64_MIN_SECRET_BYTES = 6;

interface Pattern {
  form: ReflectionForm;
  /** The pattern as a binary string (one char per byte), searched in the body's binary string. */
  text: string;
  /** Cut the whole base64 run around a match, not only the match. */
  wholeRun: boolean;
}

const binary = (bytes: Uint8Array): string => {
  let out = '';
  // In chunks: String.fromCharCode takes arguments, and engines cap their number.
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
};

const fromBinary = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

const toUrlSafe = (b64: string): string => b64.replace(/\+/g, '-').replace(/\//g, '_');

/** The characters of base64(pad(k) ‖ secret ‖ …) that depend on the secret's bytes alone, for k = 0, 1, 2. */
function base64Cores(secret: Uint8Array): string[] {
  const cores: string[] = [];
  for (let k = 0; k < 3; k++) {
    const padded = new Uint8Array(k + secret.length);
    padded.set(secret, k);
    const encoded = toBase64(padded);
    const start = Math.ceil((8 * k) / 6);
    const end = Math.floor((8 * (k + secret.length)) / 6);
    cores.push(encoded.slice(start, end));
  }
  return cores;
}

/**
 * The bytes each common percent-encoder leaves as they are: RFC 3986 §2.3's unreserved set; ECMAScript's
 * encodeURIComponent; the WHATWG application/x-www-form-urlencoded serializer (which also writes a space as `+`);
 * encodeURI, which keeps the reserved characters too.
 */
const PERCENT_KEPT: readonly { kept: RegExp; spaceAsPlus: boolean }[] = [
  { kept: /[A-Za-z0-9\-._~]/, spaceAsPlus: false },
  { kept: /[A-Za-z0-9\-_.!~*'()]/, spaceAsPlus: false },
  { kept: /[A-Za-z0-9*\-._]/, spaceAsPlus: true },
  { kept: /[A-Za-z0-9\-_.!~*'();,/?:@&=+$#]/, spaceAsPlus: false },
];

/** Percent-encoded (RFC 3986 §2.1) by each encoder of PERCENT_KEPT and byte by byte, with upper- and lower-case hex. */
function percentForms(secret: Uint8Array): string[] {
  const forms: string[] = [];
  for (const upper of [true, false]) {
    const pct = (b: number) => `%${b.toString(16).padStart(2, '0')[upper ? 'toUpperCase' : 'toLowerCase']()}`;
    forms.push(Array.from(secret, pct).join(''));
    for (const { kept, spaceAsPlus } of PERCENT_KEPT)
      forms.push(
        Array.from(secret, (b) =>
          b === 0x20 && spaceAsPlus
            ? '+'
            : b < 0x80 && kept.test(String.fromCharCode(b))
              ? String.fromCharCode(b)
              : pct(b),
        ).join(''),
      );
  }
  return forms;
}

function jsonForms(secret: string): string[] {
  const plain = JSON.stringify(secret).slice(1, -1);
  const asciiOnly = plain.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const forms = [plain, asciiOnly, plain.replace(/\//g, '\\/'), asciiOnly.replace(/\//g, '\\/')];
  return [...forms, ...forms.map((f) => f.replace(/\\u([0-9a-f]{4})/g, (_, h: string) => `\\u${h.toUpperCase()}`))];
}

function patternsFor(secrets: readonly string[]): Pattern[] {
  const patterns: Pattern[] = [];
  const seen = new Set<string>();
  const add = (form: ReflectionForm, text: string, wholeRun = false) => {
    if (text.length === 0 || seen.has(text)) return;
    seen.add(text);
    patterns.push({ form, text, wholeRun });
  };
  for (const secret of secrets) {
    const bytes = utf8Encode(secret);
    if (bytes.length === 0) continue;
    add('verbatim', binary(bytes));
    for (const p of percentForms(bytes)) add('percent', p);
    for (const j of jsonForms(secret)) add('json', binary(utf8Encode(j)));
    if (bytes.length >= BASE64_MIN_SECRET_BYTES)
      for (const core of base64Cores(bytes)) {
        add('base64', core, true);
        add('base64', toUrlSafe(core), true);
      }
  }
  // Longest first: where one form contains another (a percent form with no reserved byte is the verbatim one), the
  // longer match is cut whole.
  return patterns.sort((a, b) => b.text.length - a.text.length);
}

const BASE64_CHAR = /[A-Za-z0-9+/=_-]/;

/** Every [start, end) to cut, merged. */
function findRanges(text: string, patterns: readonly Pattern[], found: Set<ReflectionForm>): [number, number][] {
  const ranges: [number, number][] = [];
  for (const p of patterns) {
    for (let at = text.indexOf(p.text); at !== -1; at = text.indexOf(p.text, at + 1)) {
      let start = at;
      let end = at + p.text.length;
      if (p.wholeRun) {
        while (start > 0 && BASE64_CHAR.test(text[start - 1]!)) start--;
        while (end < text.length && BASE64_CHAR.test(text[end]!)) end++;
      }
      ranges.push([start, end]);
      found.add(p.form);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** Cutting can join the bytes on either side into a new reflection; this many passes, then the body is withheld. */
const MAX_PASSES = 4;

/**
 * Cuts every reflection of `secrets` (their plaintext values, in memory only) out of `body`. Fails closed: if a
 * reflection is still there after MAX_PASSES, the whole body is withheld.
 */
export function redactReflections(body: Uint8Array, secrets: readonly string[]): Redacted {
  const patterns = patternsFor(secrets);
  const found = new Set<ReflectionForm>();
  let text = binary(body);
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const ranges = findRanges(text, patterns, found);
    if (ranges.length === 0) {
      return { body: pass === 0 ? body : fromBinary(text), found: [...found].sort(), withheld: false };
    }
    let out = '';
    let from = 0;
    for (const [start, end] of ranges) {
      out += text.slice(from, start) + REDACTED;
      from = end;
    }
    text = out + text.slice(from);
  }
  if (findRanges(text, patterns, found).length === 0)
    return { body: fromBinary(text), found: [...found].sort(), withheld: false };
  return { body: utf8Encode(REDACTED), found: [...found].sort(), withheld: true };
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toBase64, utf8Encode } from '../../../lib/bytes';
import { BASE64_MIN_SECRET_BYTES, REDACTED, redactReflections } from '../../../lib/http-request/redact';

const text = (s: string) => utf8Encode(s);
/** Lenient: random bodies need not be UTF-8 (a replacement character never forms a reflection). */
const readable = (b: Uint8Array) => new TextDecoder().decode(b);
const urlSafe = (b64: string) => b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** Every way the tests reflect a secret: the forms redactReflections must find. */
const reflections: Record<string, (secret: string) => string> = {
  verbatim: (s) => s,
  'percent, upper-case hex': (s) => encodeURIComponent(s),
  'percent, lower-case hex': (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  'percent, RFC 3986 unreserved kept': (s) =>
    Array.from(utf8Encode(s), (b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
    ).join(''),
  'encodeURI (a whole URL)': (s) => encodeURI(s),
  'percent, every byte': (s) => Array.from(utf8Encode(s), (b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
  'form body': (s) => new URLSearchParams({ token: s }).toString().slice('token='.length),
  'JSON string': (s) => JSON.stringify(s).slice(1, -1),
  'JSON string, \\/ and \\u escapes': (s) =>
    JSON.stringify(s)
      .slice(1, -1)
      .replace(/\//g, '\\/')
      .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
};

/** The secret must not survive in any of these forms (nor in base64 at any offset, checked separately). */
function leaks(out: Uint8Array, secret: string): string[] {
  const body = readable(out);
  return Object.entries(reflections)
    .filter(([, encode]) => body.includes(encode(secret)))
    .map(([name]) => name);
}

const secretArb = fc.string({ unit: 'grapheme', minLength: 8, maxLength: 48 }).filter((s) => s.trim().length >= 8);

describe('redactReflections (issue 18: a response that contains the secret)', () => {
  it('an Authorization header echoed in a JSON body: cut, and said', () => {
    const token = 'ghp_R3alT0kenValue0123456789abcdefXYZ';
    const body = text(`{"headers":{"authorization":"Bearer ${token}","accept":"*/*"}}`);
    const r = redactReflections(body, [token]);
    expect(readable(r.body)).toBe(`{"headers":{"authorization":"Bearer ${REDACTED}","accept":"*/*"}}`);
    expect(r.found).toEqual(['verbatim']);
    expect(r.withheld).toBe(false);
  });

  it('a body without the secret comes back as it was (the same bytes, binary included)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), secretArb, (body, secret) => {
        fc.pre(!readable(body).includes(secret));
        const r = redactReflections(body, [secret]);
        if (r.found.length === 0) expect(r.body).toEqual(body);
      }),
    );
  });

  for (const [name, encode] of Object.entries(reflections)) {
    it(`finds and cuts the ${name} form, whatever surrounds it`, () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 64 }), secretArb, fc.string({ maxLength: 64 }), (before, secret, after) => {
          const r = redactReflections(text(before + encode(secret) + after), [secret]);
          expect(leaks(r.body, secret)).toEqual([]);
          expect(r.found.length).toBeGreaterThan(0);
          expect(readable(r.body)).toContain(REDACTED);
        }),
      );
    });
  }

  it('base64 of any bytes around the secret, standard or URL-safe, at every offset: the whole base64 run is cut', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        secretArb,
        fc.uint8Array({ maxLength: 40 }),
        fc.boolean(),
        (before, secret, after, safe) => {
          const inner = new Uint8Array([...before, ...text(secret), ...after]);
          const b64 = safe ? urlSafe(toBase64(inner)) : toBase64(inner);
          const r = redactReflections(text(`{"blob":"${b64}"}`), [secret]);
          expect(readable(r.body)).toBe(`{"blob":"${REDACTED}"}`);
          expect(r.found).toContain('base64');
        },
      ),
    );
  });

  it('an echoed Basic header (base64 of user:secret) is cut', () => {
    const secret = 'correct-horse-battery';
    const header = `Basic ${toBase64(text(`alice:${secret}`))}`;
    const r = redactReflections(text(`you sent: ${header}\n`), [secret]);
    expect(readable(r.body)).toBe(`you sent: Basic ${REDACTED}\n`);
    expect(r.found).toEqual(['base64']);
  });

  it('several secrets at once, each in another form; running it again changes nothing', () => {
    const a = 'sk-live-aaaaaaaaaaaaaaaa';
    const b = 'p@ss w/ spaces & symbols';
    const body = text(`x=${encodeURIComponent(b)}&echo=${a}&b64=${toBase64(text(a))}`);
    const r = redactReflections(body, [a, b]);
    expect(leaks(r.body, a)).toEqual([]);
    expect(leaks(r.body, b)).toEqual([]);
    expect(r.found).toEqual(['base64', 'percent', 'verbatim']);
    expect(redactReflections(r.body, [a, b]).body).toEqual(r.body);
  });

  it('short secrets are matched verbatim and percent-encoded only (base64 of a few bytes matches by chance)', () => {
    const secret = 'abcde';
    expect(utf8Encode(secret).length).toBeLessThan(BASE64_MIN_SECRET_BYTES);
    const r = redactReflections(text(`${toBase64(text(secret))} and ${secret}`), [secret]);
    expect(readable(r.body)).toBe(`${toBase64(text(secret))} and ${REDACTED}`);
  });

  it('a secret that cutting cannot remove for good (it contains the marker) withholds the whole body', () => {
    const secret = `${REDACTED}${REDACTED}`;
    const r = redactReflections(text(`a${secret}b`), [secret]);
    expect(r.withheld || !readable(r.body).includes(secret)).toBe(true);
  });
});

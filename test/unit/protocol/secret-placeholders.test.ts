import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../lib/protocol/errors';
import { isItemName } from '../../../lib/protocol/scopes';
import {
  fillPlaceholders,
  parsePlaceholders,
  placeholderFor,
  placeholderNames,
  PLACEHOLDER_OPEN,
} from '../../../lib/protocol/secret-placeholders';

const literal = fc.string({ maxLength: 40 }).filter((s) => !s.includes(PLACEHOLDER_OPEN));
const itemName = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
  .filter((s) => isItemName(s) && !s.includes('{') && !s.includes('}'));
const part = fc.oneof(
  literal.map((text) => ({ text })),
  itemName.map((secret) => ({ secret })),
);

describe('secret placeholders (issue 18: {{secret:NAME}} in an http.request)', () => {
  it('the card example: a bearer token in a header value', () => {
    expect(parsePlaceholders('Bearer {{secret:GitHub token}}')).toEqual([
      { text: 'Bearer ' },
      { secret: 'GitHub token' },
    ]);
    expect(placeholderNames('{{secret:a}}:{{secret:b}}/{{secret:a}}')).toEqual(['a', 'b']);
  });

  it('codec: any mix of literal text and placeholders parses back to its parts and fills back to its text', () => {
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), (parts) => {
        const value = parts.map((p) => ('secret' in p ? placeholderFor(p.secret) : p.text)).join('');
        const parsed = parsePlaceholders(value);
        expect(fillPlaceholders(parsed, placeholderFor)).toBe(value);
        // Adjacent literals merge; placeholders keep their order and names.
        expect(parsed.flatMap((s) => ('secret' in s ? [s.secret] : []))).toEqual(
          parts.flatMap((p) => ('secret' in p ? [p.secret] : [])),
        );
        expect(parsed.every((s) => 'secret' in s || s.text.length > 0)).toBe(true);
      }),
    );
  });

  it('text without a placeholder is literal, "{{" and "}}" included', () => {
    fc.assert(
      fc.property(literal, (text) => {
        expect(parsePlaceholders(text)).toEqual(text ? [{ text }] : []);
      }),
    );
    expect(parsePlaceholders('{{not:a secret}} }}')).toEqual([{ text: '{{not:a secret}} }}' }]);
  });

  it('fills each placeholder with the value the vault gives for its name', () => {
    const values: Record<string, string> = { 'GitHub token': 'ghp_x', other: 'y' };
    const parsed = parsePlaceholders('token {{secret:GitHub token}} and {{secret:other}}!');
    expect(fillPlaceholders(parsed, (n) => values[n]!)).toBe('token ghp_x and y!');
  });

  it.each([
    ['unclosed', 'Bearer {{secret:GitHub token'],
    ['empty name', '{{secret:}}'],
    ['a control character in the name', '{{secret:a\u0007b}}'],
    ['a bidi override in the name', '{{secret:a\u202eb}}'],
    ['a brace in the name', '{{secret:a{b}}'],
    ['a name over 128 characters', `{{secret:${'x'.repeat(129)}}}`],
  ])('refuses a placeholder with %s (typed, naming no value)', (_, value) => {
    expect(() => parsePlaceholders(value)).toThrow(ProtocolError);
    try {
      parsePlaceholders(value);
    } catch (err) {
      expect((err as ProtocolError).code).toBe('protocol_invalid');
    }
  });
});

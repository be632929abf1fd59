// @vitest-environment node
/**
 * Property tests for the import parsers (lib/import): each reads back what a writer of its format wrote (the .env
 * round-trip through every quoting style, CSV through papaparse's own `unparse`, Bitwarden JSON built like its
 * exporter), and on arbitrary text each either returns a plan or throws an ImportError, never anything else.
 */
import fc from 'fast-check';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { planBitwardenImport } from '../../../lib/import/bitwarden';
import { planCsvImport } from '../../../lib/import/csv';
import { parseDotenv, planDotenvImport } from '../../../lib/import/dotenv';
import { ImportError } from '../../../lib/import/errors';
import { check, typedOnly } from './arbitraries';

const envKey = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,30}$/);
/** Text weighted towards the characters each format treats specially, plus any Unicode grapheme. */
const anyText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\\', '"', "'", '`', '\n', '\r', '\t', '#', ' ', '=', ',', '$', 'n'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 40,
});

/** Writes one value the way a person or tool might: double-quoted (escaped), single-quoted or bare. */
function writeValue(value: string, style: number, rawNewlines: boolean): string {
  if (style === 1 && !/['\r]/.test(value)) return `'${value}'`;
  if (style === 2 && /^[A-Za-z0-9_./:@+=-]*$/.test(value)) return value;
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r/g, '\\r')
    .replace(/\n/g, rawNewlines ? '\n' : '\\n');
  return `"${escaped}"`;
}

describe('.env parser', () => {
  it('round-trips any keys and values through every quoting style, with comments, blanks and export', () => {
    const entry = fc.record({
      key: envKey,
      value: anyText,
      style: fc.integer({ min: 0, max: 2 }),
      rawNewlines: fc.boolean(),
      exported: fc.boolean(),
      comment: fc.option(fc.stringMatching(/^[^\n\r]{0,20}$/)),
      spaces: fc.boolean(),
    });
    check(
      fc.uniqueArray(entry, { selector: (e) => e.key, maxLength: 8 }),
      (entries) => {
        const text = entries
          .map((e) => {
            const eq = e.spaces ? ' = ' : '=';
            const line = `${e.exported ? 'export ' : ''}${e.key}${eq}${writeValue(e.value, e.style, e.rawNewlines)}`;
            return e.comment === null ? line : `# ${e.comment}\n\n${line}`;
          })
          .join('\n');
        expect(parseDotenv(text).map(({ key, value }) => ({ key, value }))).toEqual(
          entries.map(({ key, value }) => ({ key, value })),
        );
      },
      300,
    );
  });

  it('arbitrary text: a plan or an ImportError, nothing else', () => {
    check(
      fc.string({ unit: 'binary', maxLength: 200 }),
      (text) => void typedOnly(() => planDotenvImport(text), ImportError),
      500,
    );
    check(
      fc.array(fc.constantFrom('A', '=', '"', "'", '`', '\\', '\n', '\r', ' ', '#', 'export ', 'x'), { maxLength: 40 }),
      (parts) => void typedOnly(() => planDotenvImport(parts.join('')), ImportError),
      500,
    );
  });
});

describe('CSV parser', () => {
  const row = fc.record({
    name: fc.stringMatching(/^\S(.{0,30}\S)?$/s).filter((n) => n.trim() === n),
    value: anyText,
    notes: anyText,
  });

  it('reads back what papaparse writes, whatever the quoting, commas, quotes and line breaks', () => {
    check(
      fc.tuple(fc.array(row, { minLength: 1, maxLength: 6 }), fc.boolean(), fc.constantFrom('\n', '\r\n')),
      ([rows, quoteAll, newline]) => {
        const text = Papa.unparse(rows, { quotes: quoteAll, newline, columns: ['name', 'value', 'notes'] });
        expect(planCsvImport(text).candidates.map((c) => c.fields)).toEqual(
          rows.map((r) => ({ ...r, tags: [], expiresAt: null, allowedHosts: [] })),
        );
      },
      300,
    );
  });

  it('arbitrary text: a plan or an ImportError, nothing else', () => {
    check(
      fc.string({ unit: 'binary', maxLength: 200 }),
      (text) => void typedOnly(() => planCsvImport(text), ImportError),
      500,
    );
    check(
      fc.array(fc.constantFrom('name', 'value', 'notes', ',', '"', '\n', '\r', 'x', ' '), { maxLength: 40 }),
      (parts) => void typedOnly(() => planCsvImport(parts.join('')), ImportError),
      500,
    );
  });
});

describe('Bitwarden JSON parser', () => {
  it('every login in an export built like Bitwarden’s becomes an item with its password as the value', () => {
    const login = fc.record({
      name: fc.stringMatching(/^\S(.{0,30}\S)?$/s).filter((n) => n.trim() === n),
      password: anyText,
      username: anyText,
    });
    check(
      fc.array(login, { minLength: 1, maxLength: 6 }),
      (logins) => {
        const doc = {
          encrypted: false,
          folders: [],
          items: logins.map((l, i) => ({
            id: `id-${i}`,
            organizationId: null,
            folderId: null,
            type: 1,
            reprompt: 0,
            name: l.name,
            notes: null,
            favorite: false,
            login: { uris: [], username: l.username, password: l.password, totp: null, fido2Credentials: [] },
            collectionIds: null,
          })),
        };
        const plan = planBitwardenImport(JSON.stringify(doc, null, '  '));
        expect(plan.candidates.map((c) => [c.fields.name, c.fields.value])).toEqual(
          logins.map((l) => [l.name, l.password]),
        );
      },
      200,
    );
  });

  it('arbitrary JSON and arbitrary text: a plan or an ImportError, nothing else', () => {
    check(fc.jsonValue(), (v) => void typedOnly(() => planBitwardenImport(JSON.stringify(v)), ImportError), 500);
    check(
      fc.record({ encrypted: fc.constant(false), items: fc.array(fc.jsonValue(), { maxLength: 5 }) }),
      (doc) => void typedOnly(() => planBitwardenImport(JSON.stringify(doc)), ImportError),
      500,
    );
    check(fc.string({ maxLength: 200 }), (text) => void typedOnly(() => planBitwardenImport(text), ImportError), 300);
  });
});

// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { parseDotenv, planDotenvImport } from '../../../lib/import/dotenv';
import { ImportError } from '../../../lib/import/errors';
import { importFixture } from './fixtures';

function thrown(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ImportError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('.env import', () => {
  it('reads comments, export, spaces, inline comments, quotes and multi-line values like dotenv', () => {
    expect(parseDotenv(importFixture('sample.env'))).toEqual([
      { key: 'DATABASE_URL', value: 'postgres://app:fixture-env-pw@localhost:5432/app', line: 2 },
      { key: 'API_KEY', value: 'fixture-api-key-123', line: 3 },
      { key: 'EMPTY', value: '', line: 4 },
      { key: 'SINGLE', value: 'literal $HOME and \\n stay as typed', line: 5 },
      { key: 'DOUBLE', value: 'tab\there, newline\nthere', line: 6 },
      {
        key: 'PRIVATE_KEY',
        value: '-----BEGIN PRIVATE KEY-----\nfixture-line-one\nfixture-line-two\n-----END PRIVATE KEY-----',
        line: 7,
      },
      { key: 'HASH_IN_QUOTES', value: 'value#with#hashes', line: 12 },
    ]);
  });

  it('agrees with the dotenv package on the fixture (same keys, same values)', async () => {
    const { parse } = await import('dotenv');
    const ours = Object.fromEntries(parseDotenv(importFixture('sample.env')).map((e) => [e.key, e.value]));
    const theirs = parse(importFixture('sample.env'));
    // dotenv expands only \n and \r inside double quotes: \t stays as typed there.
    expect({ ...ours, DOUBLE: ours.DOUBLE!.replace('\t', '\\t') }).toEqual(theirs);
  });

  it('a bad line is a typed error naming it, and nothing is planned', () => {
    const err = thrown(() => planDotenvImport(importFixture('bad-line.env')));
    expect(err).toMatchObject({ code: 'import_malformed', position: { line: 2, column: 6 } });
    expect(err.message).not.toContain('fixture');
  });

  it('an unclosed quote names the line it opened on; text after a closing quote is refused', () => {
    expect(thrown(() => parseDotenv('A=1\nB="open\nstill\n')).position).toEqual({ line: 2, column: 3 });
    expect(thrown(() => parseDotenv("A='x' y\n")).position).toEqual({ line: 1, column: 7 });
    expect(thrown(() => parseDotenv('A 1\n')).message).toMatch(/“=” is missing/);
  });

  it('a key set twice: the last wins, and the preview says so', () => {
    const plan = planDotenvImport('A=1\nB=2\nA=3\n');
    expect(plan.candidates.map((c) => [c.fields.name, c.fields.value])).toEqual([
      ['B', '2'],
      ['A', '3'],
    ]);
    expect(plan.notes).toEqual(['A is set on lines 1, 3; the last one (line 3) is imported.']);
  });

  it('CRLF files read the same as LF files', () => {
    expect(parseDotenv('A=1\r\nB="x\r\ny"\r\n')).toEqual([
      { key: 'A', value: '1', line: 1 },
      { key: 'B', value: 'x\ny', line: 2 },
    ]);
  });
});

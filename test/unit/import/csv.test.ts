// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { planCsvImport } from '../../../lib/import/csv';
import { ImportError } from '../../../lib/import/errors';
import { RESERVED_TAG_PREFIX } from '../../../lib/storage/vault-tags';
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

describe('CSV import', () => {
  it('reads quoted commas, line breaks and doubled quotes; sources name the line each row starts on', () => {
    const plan = planCsvImport(importFixture('secrets.csv'));
    expect(plan.candidates.map((c) => [c.source, c.fields.name, c.fields.value, c.fields.notes])).toEqual([
      ['line 2', 'Stripe live key', 'sk_live_fixture_51Hc', 'Billing, production'],
      [
        'line 3',
        'Database URL, primary',
        'postgres://app:fixture-pw@db.internal:5432/app',
        'Read-write.\nRotate every 90 days.',
      ],
      ['line 5', 'Webhook signing secret', 'whsec_"quoted"_fixture', ''],
    ]);
  });

  it('an unclosed quote names its line and imports nothing', () => {
    const err = thrown(() => planCsvImport(importFixture('secrets-unclosed-quote.csv')));
    expect(err.code).toBe('import_malformed');
    expect(err.position?.line).toBe(3);
    expect(err.message).toMatch(/never closed.*line 3/);
    expect(err.message).not.toContain('fixture');
  });

  it('a header is required, with known columns only', () => {
    const noHeader = thrown(() => planCsvImport('API,sk-1\n'));
    expect(noHeader.message).toMatch(/unknown column \(column 1\)/);
    expect(noHeader.message).not.toContain('sk-1');
    expect(thrown(() => planCsvImport('notes\nx\n')).message).toMatch(/not a header row/);
    expect(thrown(() => planCsvImport('')).code).toBe('import_empty');
  });

  it('a row with a different number of fields names its line', () => {
    const err = thrown(() => planCsvImport('name,value\na,1\nb,2,3\n'));
    expect(err).toMatchObject({ code: 'import_malformed', position: { line: 3 } });
  });

  it('a row with no name is refused with its line, and tags never enter the clawkeep: namespace', () => {
    expect(thrown(() => planCsvImport('name,value\n ,v\n')).message).toMatch(/^line 2: Name is required/);
    const plan = planCsvImport(`Name,Value,Tags\nk,v,prod;${RESERVED_TAG_PREFIX}installations\n`);
    expect(plan.candidates[0]!.fields.tags).toEqual(['prod']);
    expect(plan.notes).toHaveLength(1);
  });
});

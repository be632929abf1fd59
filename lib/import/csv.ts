/**
 * A generic CSV of secrets: a header row naming the columns `name`, `value` and optionally `notes` and `tags`
 * (any order, any case; tags separated by `;`), then one row per secret. RFC 4180 quoting: a field in double quotes
 * may hold commas, line breaks and doubled quotes ("").
 *
 * Parsed with papaparse (maintained, RFC 4180, no dependencies, runs in the browser and in workers; Bitwarden's own
 * exporter uses it too) rather than a hand-written splitter: quoted line breaks and doubled quotes are exactly where
 * hand-written CSV code goes wrong. Its errors carry the character offset of an unclosed quote, which we turn into a
 * line and column.
 */
import Papa from 'papaparse';
import { candidate, finishPlan, importableTags, type ImportPlan } from './candidate';
import { describePosition, ImportError, positionAt } from './errors';

const REQUIRED = ['name', 'value'] as const;
const KNOWN = new Set(['name', 'value', 'notes', 'tags']);
const HEADER_HELP = 'The first row must name the columns: name, value and optionally notes, tags.';

interface Row {
  cells: string[];
  /** Offset of the row's first character in the text. */
  start: number;
}

/** Splits the text into rows, or throws a positioned ImportError (an unclosed quote, a malformed quote). */
function readRows(text: string): Row[] {
  const rows: Row[] = [];
  let start = 0;
  let failure = null as ImportError | null;
  Papa.parse<string[]>(text, {
    delimiter: ',',
    skipEmptyLines: true,
    step: (result, parser) => {
      // Skipped blank lines sit between the previous row's end and this row's first character.
      while (start < text.length && (text[start] === '\n' || text[start] === '\r')) start++;
      const error = result.errors[0];
      if (error) {
        const at = positionAt(text, error.code === 'MissingQuotes' ? start : (error.index ?? start));
        failure = new ImportError(
          'import_malformed',
          error.code === 'MissingQuotes'
            ? `The CSV has a quoted field that is never closed, starting on ${describePosition({ line: at.line })}. Nothing was imported.`
            : `The CSV has a malformed quote on ${describePosition(at)}. Nothing was imported.`,
          at,
        );
        parser.abort();
        return;
      }
      rows.push({ cells: result.data, start });
      start = result.meta.cursor;
    },
  });
  if (failure) throw failure;
  return rows;
}

/** Turns CSV text into an import plan (nothing written). */
export function planCsvImport(input: string): ImportPlan {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const rows = readRows(text);
  const [header, ...body] = rows;
  if (!header) throw new ImportError('import_empty', 'The file is empty.');
  const columns = header.cells.map((c) => c.trim().toLowerCase());
  const unknown = columns.filter((c) => !KNOWN.has(c));
  if (unknown.length || REQUIRED.some((c) => !columns.includes(c)))
    throw new ImportError(
      'import_unsupported',
      unknown.length
        ? // Not quoted back: without a header, that cell may be a secret.
          `Line 1 has an unknown column (column ${columns.indexOf(unknown[0]!) + 1}). ${HEADER_HELP}`
        : `Line 1 is not a header row. ${HEADER_HELP}`,
      { line: 1 },
    );
  if (new Set(columns).size !== columns.length)
    throw new ImportError('import_unsupported', `Line 1 names a column twice. ${HEADER_HELP}`, { line: 1 });

  const plan: ImportPlan = { format: 'csv', candidates: [], skipped: [], notes: [] };
  const dropped = (tag: string) => plan.notes.push(`The tag “${tag}” is reserved for Clawkeep and was left out.`);
  for (const row of body) {
    const line = positionAt(text, row.start).line;
    if (row.cells.length !== columns.length)
      throw new ImportError(
        'import_malformed',
        `Line ${line} has ${row.cells.length} fields; the header has ${columns.length}. Nothing was imported.`,
        { line },
      );
    const get = (column: string): string => row.cells[columns.indexOf(column)] ?? '';
    plan.candidates.push(
      candidate(`line ${line}`, 'the value', {
        name: get('name'),
        value: get('value'),
        notes: get('notes'),
        tags: importableTags(get('tags').split(';'), dropped),
      }),
    );
  }
  return finishPlan(plan);
}

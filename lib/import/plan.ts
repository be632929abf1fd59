/**
 * One entry point for imports from other tools: read the file (size-capped, strict UTF-8), guess its format from
 * its name and first character, and build the plan the preview shows. Nothing here writes to the vault.
 */
import { planBitwardenImport } from './bitwarden';
import { IMPORT_MAX_BYTES, type ImportFormat, type ImportPlan } from './candidate';
import { planCsvImport } from './csv';
import { planDotenvImport } from './dotenv';
import { ImportError } from './errors';

export { FORMAT_LABELS, IMPORT_MAX_BYTES, IMPORT_MAX_ITEMS } from './candidate';
export type { ImportCandidate, ImportFormat, ImportPlan, SkippedEntry } from './candidate';
export { ImportError } from './errors';

/** The file's text; refuses a file over IMPORT_MAX_BYTES before reading it, and bytes that are not UTF-8. */
export async function readImportFile(file: Blob): Promise<string> {
  if (file.size > IMPORT_MAX_BYTES)
    throw new ImportError(
      'import_too_large',
      `The file is ${(file.size / 1024 / 1024).toFixed(1)} MiB; imports are limited to ${IMPORT_MAX_BYTES / 1024 / 1024} MiB.`,
    );
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ImportError('import_malformed', 'The file is not UTF-8 text. Nothing was imported.');
  } finally {
    // The export holds secrets in the clear: do not leave a second copy in this buffer.
    bytes.fill(0);
  }
}

/** The likely format: by extension first, then by content (a JSON object → Bitwarden, KEY= on a line → .env). */
export function detectFormat(fileName: string, text: string): ImportFormat {
  const name = fileName.toLowerCase();
  if (name.endsWith('.json')) return 'bitwarden-json';
  if (name.endsWith('.csv')) return 'csv';
  if (name === '.env' || name.startsWith('.env.') || name.endsWith('.env')) return 'dotenv';
  const start = text.trimStart();
  if (start.startsWith('{')) return 'bitwarden-json';
  if (/^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=/m.test(start) && !start.split('\n', 1)[0]!.includes(','))
    return 'dotenv';
  return 'csv';
}

/** Builds the preview of importing `text` as `format`; throws a typed ImportError for a malformed file. */
export function planImport(format: ImportFormat, text: string): ImportPlan {
  if (format === 'bitwarden-json') return planBitwardenImport(text);
  if (format === 'csv') return planCsvImport(text);
  return planDotenvImport(text);
}

/**
 * Typed errors of importing another tool's export (lib/import). The message is written for a person and names where
 * the file went wrong (line, column, entry); it never quotes a value from the file, which may be a secret.
 */
import { ClawkeepError } from '../errors';

export type ImportErrorCode =
  // The file is larger than IMPORT_MAX_BYTES, or lists more than IMPORT_MAX_ITEMS entries.
  | 'import_too_large'
  // The file is not well-formed in its format (truncated JSON, an unclosed quote, a bad .env line …).
  | 'import_malformed'
  // Well-formed, but not something Clawkeep can import (an encrypted Bitwarden export, unknown CSV columns …).
  | 'import_unsupported'
  // Nothing in the file would become an item.
  | 'import_empty';

/** Where in the file the problem is: 1-based line and column, when the format lets us tell. */
export interface ImportPosition {
  line: number;
  column?: number;
}

export class ImportError extends ClawkeepError {
  declare readonly code: ImportErrorCode;
  readonly position: ImportPosition | null;

  constructor(code: ImportErrorCode, message: string, position: ImportPosition | null = null) {
    super(code, message);
    this.name = 'ImportError';
    this.position = position;
  }
}

/** "line 4, column 7" / "line 4": the suffix every positioned message uses. */
export function describePosition(p: ImportPosition): string {
  return p.column === undefined ? `line ${p.line}` : `line ${p.line}, column ${p.column}`;
}

/** 1-based line and column of a 0-based character offset in `text`. */
export function positionAt(text: string, offset: number): ImportPosition {
  const clamped = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < clamped; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: clamped - lineStart + 1 };
}

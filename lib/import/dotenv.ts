/**
 * `.env` files, in the syntax the `dotenv` package reads (github.com/motdotla/dotenv, README "Rules"):
 * - one `KEY=value` per line; blank lines and lines starting with `#` are ignored; an optional `export ` prefix;
 *   spaces around `=` and around an unquoted value are dropped;
 * - an unquoted value ends at a ` #` inline comment;
 * - a value in single quotes or backticks is taken literally; in double quotes `\n`, `\r`, `\t`, `\"` and `\\` are
 *   expanded (dotenv expands the first two; the other three let any value round-trip); a quoted value may span lines;
 * - after a closing quote only spaces and a `# comment` may follow;
 * - a key set twice: the last one wins (dotenv's `parse`); `${VAR}` is not expanded (that is dotenv-expand).
 *
 * Not the `dotenv` package itself: its module loads `fs`, `path`, `os` and `crypto` at the top, which an extension
 * page cannot, and its parser silently skips lines it cannot read, where an import must say which line is wrong.
 * Its behaviour is pinned by test/unit/import/dotenv.test.ts and the round-trip property in test/unit/property/.
 */
import { candidate, finishPlan, type ImportPlan } from './candidate';
import { describePosition, ImportError, type ImportPosition } from './errors';

/** One `KEY=value` read from the file, with the line it starts on. */
export interface DotenvEntry {
  key: string;
  value: string;
  line: number;
}

const KEY = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

function malformed(message: string, at: ImportPosition): ImportError {
  return new ImportError('import_malformed', `${message} (${describePosition(at)}). Nothing was imported.`, at);
}

/**
 * Reads every entry of a .env text, or throws an ImportError naming the first line that is not valid; never
 * quotes the file's text in the message.
 */
export function parseDotenv(input: string): DotenvEntry[] {
  const text = input.replace(/\r\n?/g, '\n');
  const entries: DotenvEntry[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = (offset: number): ImportPosition => ({ line, column: offset - lineStart + 1 });
  const skipBlanks = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const nextLine = () => {
    const nl = text.indexOf('\n', i);
    i = nl === -1 ? text.length : nl + 1;
    if (nl !== -1) {
      line++;
      lineStart = i;
    }
  };

  while (i < text.length) {
    skipBlanks();
    if (i >= text.length) break;
    if (text[i] === '\n' || text[i] === '#') {
      nextLine();
      continue;
    }
    const entryLine = line;
    if (text.startsWith('export', i) && (text[i + 6] === ' ' || text[i + 6] === '\t')) {
      i += 6;
      skipBlanks();
    }
    KEY.lastIndex = i;
    const key = KEY.exec(text)?.[0];
    if (!key) throw malformed('This line does not start with a variable name', at(i));
    i += key.length;
    skipBlanks();
    // The would-be name is not quoted back: on a broken line it may well be a value.
    if (text[i] !== '=') throw malformed('This line is not NAME=value: “=” is missing after the name', at(i));
    i++;
    skipBlanks();

    let value: string;
    const quote = text[i];
    if (quote === '"' || quote === "'" || quote === '`') {
      const open = at(i);
      i++;
      let out = '';
      for (;;) {
        if (i >= text.length) throw malformed(`The quoted value of “${key}” is never closed`, open);
        const c = text[i]!;
        if (c === quote) break;
        if (c === '\\' && quote === '"' && i + 1 < text.length && ESCAPES[text[i + 1]!] !== undefined) {
          out += ESCAPES[text[i + 1]!];
          i += 2;
          continue;
        }
        if (c === '\n') {
          line++;
          lineStart = i + 1;
        }
        out += c;
        i++;
      }
      i++;
      skipBlanks();
      if (i < text.length && text[i] !== '\n' && text[i] !== '#')
        throw malformed(`Unexpected text after the closing quote of “${key}”`, at(i));
      value = out;
      nextLine();
    } else {
      const nl = text.indexOf('\n', i);
      let raw = text.slice(i, nl === -1 ? text.length : nl);
      const comment = raw.search(/[ \t]#/);
      if (comment !== -1) raw = raw.slice(0, comment);
      value = raw.trim();
      nextLine();
    }
    entries.push({ key, value, line: entryLine });
  }
  return entries;
}

/** Turns .env text into an import plan: one secret per variable, named by the variable (nothing written). */
export function planDotenvImport(text: string): ImportPlan {
  const plan: ImportPlan = { format: 'dotenv', candidates: [], skipped: [], notes: [] };
  const last = new Map<string, DotenvEntry>();
  const lines = new Map<string, number[]>();
  for (const entry of parseDotenv(text)) {
    last.set(entry.key, entry);
    lines.set(entry.key, [...(lines.get(entry.key) ?? []), entry.line]);
  }
  for (const [key, seen] of lines)
    if (seen.length > 1)
      plan.notes.push(`${key} is set on lines ${seen.join(', ')}; the last one (line ${seen.at(-1)}) is imported.`);
  for (const entry of [...last.values()].sort((a, b) => a.line - b.line))
    plan.candidates.push(
      candidate(`line ${entry.line}`, 'the value', { name: entry.key, value: entry.value, notes: '', tags: [] }),
    );
  return finishPlan(plan);
}

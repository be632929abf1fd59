import { parseArgs } from 'node:util';
import { ClawkeepError, type CliErrorCode } from '../lib/errors';

/**
 * One `clawkeep` subcommand. Each lives in its own module under `bin/commands/` and is listed in `bin/main.ts`.
 * `run` resolves with the process exit code; throw UsageError for bad arguments (exit 2, usage on stderr).
 */
export interface Command {
  readonly name: string;
  /** One line for `clawkeep --help`. */
  readonly summary: string;
  /** Full usage text for `clawkeep <name> --help` and usage errors. */
  readonly usage: string;
  run(argv: string[]): Promise<number>;
}

/** Bad arguments: the CLI exits 2 and prints the usage. */
export class UsageError extends ClawkeepError {
  declare readonly code: CliErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super('usage_invalid', message, options);
    this.name = 'UsageError';
  }
}

type StringOptions = Record<string, { type: 'string' }>;
type ArgOptions = Record<string, { type: 'string' } | { type: 'boolean' }>;
type ArgValues<T extends ArgOptions> = { [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : string };

/**
 * Parses options strictly (unknown options are usage errors), with positionals, and adds `-h/--help`.
 * Returns null when help was asked for and printed.
 */
export function parseCommandArgs<T extends ArgOptions>(
  command: Pick<Command, 'usage'>,
  argv: string[],
  options: T,
): { values: ArgValues<T>; positionals: string[] } | null {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.values.help) {
    console.log(command.usage);
    return null;
  }
  return { values: parsed.values as ArgValues<T>, positionals: parsed.positionals };
}

/**
 * Parses `--name value` options strictly (unknown options and positionals are usage errors) and adds `-h/--help`.
 * Returns null when help was asked for and printed.
 */
export function parseCommandOptions<T extends StringOptions>(
  command: Pick<Command, 'usage'>,
  argv: string[],
  options: T,
): { [K in keyof T]?: string } | null {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    console.log(command.usage);
    return null;
  }
  return values as { [K in keyof T]?: string };
}

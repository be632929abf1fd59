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

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

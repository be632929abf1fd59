/**
 * The hub's structured logger. Fields are flat primitives on purpose: there is no way to hand it a headers object
 * or a body by accident. What is logged is decided in one place (middleware/access-log.ts): method, path without
 * query, status, duration and request id; never headers, bodies, query strings or error messages.
 */
export type LogFields = Record<string, string | number | boolean | null>;

export interface HubLogger {
  info(event: string, fields: LogFields): void;
  warn(event: string, fields: LogFields): void;
  error(event: string, fields: LogFields): void;
}

/** One JSON object per line: `{"time":"...","level":"info","event":"request",...}`. */
export function jsonLinesLogger(
  write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
): HubLogger {
  const emit = (level: string) => (event: string, fields: LogFields) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }));
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** Discards everything (tests that do not look at logs). */
export const silentLogger: HubLogger = { info() {}, warn() {}, error() {} };

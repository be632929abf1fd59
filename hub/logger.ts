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

/**
 * Writes lines to stdout, the lines of one turn of the event loop in one write: stdout is corked at the first line
 * and uncorked by setImmediate. Under load the access log was one write (one system call, 5 a request cycle) per
 * request; now it is one per turn. Order is kept; a process killed with SIGKILL loses at most that turn's lines,
 * and a normal exit runs the pending uncork first.
 */
export function batchedStdout(stream: NodeJS.WritableStream & { cork(): void; uncork(): void } = process.stdout) {
  let corked = false;
  return (line: string): void => {
    if (!corked) {
      corked = true;
      stream.cork();
      setImmediate(() => {
        corked = false;
        stream.uncork();
      });
    }
    stream.write(line + '\n');
  };
}

/** One JSON object per line: `{"time":"...","level":"info","event":"request",...}`. */
export function jsonLinesLogger(write: (line: string) => void = batchedStdout()): HubLogger {
  const emit = (level: string) => (event: string, fields: LogFields) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }));
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** Discards everything (tests that do not look at logs). */
export const silentLogger: HubLogger = { info() {}, warn() {}, error() {} };

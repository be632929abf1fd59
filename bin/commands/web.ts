import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandOptions, UsageError, type Command } from '../command';
import { catchSignal } from '../signals';
import { startWebServer } from '../web-server';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`--port must be 0-65535, got "${value}"`);
  return Number(value);
}

export const webCommand: Command = {
  name: 'web',
  summary: 'serve the built web vault on 127.0.0.1',
  usage: [
    'Usage: clawkeep web [--port N] [--dir DIR]',
    '',
    '  --port N   port on 127.0.0.1 (default: a free port)',
    '  --dir DIR  built web vault (default: dist/web of this checkout; build it with `npm run build:web`)',
  ].join('\n'),
  async run(argv) {
    const values = parseCommandOptions(this, argv, { port: { type: 'string' }, dir: { type: 'string' } });
    if (!values) return 0;
    const port = parsePort(values.port);
    const dir = values.dir ? path.resolve(values.dir) : path.join(REPO_ROOT, 'dist', 'web');
    const signal = catchSignal();
    let server;
    try {
      server = await startWebServer({ dir, port });
    } catch (err) {
      signal.dispose();
      throw err;
    }
    console.log(`listening on ${server.url}`);
    await signal.received;
    await server.close();
    return 0;
  },
};

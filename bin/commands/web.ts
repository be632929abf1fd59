import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError, type Command } from '../command';
import { catchSignal } from '../signals';
import { hubOriginForCsp, startWebServer } from '../web-server';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`--port must be 0-65535, got "${value}"`);
  return Number(value);
}

/**
 * `--hub-origin` values (repeatable, each also comma-separated, like the hub's `--allow-origin`) as the origins the
 * web vault's CSP allows besides loopback. A value that is not exactly an origin is a usage error: it would go into
 * the Content-Security-Policy header as written.
 */
export function parseHubOrigins(values: readonly string[] | undefined): string[] {
  const origins = (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim());
  return origins.map((origin) => {
    try {
      return hubOriginForCsp(origin);
    } catch (err) {
      throw new UsageError(`--hub-origin: ${(err as Error).message}`, { cause: err });
    }
  });
}

const OPTIONS = {
  port: { type: 'string' },
  dir: { type: 'string' },
  'hub-origin': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;
const parseOptions = (args: string[]) => parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false });

export const webCommand: Command = {
  name: 'web',
  summary: 'serve the built web vault on 127.0.0.1',
  usage: [
    'Usage: clawkeep web [--port N] [--dir DIR] [--hub-origin ORIGIN]...',
    '',
    '  --port N             port on 127.0.0.1 (default: a free port)',
    '  --dir DIR            built web vault (default: dist/web of this checkout; build it with `npm run build:web`)',
    '  --hub-origin ORIGIN  a hub on another machine the vault may call, by its public origin',
    '                       (https://hub.example.com[:PORT]); repeatable or comma-separated. Loopback hubs are always',
    "                       allowed. Start that hub with --allow-origin set to this web vault's URL.",
  ].join('\n'),
  async run(argv) {
    let values: ReturnType<typeof parseOptions>['values'];
    try {
      ({ values } = parseOptions(argv));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (values.help) {
      console.log(this.usage);
      return 0;
    }
    const port = parsePort(values.port);
    const hubOrigins = parseHubOrigins(values['hub-origin']);
    const dir = values.dir ? path.resolve(values.dir) : path.join(REPO_ROOT, 'dist', 'web');
    const signal = catchSignal();
    let server;
    try {
      server = await startWebServer({ dir, port, hubOrigins });
    } catch (err) {
      signal.dispose();
      throw err;
    }
    console.log(`listening on ${server.url}`);
    if (hubOrigins.length > 0) console.log(`hubs this vault may call besides loopback: ${hubOrigins.join(' ')}`);
    await signal.received;
    await server.close();
    return 0;
  },
};

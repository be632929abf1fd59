import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { startHub } from '../../hub/server';
import { reissueEnrollmentCode } from '../../hub/enrollment';
import { StoreError } from '../../hub/store/errors';
import { DB_FILE, openSqliteStore } from '../../hub/store/sqlite';
import { isOrigin } from '../../lib/protocol/fields';
import { parsePort } from './web';
import { catchSignal } from '../signals';

/** Port the hub listens on when none is given: clients (extension, agents) need a stable address. */
export const DEFAULT_HUB_PORT = 8787;

export const hubCommand: Command = {
  name: 'hub',
  summary: 'run the approvals hub on 127.0.0.1',
  usage: [
    'Usage: clawkeep hub --data DIR [--port N] [--allow-origin ORIGIN[,ORIGIN...]] [--public-origin ORIGIN] [--intent-retention-days N]',
    '       clawkeep hub enrollment-code --data DIR',
    '',
    `  --port N    port on 127.0.0.1 (default ${DEFAULT_HUB_PORT}; 0 picks a free port)`,
    '  --data DIR  directory for hub.sqlite (created if missing)',
    '  --allow-origin ORIGINS  web pages (e.g. the web vault, http://127.0.0.1:5178) that may call the hub (CORS); comma-separated, never *',
    '  --public-origin ORIGIN  the origin clients reach the hub at, when a reverse proxy stands in front (default: the listening address)',
    '  --intent-retention-days N  days after a decided or expired request expired before its payload is deleted (default 30; the id, hash, status and times stay)',
    '',
    'On the first start of an empty hub it prints a one-time enrollment code. It is shown once only.',
    '`clawkeep hub enrollment-code --data DIR` issues a new one (a lost code need not mean wiping the hub): it is',
    'printed once, and every earlier unused code stops working, also for a hub already running on that directory.',
  ].join('\n'),
  async run(argv) {
    const args = parseCommandArgs(this, argv, {
      port: { type: 'string' },
      data: { type: 'string' },
      'allow-origin': { type: 'string' },
      'public-origin': { type: 'string' },
      'intent-retention-days': { type: 'string' },
    });
    if (!args) return 0;
    const { values, positionals } = args;
    if (!values.data) throw new UsageError('--data DIR is required');
    if (positionals.length > 0) {
      if (positionals.length !== 1 || positionals[0] !== 'enrollment-code')
        throw new UsageError(`unknown arguments: ${positionals.join(' ')}`);
      const serving = ['port', 'allow-origin', 'public-origin', 'intent-retention-days'] as const;
      const extra = serving.filter((o) => values[o] !== undefined);
      if (extra.length > 0) throw new UsageError(`enrollment-code takes only --data (not --${extra.join(', --')})`);
      return await newEnrollmentCode(path.resolve(values.data));
    }
    const port = values.port === undefined ? DEFAULT_HUB_PORT : parsePort(values.port);
    const allowOrigins =
      values['allow-origin'] === undefined ? [] : values['allow-origin'].split(',').map((o) => o.trim());
    if (allowOrigins.some((o) => !isOrigin(o)))
      throw new UsageError(
        '--allow-origin takes origins like http://127.0.0.1:5178 (https, or http on loopback), comma-separated',
      );
    const publicOrigin = values['public-origin'];
    if (publicOrigin !== undefined && !isOrigin(publicOrigin))
      throw new UsageError('--public-origin takes an origin like https://hub.example.com (https, or http on loopback)');
    const days = values['intent-retention-days'];
    if (days !== undefined && !/^\d{1,5}$/.test(days))
      throw new UsageError('--intent-retention-days takes a whole number of days (0-99999)');
    const intentRetentionMs = days === undefined ? undefined : Number(days) * 24 * 60 * 60 * 1000;
    const signal = catchSignal();
    let hub;
    try {
      hub = await startHub({ port, dataDir: path.resolve(values.data), allowOrigins, publicOrigin, intentRetentionMs });
    } catch (err) {
      signal.dispose();
      throw err;
    }
    // The code before the URL: `npm start` reads everything up to "listening on" to show both.
    if (hub.enrollmentCode) console.log(`Enrollment code: ${hub.enrollmentCode} (shown once)`);
    // Public: what a person can compare with what the extension pinned ("Hub key fingerprint" in the Agents tab).
    console.log(`Hub identity: ${hub.identity.fingerprint}`);
    if (hub.url !== hub.listenUrl) console.log(`public origin: ${hub.url} (clients must use this URL)`);
    console.log(`listening on ${hub.listenUrl}`);
    // A signal during startup resolves this at once: the hub then closes right after starting, cleanly.
    await signal.received;
    await hub.close();
    return 0;
  },
};

/** `clawkeep hub enrollment-code`: retires the unused codes of an existing hub and prints a new one, once. */
async function newEnrollmentCode(dataDir: string): Promise<number> {
  const file = path.join(dataDir, DB_FILE);
  if (!existsSync(file))
    throw new UsageError(`no hub database at ${file} (start the hub once with \`clawkeep hub --data DIR\`)`);
  let store;
  try {
    // Not read-only: the new code's hash is written. SQLite's busy timeout lets this wait for a running hub's writes.
    store = openSqliteStore({ file });
  } catch (err) {
    throw new UsageError(err instanceof StoreError ? err.message : (err as Error).message);
  }
  try {
    const { code, retired } = await reissueEnrollmentCode(store, Date.now());
    console.log(`Enrollment code: ${code} (shown once)`);
    if (retired > 0) console.log(`The previous unused code no longer works (${retired} retired).`);
    return 0;
  } finally {
    await store.close();
  }
}

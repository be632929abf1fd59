import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { startHub } from '../../hub/server';
import { ListenError } from '../../hub/listener';
import { reissueEnrollmentCode } from '../../hub/enrollment';
import { StoreError } from '../../hub/store/errors';
import { DB_FILE } from '../../hub/store/sqlite';
import { describeStoreLocation, openStore, type StoreLocation } from '../../hub/store/open';
import { storeOption } from './store-option';
import { isOrigin } from '../../lib/protocol/fields';
import { parsePort } from './web';
import { catchSignal } from '../signals';

/** Port the hub listens on when none is given: clients (extension, agents) need a stable address. */
export const DEFAULT_HUB_PORT = 8787;

/**
 * `--listen HOST:PORT`: an IP literal (IPv6 in brackets) and a port. Names are refused: what a name resolves to can
 * change, and the bind address is never what clients are told anyway (that is --public-origin).
 */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(value);
  if (!m || Number(m[3]) > 65535)
    throw new UsageError(
      `--listen takes HOST:PORT with an IP address, e.g. 127.0.0.1:8787 or [::]:8443, got "${value}"`,
    );
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

export const hubCommand: Command = {
  name: 'hub',
  summary: 'run the approvals hub (127.0.0.1 by default; TLS or a trusted proxy for remote agents)',
  usage: [
    'Usage: clawkeep hub --data DIR [--store sqlite:DIR | --store postgres://USER@HOST:PORT/DB]',
    '                    [--listen HOST:PORT | --port N] [--public-origin ORIGIN]',
    '                    [--tls-cert FILE --tls-key FILE] [--trusted-proxy ADDR[,ADDR...] [--proxy-headers x-forwarded|forwarded]]',
    '                    [--allow-origin ORIGIN[,ORIGIN...]] [--intent-retention-days N]',
    '       clawkeep hub enrollment-code --data DIR [--store …]',
    '',
    `  --port N    port on 127.0.0.1 (default ${DEFAULT_HUB_PORT}; 0 picks a free port); same as --listen 127.0.0.1:N`,
    '  --listen HOST:PORT  address to listen on, an IP (e.g. 0.0.0.0:8443, [::]:8443). Any but loopback needs TLS',
    '              or --trusted-proxy, and --public-origin',
    '  --data DIR  directory for the hub identity file and, by default, hub.sqlite (created if missing)',
    '  --store sqlite:DIR | postgres://USER@HOST:PORT/DB  where the data lives (default sqlite:<--data>). Several hub',
    '              processes may share one PostgreSQL database if they have the same identity file (copy it from',
    '              the first). Give the password in PGPASSWORD or ~/.pgpass, not in the URL (it would show in ps).',
    '  --public-origin ORIGIN  the URL clients use (https://hub.example.com[:PORT]): signatures, statements and the',
    '              Host check bind to it, never to the bind address (default: the listening address)',
    '  --tls-cert FILE --tls-key FILE  serve TLS with these PEM files; SIGHUP re-reads them (a bad pair keeps the old one)',
    '  --trusted-proxy ADDRS  IP addresses of reverse proxies in front of the hub: only their X-Forwarded-For/-Proto/-Host',
    '              (or Forwarded, with --proxy-headers forwarded) are believed, from nobody else',
    '  --allow-origin ORIGINS  web pages (e.g. the web vault, http://127.0.0.1:5178) that may call the hub (CORS); comma-separated, never *',
    '  --intent-retention-days N  days after a decided or expired request expired before its payload is deleted (default 30; the id, hash, status and times stay)',
    '',
    'On the first start of an empty hub it prints a one-time enrollment code. It is shown once only.',
    '`clawkeep hub enrollment-code --data DIR` issues a new one (a lost code need not mean wiping the hub): it is',
    'printed once, and every earlier unused code stops working, also for a hub already running on that directory.',
    'Deployment (TLS, reverse proxies, backups): docs/deployment.md.',
  ].join('\n'),
  async run(argv) {
    const args = parseCommandArgs(this, argv, {
      port: { type: 'string' },
      listen: { type: 'string' },
      data: { type: 'string' },
      store: { type: 'string' },
      'allow-origin': { type: 'string' },
      'public-origin': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'trusted-proxy': { type: 'string' },
      'proxy-headers': { type: 'string' },
      'intent-retention-days': { type: 'string' },
    });
    if (!args) return 0;
    const { values, positionals } = args;
    if (!values.data) throw new UsageError('--data DIR is required');
    const store = storeOption(values.store, path.resolve(values.data));
    if (positionals.length > 0) {
      if (positionals.length !== 1 || positionals[0] !== 'enrollment-code')
        throw new UsageError(`unknown arguments: ${positionals.join(' ')}`);
      const serving = [
        'port',
        'listen',
        'allow-origin',
        'public-origin',
        'tls-cert',
        'tls-key',
        'trusted-proxy',
        'proxy-headers',
        'intent-retention-days',
      ] as const;
      const extra = serving.filter((o) => values[o] !== undefined);
      if (extra.length > 0)
        throw new UsageError(`enrollment-code takes only --data and --store (not --${extra.join(', --')})`);
      return await newEnrollmentCode(store);
    }
    if (values.port !== undefined && values.listen !== undefined)
      throw new UsageError('give --listen HOST:PORT or --port N, not both');
    const { host, port } =
      values.listen !== undefined
        ? parseListen(values.listen)
        : { host: '127.0.0.1', port: values.port === undefined ? DEFAULT_HUB_PORT : parsePort(values.port) };
    if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined))
      throw new UsageError('--tls-cert and --tls-key go together');
    const tls =
      values['tls-cert'] === undefined
        ? undefined
        : { certFile: path.resolve(values['tls-cert']), keyFile: path.resolve(values['tls-key']!) };
    const trustedProxies =
      values['trusted-proxy'] === undefined ? [] : values['trusted-proxy'].split(',').map((a) => a.trim());
    const proxyHeaders = values['proxy-headers'];
    if (proxyHeaders !== undefined && proxyHeaders !== 'x-forwarded' && proxyHeaders !== 'forwarded')
      throw new UsageError('--proxy-headers is x-forwarded (X-Forwarded-For/-Proto/-Host) or forwarded (RFC 7239)');
    if (proxyHeaders !== undefined && trustedProxies.length === 0)
      throw new UsageError('--proxy-headers needs --trusted-proxy');
    const allowOrigins =
      values['allow-origin'] === undefined ? [] : values['allow-origin'].split(',').map((o) => o.trim());
    if (allowOrigins.some((o) => !isOrigin(o)))
      throw new UsageError(
        '--allow-origin takes origins like http://127.0.0.1:5178 (https, or http on loopback), comma-separated',
      );
    const publicOrigin = values['public-origin'];
    if (publicOrigin !== undefined && !isOrigin(publicOrigin))
      throw new UsageError(
        '--public-origin takes an origin like https://hub.example.com (https, or http on loopback; no path, no trailing slash)',
      );
    const days = values['intent-retention-days'];
    if (days !== undefined && !/^\d{1,5}$/.test(days))
      throw new UsageError('--intent-retention-days takes a whole number of days (0-99999)');
    const intentRetentionMs = days === undefined ? undefined : Number(days) * 24 * 60 * 60 * 1000;
    const signal = catchSignal();
    let hub;
    try {
      hub = await startHub({
        host,
        port,
        dataDir: path.resolve(values.data),
        store,
        allowOrigins,
        publicOrigin,
        tls,
        trustedProxies,
        proxyHeaders,
        intentRetentionMs,
      });
    } catch (err) {
      signal.dispose();
      // A refused listen configuration is the operator's to fix, like a usage error (exit 2).
      if (err instanceof ListenError && err.code === 'listen_refused')
        throw new UsageError(err.message, { cause: err });
      throw err;
    }
    // Certificates are renewed in place (certbot, an ACME client): SIGHUP re-reads the files without a restart.
    // Armed before "listening on" is printed, for the reason bin/signals.ts gives. Without TLS SIGHUP keeps its
    // default meaning (the hub stops with its terminal).
    const running = hub;
    const onHup = () => void running.reloadTls();
    if (tls) process.on('SIGHUP', onHup);
    // The code before the URL: `npm start` reads everything up to "listening on" to show both.
    if (hub.enrollmentCode) console.log(`Enrollment code: ${hub.enrollmentCode} (shown once)`);
    // Public: what a person can compare with what the extension pinned ("Hub key fingerprint" in the Agents tab).
    console.log(`Hub identity: ${hub.identity.fingerprint}`);
    const cert = hub.certificate();
    if (cert)
      console.log(`TLS certificate serial ${cert.serial}, valid until ${cert.validTo} (SIGHUP reloads the files)`);
    console.log(`store: ${describeStoreLocation(store)}`);
    if (hub.url !== hub.listenUrl) console.log(`public origin: ${hub.url} (clients must use this URL)`);
    console.log(`listening on ${hub.listenUrl}`);
    // A signal during startup resolves this at once: the hub then closes right after starting, cleanly.
    await signal.received;
    process.off('SIGHUP', onHup);
    await hub.close();
    return 0;
  },
};

/** `clawkeep hub enrollment-code`: retires the unused codes of an existing hub and prints a new one, once. */
async function newEnrollmentCode(location: StoreLocation): Promise<number> {
  if (location.engine === 'sqlite' && !existsSync(path.join(location.dir, DB_FILE)))
    throw new UsageError(
      `no hub database at ${path.join(location.dir, DB_FILE)} (start the hub once with \`clawkeep hub --data DIR\`)`,
    );
  let store;
  try {
    // Not read-only: the new code's hash is written. SQLite's busy timeout lets this wait for a running hub's
    // writes; on PostgreSQL the transaction lock orders it with the running hubs' transactions.
    store = await openStore(location);
  } catch (err) {
    throw new UsageError(err instanceof StoreError ? err.message : (err as Error).message);
  }
  try {
    if (
      (await store.accounts.count()) === 0 &&
      (await store.enrollment.count()) === 0 &&
      location.engine === 'postgres'
    )
      throw new UsageError('this database has no hub yet (start `clawkeep hub --store …` once first)');
    const { code, retired } = await reissueEnrollmentCode(store, Date.now());
    console.log(`Enrollment code: ${code} (shown once)`);
    if (retired > 0) console.log(`The previous unused code no longer works (${retired} retired).`);
    return 0;
  } finally {
    await store.close();
  }
}

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError, type Command } from '../command';
import { encryptEnv, ENV_KEY_PATTERN, type EnvVar } from '../../lib/seal/env-encryption';
import { isSealError } from '../../lib/seal/errors';
import { verifyEnvKeySignature } from '../../lib/seal/kms-signature';

const USAGE = [
  'Usage: clawkeep seal --pubkey HEX (--env KEY=VALUE | --env KEY | --env-file FILE)...',
  '                     [--app-id HEX --signature HEX [--timestamp SECONDS] --kms-pubkey HEX [--now ISO_TIME]]',
  '',
  'Encrypts env variables for a dstack / Phala Cloud CVM (X25519 + AES-256-GCM, the format the CVM decrypts) and',
  'prints the sealed hex on stdout, nothing else. Values are never printed.',
  '',
  "  --pubkey HEX        the app's env encryption public key: exactly 64 hex digits (X25519)",
  '  --env KEY=VALUE     a variable (repeatable). Command lines are visible to other local users: prefer',
  "  --env KEY           the value of KEY in this process's environment, or",
  '  --env-file FILE     KEY=VALUE lines (blank lines and # comments skipped, `export ` allowed, one pair of',
  '                      surrounding quotes removed, no other unescaping)',
  '  --app-id HEX        with --signature and --kms-pubkey: first verify that the KMS signed --pubkey for this',
  '  --signature HEX     app (130 hex: r, s, recovery id) and that the signer is --kms-pubkey (secp256k1, hex)',
  '  --kms-pubkey HEX    ',
  '  --timestamp S       the signature is the timestamped (v1) form; refused if older than 300 s or more than',
  '                      60 s ahead of --now (default: the current time)',
  '',
  'Without a signature the key is used as given: only seal to a key you verified some other way.',
  'Exit codes: 0 sealed, 1 refused (bad key or signature: nothing printed on stdout), 2 bad arguments or input.',
].join('\n');

interface SealArgs {
  pubkey: string;
  env: EnvVar[];
  signature: { appId: string; signature: string; timestamp?: number; kmsPubkey: string } | null;
  now: Date | undefined;
}

/** `KEY=VALUE`, or a bare KEY read from the environment. Messages name keys, never values. */
function parseEnvArgument(arg: string, position: number): EnvVar {
  const eq = arg.indexOf('=');
  if (eq > 0) return { key: arg.slice(0, eq), value: arg.slice(eq + 1) };
  if (eq === 0) throw new UsageError(`--env number ${position} has no key name before "="`);
  // Not echoed unless it is a plausible name: a mistyped argument may well be the secret itself.
  if (!ENV_KEY_PATTERN.test(arg))
    throw new UsageError(`--env number ${position} is neither KEY=VALUE nor a variable name`);
  const value = process.env[arg];
  if (value === undefined) throw new UsageError(`--env ${arg}: ${arg} is not set in the environment`);
  return { key: arg, value };
}

/** KEY=VALUE lines of an env file. Line numbers, not contents, in messages. */
function parseEnvFile(path: string): EnvVar[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --env-file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const env: EnvVar[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const body = line.startsWith('export ') ? line.slice(7).trimStart() : line;
    const eq = body.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env-file ${path} line ${index + 1} is not KEY=VALUE`);
    const key = body.slice(0, eq).trim();
    let value = body.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0])
      value = value.slice(1, -1);
    env.push({ key, value });
  });
  return env;
}

function parseNow(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    throw new UsageError(`--now must be an ISO time such as 2026-01-01T00:00:00Z, got "${text}"`);
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--now is not a valid time: "${text}"`);
  return new Date(ms);
}

const OPTIONS = {
  pubkey: { type: 'string' },
  env: { type: 'string', multiple: true },
  'env-file': { type: 'string', multiple: true },
  'app-id': { type: 'string' },
  signature: { type: 'string' },
  timestamp: { type: 'string' },
  'kms-pubkey': { type: 'string' },
  now: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
const parseOptions = (args: string[]) => parseArgs({ args, strict: true, options: OPTIONS });

function parseSealArgs(argv: string[]): SealArgs | null {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    // node's message quotes the offending argument; that is fine for option names, but an unexpected positional
    // may be a value, so that case gets a message of its own.
    const message =
      (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
        ? 'unexpected argument without an option'
        : (err as Error).message;
    throw new UsageError(message);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    return null;
  }
  if (v.pubkey === undefined) throw new UsageError('missing --pubkey');
  const env = [
    ...(v.env ?? []).map((a, i) => parseEnvArgument(a, i + 1)),
    ...(v['env-file'] ?? []).flatMap(parseEnvFile),
  ];
  if (env.length === 0) throw new UsageError('nothing to seal: give --env or --env-file');

  const signatureOptions = [v['app-id'], v.signature, v['kms-pubkey'], v.timestamp];
  let signature: SealArgs['signature'] = null;
  if (signatureOptions.some((o) => o !== undefined)) {
    const missing = (['app-id', 'signature', 'kms-pubkey'] as const).filter((name) => v[name] === undefined);
    if (missing.length)
      throw new UsageError(`checking the KMS signature also needs ${missing.map((m) => `--${m}`).join(' and ')}`);
    let timestamp: number | undefined;
    if (v.timestamp !== undefined) {
      if (!/^\d{1,15}$/.test(v.timestamp)) throw new UsageError('--timestamp must be whole seconds since 1970');
      timestamp = Number(v.timestamp);
    }
    signature = {
      appId: v['app-id']!,
      signature: v.signature!,
      kmsPubkey: v['kms-pubkey']!,
      ...(timestamp !== undefined ? { timestamp } : {}),
    };
  }
  return { pubkey: v.pubkey, env, signature, now: parseNow(v.now) };
}

async function runSeal(argv: string[]): Promise<number> {
  const args = parseSealArgs(argv);
  if (!args) return 0;
  try {
    if (args.signature) {
      verifyEnvKeySignature({
        appId: args.signature.appId,
        publicKey: args.pubkey,
        signature: args.signature.signature,
        ...(args.signature.timestamp !== undefined ? { timestamp: args.signature.timestamp } : {}),
        trustedK256Pubkey: args.signature.kmsPubkey,
        ...(args.now ? { now: args.now } : {}),
      });
    }
    const sealed = await encryptEnv(args.env, args.pubkey);
    process.stdout.write(`${sealed}\n`);
    return 0;
  } catch (err) {
    if (!isSealError(err)) throw err;
    console.error(`clawkeep seal: ${err.message}`);
    // Bad env input is the caller's argument error; a key or signature we refuse is a refusal.
    return err.code === 'env_invalid' || err.code === 'env_too_large' ? 2 : 1;
  }
}

export const sealCommand: Command = {
  name: 'seal',
  summary: 'encrypt env variables for a dstack CVM (optionally checking the KMS signature on its key)',
  usage: USAGE,
  run: runSeal,
};

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { writeFileAtomic0600 } from '../atomic-file';
import { UsageError, type Command } from '../command';
import { AgentClient, type FetchLike } from '../../lib/agent';
import {
  ExecRequestError,
  isGatewayLabel,
  parseExecProviderRequest,
  parseGrantsDoc,
  resolveOpenClawSecrets,
  type ExecProviderResponse,
  type OpenClawGrantsDoc,
  type OpenClawSecretErrorCode,
} from '../../lib/agent/openclaw-secret';
import { readStateFile, writeStateFile } from './agent';

/** OpenClaw's default exec-provider `timeoutMs`, and its maximum. */
const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_TIMEOUT_MS = 120_000;
const MAX_STDIN_BYTES = 1 << 20;

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const USAGE = [
  'Usage:',
  '  clawkeep openclaw-secret --state FILE [--timeout-ms N] [--gateway LABEL] [--grants FILE]',
  '',
  'OpenClaw\'s exec SecretRef provider. Reads {"protocolVersion":1,"provider":ALIAS,"ids":[…]} on stdin and',
  'writes one JSON object {"protocolVersion":1,"values":{…},"errors":{id:{"code"}}} on stdout. Each id is the',
  'name of a vault item, asked for through the hub (the human approves in the Clawkeep extension).',
  '',
  '  --state FILE      the agent state file from `clawkeep agent register` (claimed, with secret:read:<id> scopes)',
  `  --timeout-ms N    the provider's timeoutMs in the OpenClaw config (default ${DEFAULT_TIMEOUT_MS}, max ${MAX_TIMEOUT_MS});`,
  '                    ids still undecided shortly before it are answered with {"code":"PENDING"}',
  '  --gateway LABEL   which gateway asks, shown to the human (default "openclaw")',
  '  --grants FILE     where open requests per gateway/provider/id are remembered (0600, never values;',
  '                    default: next to the state file, <state>.openclaw-grants.json)',
  '',
  'Exit codes: 0 answered (per-id errors included), 1 failure, 2 usage, malformed stdin or state file error.',
].join('\n');

/** Answers before OpenClaw's limit: its clock starts before our process does, so keep a margin. */
export function answerDeadline(processStart: number, timeoutMs: number): number {
  const margin = Math.min(1_500, Math.max(400, Math.round(timeoutMs * 0.15)));
  return processStart + Math.max(100, timeoutMs - margin);
}

function parseTimeoutMs(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_MS;
  if (!/^\d+$/.test(text) || Number(text) < 500 || Number(text) > MAX_TIMEOUT_MS)
    throw new UsageError(`--timeout-ms must be a whole number from 500 to ${MAX_TIMEOUT_MS}`);
  return Number(text);
}

export function defaultGrantsFile(stateFile: string): string {
  const base = path.basename(stateFile).replace(/\.json$/, '');
  return path.join(path.dirname(stateFile), `${base}.openclaw-grants.json`);
}

function readGrants(file: string): OpenClawGrantsDoc {
  try {
    return parseGrantsDoc(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return parseGrantsDoc(undefined);
  }
}

/** Atomic 0600 write. The file holds intent ids and times, never values. */
function writeGrants(file: string, doc: OpenClawGrantsDoc): void {
  writeFileAtomic0600(file, `${JSON.stringify(doc, null, 2)}\n`);
}

/** Reads stdin to the end (bounded), or gives up at `deadline`. */
function readStdin(deadline: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(
      () => done(new ExecRequestError('stdin was not closed in time')),
      Math.max(0, deadline - Date.now()),
    );
    function done(err?: Error) {
      clearTimeout(timer);
      process.stdin.removeAllListeners('data').removeAllListeners('end').removeAllListeners('error');
      process.stdin.pause();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    }
    process.stdin.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_STDIN_BYTES) return done(new ExecRequestError('stdin is too large'));
      chunks.push(c);
    });
    process.stdin.on('end', () => done());
    process.stdin.on('error', (e) => done(e));
  });
}

const diag = (line: string) => process.stderr.write(`clawkeep openclaw-secret: ${line}\n`);

function writeResponse(res: ExecProviderResponse): Promise<void> {
  return new Promise((resolve, reject) =>
    process.stdout.write(`${JSON.stringify(res)}\n`, (err) => (err ? reject(err) : resolve())),
  );
}

function allErrors(ids: string[], code: OpenClawSecretErrorCode): ExecProviderResponse {
  const res: ExecProviderResponse = { protocolVersion: 1, values: {} };
  if (ids.length) res.errors = Object.fromEntries(ids.map((id) => [id, { code }]));
  return res;
}

const OPTIONS = {
  state: { type: 'string' },
  'timeout-ms': { type: 'string' },
  gateway: { type: 'string' },
  grants: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const openclawSecretCommand: Command = {
  name: 'openclaw-secret',
  summary: "OpenClaw exec secret provider: serves vault items after the human's approval",
  usage: USAGE,
  async run(argv) {
    const start = performance.timeOrigin;
    let values: { state?: string; 'timeout-ms'?: string; gateway?: string; grants?: string; help?: boolean };
    try {
      ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (values.help) {
      console.log(USAGE);
      return EXIT.ok;
    }
    if (!values.state) throw new UsageError('--state is required');
    const timeoutMs = parseTimeoutMs(values['timeout-ms']);
    const gateway = values.gateway ?? 'openclaw';
    if (!isGatewayLabel(gateway))
      throw new UsageError('--gateway must be 1-64 characters: letters, digits and . _ : @ -');
    const stateFile = path.resolve(values.state);
    const grantsFile = path.resolve(values.grants ?? defaultGrantsFile(stateFile));
    const deadline = answerDeadline(start, timeoutMs);

    let request;
    try {
      request = parseExecProviderRequest(await readStdin(deadline));
    } catch (err) {
      const ids = err instanceof ExecRequestError ? err.ids : [];
      diag(`malformed request: ${(err as Error).message}`);
      await writeResponse(allErrors(ids, 'INVALID_REQUEST'));
      return EXIT.usage;
    }

    let client: AgentClient;
    const aborter = new AbortController();
    try {
      const state = readStateFile(stateFile);
      const cliFetch: FetchLike = (url, init) =>
        fetch(url, { ...init, signal: AbortSignal.any([aborter.signal, AbortSignal.timeout(MAX_TIMEOUT_MS)]) });
      client = new AgentClient({ fetch: cliFetch, state, onStateChange: (next) => writeStateFile(stateFile, next) });
    } catch (err) {
      diag((err as Error).message);
      await writeResponse(allErrors(request.ids, 'UNAVAILABLE'));
      return EXIT.usage;
    }
    try {
      const response = await resolveOpenClawSecrets({
        client,
        request,
        gateway,
        deadline,
        grants: readGrants(grantsFile),
        saveGrants: (doc) => {
          try {
            writeGrants(grantsFile, doc);
          } catch (err) {
            diag(`cannot save ${grantsFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          }
        },
        log: diag,
      });
      await writeResponse(response);
      return EXIT.ok;
    } catch (err) {
      diag((err as Error).message);
      await writeResponse(allErrors(request.ids, 'UNAVAILABLE'));
      return EXIT.failure;
    } finally {
      // Long polls still held by the hub must not keep the process (and OpenClaw) waiting.
      aborter.abort();
    }
  },
};

import { closeSync, openSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic0600 } from '../atomic-file';
import { UsageError, type Command } from '../command';
import { AgentClient, AgentError, parseAgentState, type AgentState, type FetchLike } from '../../lib/agent';
import { fromBase64, wipe } from '../../lib/bytes';
import { ClawkeepError, type CliErrorCode } from '../../lib/errors';
import { configEnvLines } from '../../lib/protocol/config-payload';
import { ProtocolError } from '../../lib/protocol/errors';
import { fingerprint, decodePublicKey } from '../../lib/protocol/keys';
import { isScope } from '../../lib/protocol/scopes';
import type { Intent } from '../../lib/protocol/wire';
import { fetchJson, fetchNotes, parseFetchRequest } from './agent-fetch';

/** Exit codes of `clawkeep agent`: scripts and skills branch on them. */
export const EXIT = { ok: 0, failure: 1, usage: 2, denied: 3, expired: 4, refused: 5 } as const;

const DEFAULT_TIMEOUT_S = 300;
const REQUEST_TIMEOUT_MS = 30_000;

const USAGE = [
  'Usage:',
  '  clawkeep agent register --hub URL --name NAME (--manifest FILE | --manifest-url URL) --state FILE [--scopes A,B] [--json]',
  '  clawkeep agent status   --state FILE [--json]',
  '  clawkeep agent request  --state FILE --kind KIND --payload JSON [--idempotency-key K] [--wait] [--timeout S] [--json]',
  '  clawkeep agent secret   ITEM --state FILE [--reason TEXT] [--timeout S] [--json]',
  "  clawkeep agent fetch    URL --state FILE [-X METHOD] [-H 'Name: value']... [--data TEXT | --data-binary @FILE]",
  '                          [--reason TEXT] [--timeout S] [--json]',
  '  clawkeep agent config   --state FILE [--json | --env]',
  '',
  'register  registers this agent with a hub and prints a claim code; the human enters it in the Clawkeep',
  '          extension. The state file (private keys) is created with mode 0600 and never overwritten.',
  'status    unclaimed, claimed or revoked; the first claim is verified and its device key pinned.',
  'request   asks the human to approve an intent (action.approve, payment.send, shell.exec, message.send).',
  '          With --wait it blocks until decided and, if approved, executes it (the device signature is checked).',
  'secret    asks for a vault item and prints only its value on stdout (progress goes to stderr).',
  '          --json prints {"intent_id","item","value"} instead.',
  "fetch     asks your human's browser to make one HTTPS call for you, with vault secrets put in where",
  '          {{secret:NAME}} stands (in a header value, a query value or a --data body): you never see the secret.',
  '          Prints the response body on stdout, byte for byte (a note on stderr when the device cut a reflected',
  '          secret, withheld the body or did not follow a redirect). Needs the scope http:HOST (e.g.',
  "          http:api.github.com). GET, or POST with a body; nothing is added: give -H 'content-type: ...'.",
  "          --data @FILE sends the file's text (placeholders work); --data-binary @FILE its bytes (no placeholders).",
  '          --json prints {"status","headers","body" (text) or "body_base64","redacted","withheld","redirect"}.',
  'config    fetches the agent config your human assigned to this agent, checks the device signature and that',
  '          the revision never goes backwards, and prints a summary (names only); --json prints it all,',
  '          --env prints KEY=value lines (provider keys, then env) for `env $(clawkeep agent config --env ...) cmd`.',
  '',
  '  --scopes A,B   requested scopes, e.g. secret:read:GitHub token,action:payment.send,http:api.github.com',
  `  --timeout S    seconds to wait for the decision (default ${DEFAULT_TIMEOUT_S})`,
  '  --json         machine-readable output on stdout (errors too: {"error":{"code","message"}})',
  '',
  'Exit codes: 0 ok/approved (fetch: any HTTP status), 1 other failure (fetch: the call got no answer, e.g.',
  '  timeout), 2 usage, state file, auth, scope or wrong hub URL error, 3 denied, 4 expired or timed out,',
  "  5 refused by your human's device without asking (fetch: e.g. that secret may not be sent to that host).",
  'The state file must not be readable by group or others (chmod 600).',
].join('\n');

/** A problem with the state file the user must fix: exit 2 like a usage error, without the usage text. */
class StateFileError extends ClawkeepError {
  declare readonly code: CliErrorCode;
  constructor(message: string) {
    super('state_file_invalid', message);
    this.name = 'StateFileError';
  }
}

// ---- State file -----------------------------------------------------------------------------------------------

/** Writes `state` atomically: a fresh 0600 temp file next to it, fsync, rename over. */
export function writeStateFile(file: string, state: AgentState): void {
  writeFileAtomic0600(file, `${JSON.stringify(state, null, 2)}\n`);
}

/** Reads and validates a state file, refusing one that group or others may read or write. */
export function readStateFile(file: string): AgentState {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new StateFileError(`no state file at ${file}: run \`clawkeep agent register\` first`);
    throw new StateFileError(`cannot read the state file ${file}: ${(err as Error).message}`);
  }
  if (!st.isFile()) throw new StateFileError(`the state file ${file} is not a regular file`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new StateFileError(
      `refusing to use the state file ${file}: it holds this agent's private keys but its mode is ` +
        `${(st.mode & 0o777).toString(8).padStart(4, '0')} (readable or writable by group/others). Fix it with: chmod 600 ${file}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new StateFileError(`the state file ${file} is not valid JSON`);
  }
  try {
    return parseAgentState(json);
  } catch (err) {
    throw new StateFileError(`${file}: ${(err as Error).message}`);
  }
}

// ---- Options --------------------------------------------------------------------------------------------------

const OPTIONS = {
  hub: { type: 'string' },
  name: { type: 'string' },
  manifest: { type: 'string' },
  'manifest-url': { type: 'string' },
  state: { type: 'string' },
  scopes: { type: 'string' },
  kind: { type: 'string' },
  payload: { type: 'string' },
  'idempotency-key': { type: 'string' },
  reason: { type: 'string' },
  timeout: { type: 'string' },
  // fetch, spelled as curl spells them.
  request: { type: 'string', short: 'X' },
  header: { type: 'string', short: 'H', multiple: true },
  data: { type: 'string', short: 'd' },
  'data-binary': { type: 'string' },
  wait: { type: 'boolean' },
  env: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ALLOWED: Record<string, readonly string[]> = {
  register: ['hub', 'name', 'manifest', 'manifest-url', 'state', 'scopes', 'json'],
  status: ['state', 'json'],
  request: ['state', 'kind', 'payload', 'idempotency-key', 'wait', 'timeout', 'json'],
  secret: ['state', 'reason', 'timeout', 'json'],
  fetch: ['state', 'request', 'header', 'data', 'data-binary', 'reason', 'timeout', 'json'],
  config: ['state', 'json', 'env'],
};

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean'
    ? boolean
    : (typeof OPTIONS)[K] extends { multiple: true }
      ? string[]
      : string;
};

function parseTimeout(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT_S * 1000;
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0 || Number(text) > 86_400)
    throw new UsageError('--timeout must be a number of seconds, more than 0 and at most 86400');
  return Math.round(Number(text) * 1000);
}

function need(values: Values, name: keyof Values): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

// ---- Output ---------------------------------------------------------------------------------------------------

const out = (text: string) => process.stdout.write(`${text}\n`);
const progress = (text: string) => process.stderr.write(`${text}\n`);
const printJson = (value: unknown) => out(JSON.stringify(value));
const when = (ms: number) => new Date(ms).toISOString();

function exitFor(err: AgentError): number {
  if (err.code === 'wait_timeout' || err.code === 'intent_expired') return EXIT.expired;
  if (err.code === 'intent_denied') return EXIT.denied;
  if (err.code === 'http_refused') return EXIT.refused;
  if (
    err.code.startsWith('auth_') ||
    [
      'forbidden',
      'agent_not_claimed',
      'agent_revoked',
      'installation_revoked',
      'scope_not_granted',
      'state_invalid',
      // The agent was given (or registered with) another URL than the hub's public origin: fix the configuration.
      'wrong_hub_origin',
    ].includes(err.code)
  ) {
    return EXIT.usage;
  }
  return EXIT.failure;
}

const cliFetch: FetchLike = (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

function clientFor(file: string): AgentClient {
  const state = readStateFile(file);
  return new AgentClient({ fetch: cliFetch, state, onStateChange: (next) => writeStateFile(file, next) });
}

function describeIntent(intent: Intent): string {
  return `intent ${intent.intent_id} (${intent.kind}, risk ${intent.risk}) is ${intent.status}; it expires at ${when(intent.expires_at)}`;
}

// ---- Subcommands ----------------------------------------------------------------------------------------------

async function register(values: Values): Promise<number> {
  const hub = need(values, 'hub');
  const name = need(values, 'name');
  const file = path.resolve(need(values, 'state'));
  if ((values.manifest === undefined) === (values['manifest-url'] === undefined))
    throw new UsageError('give exactly one of --manifest FILE or --manifest-url URL');
  const scopes = (values.scopes ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const s of scopes)
    if (!isScope(s))
      throw new UsageError(`--scopes: "${s}" is not a scope (secret:read:ITEM, action:KIND or http:HOST)`);
  let manifest: { markdown: string } | { url: string };
  if (values.manifest !== undefined) {
    try {
      manifest = { markdown: readFileSync(values.manifest, 'utf8') };
    } catch (err) {
      throw new UsageError(
        `cannot read --manifest ${values.manifest}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  } else {
    manifest = { url: values['manifest-url']! };
  }

  // Reserve the state file first (exclusive, 0600): an existing agent's keys are never overwritten, and nothing is
  // registered that could not be saved.
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StateFileError(
      code === 'EEXIST'
        ? `the state file ${file} exists already; refusing to overwrite an agent's keys`
        : `cannot create the state file ${file}: ${code ?? (err as Error).message}`,
    );
  }
  let saved = false;
  try {
    const client = new AgentClient({
      fetch: cliFetch,
      onStateChange: (state) => {
        writeStateFile(file, state);
        saved = true;
      },
    });
    const reg = await client.register({ hub, name, manifest, requestedScopes: scopes });
    const state = client.state!;
    if (values.json) {
      printJson({
        agent_id: reg.agent_id,
        claim_code: reg.claim_code,
        expires_at: reg.expires_at,
        fingerprint: reg.fingerprint,
        hub: state.hub,
        state_file: file,
      });
    } else {
      out(`Registered agent "${name}" (${reg.agent_id}) with ${state.hub}.`);
      out('');
      out(`Ask your human to open the Clawkeep extension and enter this claim code: ${reg.claim_code}`);
      out(`The code expires at ${when(reg.expires_at)}. This agent's key fingerprint is ${reg.fingerprint};`);
      out('the extension shows it on the claim screen, and the two must match.');
      out('');
      out(`State saved to ${file} (mode 0600; it holds this agent's private keys: keep it private).`);
      out(`Then check with: clawkeep agent status --state ${file}`);
    }
    return EXIT.ok;
  } finally {
    if (!saved) {
      try {
        unlinkSync(file);
      } catch {
        /* nothing to clean */
      }
    }
  }
}

async function status(values: Values): Promise<number> {
  const client = clientFor(path.resolve(need(values, 'state')));
  const s = await client.status();
  const hub = client.state!.hub;
  if (values.json) {
    printJson({ hub, ...s });
    return EXIT.ok;
  }
  out(`agent ${s.agent_id} on ${hub}: ${s.status}`);
  if (s.status === 'unclaimed')
    out('Not claimed yet: ask your human to enter the claim code in the Clawkeep extension.');
  if (s.revocation === 'signed') {
    out(
      `installation ${s.installation_id} was revoked by your human's device (signed revocation, verified): this agent stops. Register and claim it again to use it.`,
    );
    return EXIT.ok;
  }
  if (s.revocation === 'unverified')
    out("The hub says this installation is revoked, but sent no revocation signed by your human's device.");
  if (s.installation_id) {
    out(`installation: ${s.installation_id}`);
    out(
      `claimed by device: ${s.device_fingerprint}${s.pinned_now ? ' (verified and pinned now)' : ' (verified, pinned)'}`,
    );
    out(`granted scopes: ${s.granted_scopes!.length ? s.granted_scopes!.join(', ') : '(none)'}`);
    out(`needs approval: ${s.approval_required!.join(', ') || '(nothing)'}`);
  }
  return EXIT.ok;
}

async function decide(client: AgentClient, intent: Intent, timeoutMs: number) {
  progress(
    `Waiting for the human's decision in the Clawkeep extension (intent ${intent.intent_id}, up to ${Math.round(timeoutMs / 1000)} s)…`,
  );
  return client.waitForDecision(intent.intent_id, { timeoutMs, pollMs: 1000, maxPollMs: 5000 });
}

async function request(values: Values): Promise<number> {
  const file = path.resolve(need(values, 'state'));
  const kind = need(values, 'kind');
  if (kind === 'secret.request') throw new UsageError('use `clawkeep agent secret ITEM` for secrets');
  let payload: unknown;
  try {
    payload = JSON.parse(need(values, 'payload'));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError('--payload must be JSON');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    throw new UsageError('--payload must be a JSON object');
  const timeoutMs = parseTimeout(values.timeout);
  if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout only makes sense with --wait');
  const client = clientFor(file);
  const intent = await client.createIntent({
    kind,
    payload: payload as Record<string, unknown>,
    ...(values['idempotency-key'] ? { idempotencyKey: values['idempotency-key'] } : {}),
  });
  if (!values.wait) {
    if (values.json) printJson(intent);
    else out(`${describeIntent(intent)}. The human decides in the Clawkeep extension.`);
    return EXIT.ok;
  }
  const { decision, intent: decided } = await decide(client, intent, timeoutMs);
  if (decision !== 'approved') {
    if (values.json) printJson({ decision, intent: decided });
    else out(`${decision}: ${describeIntent(decided)}. Do not carry out this action.`);
    return decision === 'denied' ? EXIT.denied : EXIT.expired;
  }
  const result = await client.execute(intent.intent_id);
  if (values.json) printJson({ decision, intent: result.intent, approval: result.approval ?? null });
  else {
    const device = client.state!.device_key;
    out(
      `approved: intent ${intent.intent_id} (${kind}) is executed now; the approval ${result.approval ? `is signed by device ${fingerprint(decodePublicKey(device!, 'ed25519'))} and verified` : 'was not required by the signed policy'}.`,
    );
  }
  return EXIT.ok;
}

async function secret(item: string, values: Values): Promise<number> {
  const file = path.resolve(need(values, 'state'));
  const timeoutMs = parseTimeout(values.timeout);
  const client = clientFor(file);
  const intent = await client.createIntent({ kind: 'secret.request', payload: { item, reason: values.reason ?? '' } });
  const { decision } = await decide(client, intent, timeoutMs);
  if (decision !== 'approved') {
    if (values.json) printJson({ decision, intent_id: intent.intent_id, item });
    progress(`The request for "${item}" was ${decision}.`);
    return decision === 'denied' ? EXIT.denied : EXIT.expired;
  }
  const result = await client.execute(intent.intent_id);
  const value = result.secret!;
  try {
    if (values.json) {
      printJson({ intent_id: intent.intent_id, item, value: new TextDecoder('utf-8', { fatal: true }).decode(value) });
    } else {
      await new Promise<void>((resolve, reject) =>
        process.stdout.write(value, (err) => (err ? reject(err) : resolve())),
      );
      if (process.stdout.isTTY) process.stdout.write('\n');
    }
  } finally {
    wipe(value);
  }
  progress(`Approved: "${item}" delivered (device signature and sealing verified).`);
  return EXIT.ok;
}

async function fetchCommand(url: string, values: Values): Promise<number> {
  const file = path.resolve(need(values, 'state'));
  const input = parseFetchRequest({ url, ...values, ...(values.header ? { header: values.header } : {}) }, (f) =>
    readFileSync(f),
  );
  const timeoutMs = parseTimeout(values.timeout);
  const client = clientFor(file);
  const { outcome } = await client.httpRequest(input, {
    timeoutMs,
    pollMs: 1000,
    maxPollMs: 5000,
    onCreated: (intent) =>
      progress(
        `Waiting for the human to approve ${input.method} ${url.split('?', 1)[0]} in the Clawkeep extension (intent ${intent.intent_id}, up to ${Math.round(timeoutMs / 1000)} s)…`,
      ),
  });
  // The device made the call and no answer came: a failure of the call, in the device's words and code.
  if (outcome.outcome === 'failed') throw new AgentError('http_failed', outcome.message, { deviceCode: outcome.code });
  const body = fromBase64(outcome.body);
  try {
    if (values.json) printJson(fetchJson(outcome, body));
    else
      await new Promise<void>((resolve, reject) =>
        process.stdout.write(body, (err) => (err ? reject(err) : resolve())),
      );
  } finally {
    // The answer was meant for this agent, but it is still the person's data: no copy outlives the write.
    wipe(body);
  }
  if (!values.json) for (const note of fetchNotes(outcome)) progress(note);
  return EXIT.ok;
}

async function config(values: Values): Promise<number> {
  const file = path.resolve(need(values, 'state'));
  if (values.json && values.env) throw new UsageError('give at most one of --json or --env');
  const client = clientFor(file);
  const accepted = await client.config();
  const { config: c, config_id, revision, signed_at } = accepted;
  if (values.json) {
    printJson({ config_id, revision, signed_at, config: c });
  } else if (values.env) {
    let lines: string[];
    try {
      lines = configEnvLines(c);
    } catch (err) {
      if (err instanceof ProtocolError) throw new AgentError('config_untrusted', `${err.message} Use --json instead.`);
      throw err;
    }
    if (lines.length > 0) out(lines.join('\n'));
  } else {
    out(
      `agent config "${c.name}" (${config_id}), revision ${revision}, signed by the pinned device at ${when(signed_at)}`,
    );
    out(`model: ${c.model || '(none)'}`);
    out(`provider keys: ${c.provider_keys.map((e) => e.key).join(', ') || '(none)'}`);
    out(`env: ${c.env.map((e) => e.key).join(', ') || '(none)'}`);
    out('Values are not shown: use --json or --env.');
  }
  progress(`Agent config revision ${revision} verified (device signature, sealing, no rollback).`);
  return EXIT.ok;
}

export const agentCommand: Command = {
  name: 'agent',
  summary: 'agent side: register with a hub, ask a human for approvals, secrets and HTTPS calls',
  usage: USAGE,
  async run(argv) {
    let values: Values;
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (values.help) {
      console.log(USAGE);
      return EXIT.ok;
    }
    const [sub, ...rest] = positionals;
    if (sub === undefined)
      throw new UsageError('missing subcommand: register, status, request, secret, fetch or config');
    const allowed = ALLOWED[sub];
    if (!allowed) throw new UsageError(`unknown subcommand "${sub}"`);
    for (const [k, v] of Object.entries(values))
      if (v !== undefined && !allowed.includes(k)) throw new UsageError(`--${k} does not apply to "agent ${sub}"`);
    const onePositional = sub === 'secret' || sub === 'fetch';
    if (onePositional ? rest.length !== 1 : rest.length !== 0) {
      throw new UsageError(
        sub === 'secret'
          ? 'give exactly one item name: clawkeep agent secret ITEM --state FILE'
          : sub === 'fetch'
            ? 'give exactly one URL: clawkeep agent fetch URL --state FILE'
            : `unexpected arguments: ${rest.join(' ')}`,
      );
    }
    try {
      if (sub === 'register') return await register(values);
      if (sub === 'status') return await status(values);
      if (sub === 'request') return await request(values);
      if (sub === 'config') return await config(values);
      if (sub === 'fetch') return await fetchCommand(rest[0]!, values);
      return await secret(rest[0]!, values);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      if (err instanceof StateFileError || err instanceof AgentError) {
        const code = err instanceof AgentError ? err.code : 'state_invalid';
        const deviceCode = err instanceof AgentError ? err.deviceCode : undefined;
        if (values.json)
          printJson({ error: { code, message: err.message, ...(deviceCode ? { device_code: deviceCode } : {}) } });
        console.error(`clawkeep agent ${sub}: ${err.message}${err instanceof AgentError ? ` (${err.code})` : ''}`);
        return err instanceof AgentError ? exitFor(err) : EXIT.usage;
      }
      throw err;
    }
  },
};

import { randomBytes, utf8Encode } from '../bytes';
import { AGENT_NONCE_BYTES, verifyApproval, verifyClaim, type ApprovalStatement } from '../protocol/approval';
import { trustedSigners, verifiedRevocation, withRemoved } from './device-trust';
import { hubErrorText, isApiErrorCode, wrongHubOriginText } from '../protocol/api-errors';
import { fromBase64Url, toBase64Url } from '../protocol/base64url';
import { canonicalize } from '../protocol/canonical';
import { claimCodeHash } from '../protocol/claim-code';
import { ProtocolError } from '../protocol/errors';
import { isId, isOrigin } from '../protocol/fields';
import { payloadHash } from '../protocol/intent-hash';
import { needsDevice } from '../protocol/intent-kinds';
import { signKeyBinding } from '../protocol/key-binding';
import { decodePublicKey, fingerprint } from '../protocol/keys';
import { newHubChallenge, verifyHubChallenge } from '../protocol/hub-identity';
import { ed25519SignerFromSeed, type Ed25519Signer } from '../protocol/ed25519';
import { signRequestWith } from '../protocol/request-signing';
import { readStrictJson } from '../protocol/strict-json';
import { openSealedSecret } from '../protocol/sealed-secret';
import type { HttpOutcome } from '../protocol/sealed-response';
import {
  AgentConfigResponseSchema,
  AgentMeResponseSchema,
  CreateIntentRequestSchema,
  ExecuteResponseSchema,
  IntentSchema,
  parseWire,
  RegisterAgentRequestSchema,
  RegisterAgentResponseSchema,
  type ExecuteResponse,
  type Intent,
  type Manifest,
} from '../protocol/wire';
import { acceptConfig, type AcceptedConfig } from './config';
import { AgentError, isAgentError } from './errors';
import {
  httpRequestPayload,
  openTrustedDelivery,
  refusedError,
  type HttpFailedOutcome,
  type HttpRequestInput,
  type HttpResponseOutcome,
} from './http-request';
import { agentPublicKeys, generateAgentKeys, type AgentKeys } from './keys';
import { encodePrivateKey, parseAgentState, stateKeys, type AgentState } from './state';
import {
  APPROVAL_CLOCK_SKEW_MS,
  checkApprovalTime,
  findRequest,
  INTENT_LIFETIME_MS,
  requestToExecute,
  withExecuted,
  withRequest,
  type OpenRequest,
} from './replay-guard';

/** The part of WHATWG `fetch` the client uses; inject `globalThis.fetch` or an in-process app. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<Response>;

export interface AgentClientOptions {
  fetch: FetchLike;
  /** An agent that registered before (e.g. loaded from its state file). */
  state?: AgentState;
  /** Keys for a new agent; generated if absent. Ignored when `state` is given. */
  keys?: AgentKeys;
  /** Clock, epoch milliseconds (default Date.now). */
  now?: () => number;
  /** Waits between polls (default setTimeout). */
  sleep?: (ms: number) => Promise<void>;
  /** Called, and awaited, whenever the state changes (registration, pinning the device): persist it here. */
  onStateChange?: (state: AgentState) => void | Promise<void>;
}

export interface RegisterInput {
  /** Hub origin; a trailing slash is accepted. */
  hub: string;
  name: string;
  manifest: Manifest;
  requestedScopes: string[];
}

export interface Registration {
  agent_id: string;
  /** Display form `XXXX-XXXX`: the human enters it in the Clawkeep extension. */
  claim_code: string;
  expires_at: number;
  /** fingerprint of our signing key: the human compares it with the one the claim screen shows. */
  fingerprint: string;
}

export interface AgentStatus {
  agent_id: string;
  status: 'unclaimed' | 'claimed' | 'revoked';
  installation_id?: string;
  /** From the device-signed claim, not from the hub's copy. */
  granted_scopes?: string[];
  approval_required?: string[];
  device_key?: string;
  device_fingerprint?: string;
  /** True when this call verified the first claim and pinned its device key. */
  pinned_now: boolean;
  /**
   * With status `revoked`: `signed` when a device of the human signed the revocation (CKIR) and the agent verified it
   * (then final: every other call throws `installation_revoked`); `unverified` when only the hub says so.
   */
  revocation?: 'signed' | 'unverified';
}

export interface SentIntent {
  kind: string;
  payload: Record<string, unknown>;
}

/** Longest the hub holds GET /v1/intents/:id?wait=N (hub/routes/intents.ts MAX_WAIT_SECONDS). */
const LONG_POLL_SECONDS = 25;
/** How long a proof of the hub's identity is reused by later signed requests. */
const HUB_PROOF_REUSE_MS = 10_000;
const notOurHub = (hub: string) =>
  `This is not the hub this agent registered with: the server at ${hub} cannot prove the hub identity key pinned at registration. Nothing was sent to it.`;

export type Decision = 'approved' | 'denied' | 'expired';

export interface WaitOptions {
  /** Give up after this long (default 5 minutes): AgentError `wait_timeout`. */
  timeoutMs?: number;
  /** First poll interval (default 1 s); grows ×1.5 per poll up to `maxPollMs` (default 10 s). */
  pollMs?: number;
  maxPollMs?: number;
  /** Called after every poll that found the intent still pending. */
  onPending?: (intent: Intent) => void;
}

export interface ExecuteResult {
  intent: Intent;
  /** The verified device statement; absent only when the signed policy does not require one for this kind. */
  approval?: ApprovalStatement;
  /** secret.request only: the opened secret. The caller wipes it after use. */
  secret?: Uint8Array;
  /** http.request only: the outcome of the call, opened and verified as the device's. */
  http?: HttpOutcome;
}

export interface HttpRequestOptions extends WaitOptions {
  idempotencyKey?: string;
  /** Called once the hub holds the request, before waiting (e.g. to say "waiting for your human"). */
  onCreated?: (intent: Intent) => void;
}

export interface HttpRequestResult {
  intent: Intent;
  /** The device's verified approval of exactly this call. */
  approval: ApprovalStatement;
  /** The server's answer, or why the call the device made got none. */
  outcome: HttpResponseOutcome | HttpFailedOutcome;
}

/** Retried while waiting: the hub being briefly away or busy is not a decision. */
const TRANSIENT = new Set(['hub_unreachable', 'internal', 'rate_limited', 'hub_busy']);

/**
 * Retries inside one call (issue 16), each bounded so a call always ends:
 * - `auth_stale`: the request waited too long somewhere (a full listen queue, a slow proxy) and its timestamp left
 *   the hub's ±60 s window. Signed again with a fresh timestamp and nonce, at most this many times; a clock that is
 *   really off stays `auth_stale` and is passed through.
 * - `rate_limited` with Retry-After: waited out, at most RATE_LIMIT_RETRIES times, and only when the hub asks for
 *   at most MAX_RETRY_AFTER_S (a daily limit's hours are passed through at once, never slept).
 * - `hub_busy` (a backlog of new intents; nothing was stored): waited out like `rate_limited`, plus up to a second of
 *   random spread so refused agents do not all come back in the same instant, at most BUSY_RETRIES times.
 * - a lost answer (`hub_unreachable`, `internal`) of an idempotent request (create with its idempotency key,
 *   execute within the hub's replay window): asked again after 1 s, then 2 s. Only when the connection broke or
 *   timed out after it was made (reset, closed, timeout): a refused connection or a bad address never reached a
 *   hub, there is no answer to recover, and a caller with a deadline (openclaw-secret) must hear "unreachable" at
 *   once.
 */
export const AUTH_STALE_RETRIES = 2;
export const RATE_LIMIT_RETRIES = 3;
export const BUSY_RETRIES = 10;
export const MAX_RETRY_AFTER_S = 30;
export const LOST_ANSWER_RETRIES = 2;

/** Whether and how long to wait before asking again; null: give up (throw). */
function retryDelayMs(
  err: AgentError,
  signed: boolean,
  idempotent: boolean,
  tries: { stale: number; limited: number; lost: number; busy: number },
  spread: () => number = Math.random,
): number | null {
  if (err.code === 'auth_stale' && signed && tries.stale < AUTH_STALE_RETRIES) {
    tries.stale++;
    return 0;
  }
  if (err.code === 'rate_limited' && tries.limited < RATE_LIMIT_RETRIES) {
    const s = err.retryAfterSeconds;
    if (s === undefined || s > MAX_RETRY_AFTER_S) return null;
    tries.limited++;
    return s * 1000;
  }
  if (err.code === 'hub_busy' && tries.busy < BUSY_RETRIES) {
    const s = err.retryAfterSeconds ?? 1;
    if (s > MAX_RETRY_AFTER_S) return null;
    tries.busy++;
    return s * 1000 + Math.floor(spread() * 1000);
  }
  const lost = (err.code === 'hub_unreachable' && answerMayBeLost(err)) || err.code === 'internal';
  if (lost && idempotent && tries.lost < LOST_ANSWER_RETRIES) {
    tries.lost++;
    return 1000 * tries.lost;
  }
  return null;
}

/** Socket errors (Node, undici) after which the hub may have acted on a request whose answer never arrived. */
const LOST_ANSWER_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Whether the error's cause chain (fetch wraps the socket error) says a connection was made and then lost. */
function answerMayBeLost(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && LOST_ANSWER_CODES.has(code)) return true;
    if ((e as { name?: unknown }).name === 'TimeoutError') return true;
  }
  return false;
}

/** Retry-After as delay-seconds (RFC 9110 §10.2.3); an HTTP-date or anything else is ignored. */
function retryAfterSeconds(res: Response): number | undefined {
  const raw = res.headers.get('retry-after');
  return raw !== null && /^[0-9]{1,9}$/.test(raw.trim()) ? Number(raw.trim()) : undefined;
}

function normalizeHub(hub: string): string {
  let origin: string;
  try {
    const url = new URL(hub);
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password)
      throw new Error('not an origin');
    origin = url.origin;
  } catch {
    throw new AgentError('protocol_invalid', 'The hub must be an origin such as https://hub.example.com (no path).');
  }
  if (!isOrigin(origin))
    throw new AgentError('protocol_invalid', 'The hub must be https, or http on localhost, 127.0.0.1 or [::1].');
  return origin;
}

/** ProtocolError (local validation) → AgentError with the same code. */
function local<T>(fn: () => T, as?: AgentError['code'], message?: string): T {
  try {
    return fn();
  } catch (err) {
    if (as) throw new AgentError(as, message ?? (err as Error).message, { cause: err });
    if (err instanceof ProtocolError) throw new AgentError(err.code, err.message, { cause: err });
    throw err;
  }
}

/**
 * The agent's side of the Clawkeep protocol (docs/protocol.md). It signs every request with its agent key and
 * trusts the hub with nothing it can check itself: claims are verified against its own keys and claim code, the
 * claiming device is pinned at the first claim, approvals are verified under that device key against the payload
 * hash computed here from what this client sent, and secrets are opened only for the intent they were asked for.
 * Framework-free: `fetch`, clock and sleep are injected.
 */
export class AgentClient {
  #state: AgentState | undefined;
  #keys: AgentKeys;
  /** Signs requests with #keys.signingPrivate held as a non-extractable WebCrypto key (lib/protocol/ed25519.ts). */
  #requestSigner: Ed25519Signer;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #onStateChange?: (state: AgentState) => void | Promise<void>;
  readonly #sent = new Map<string, SentIntent>();
  /** When the hub last proved the pinned identity key (0: prove before the next signed request). */
  #hubProvedAt = 0;

  constructor(options: AgentClientOptions) {
    this.#fetch = options.fetch;
    this.#now = options.now ?? (() => Date.now());
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#onStateChange = options.onStateChange;
    if (options.state) {
      this.#state = parseAgentState(options.state);
      this.#keys = stateKeys(this.#state);
    } else {
      this.#keys = options.keys ?? generateAgentKeys();
    }
    this.#requestSigner = ed25519SignerFromSeed(this.#keys.signingPrivate);
  }

  #lastCallReached = true;

  /**
   * False while the latest request to the hub got no answer at all (connection refused, reset, timed out): a caller
   * whose own deadline ends during the SDK's retries can tell "the hub is unreachable" from "still undecided".
   */
  get lastCallReachedHub(): boolean {
    return this.#lastCallReached;
  }

  /** A copy of the current state (with private keys: persist it, never print it), or undefined before register. */
  get state(): AgentState | undefined {
    return this.#state && structuredClone(this.#state);
  }

  /** Public keys and fingerprint: safe to show. */
  get publicKeys(): { signing_key: string; box_key: string; fingerprint: string } {
    return agentPublicKeys(this.#keys);
  }

  #requireState(): AgentState {
    if (!this.#state) throw new AgentError('state_invalid', 'This agent is not registered yet.');
    return this.#state;
  }

  async #setState(next: AgentState): Promise<void> {
    this.#state = next;
    await this.#onStateChange?.(structuredClone(next));
  }

  /**
   * Proves the hub at `hub` holds the identity key pinned at registration (CKHI over a fresh challenge) and returns
   * that key; with no pin yet, the key the hub names (trust on first use, then pinned). A hub that cannot is refused
   * before anything signed reaches it (issue 13 item 15).
   * @throws AgentError `hub_identity_invalid`
   */
  async #proveHub(hub: string, pinned: string | undefined): Promise<string> {
    const challenge = newHubChallenge();
    const answer = (await this.#call(hub, 'GET', `/v1/hub-key?challenge=${challenge}`, undefined, false).catch(
      (err) => {
        // A hub that answers "you used the wrong origin" is explained as such (issue 16), not as another hub.
        if (pinned && isAgentError(err) && err.code !== 'hub_unreachable' && err.code !== 'wrong_hub_origin')
          throw new AgentError('hub_identity_invalid', notOurHub(hub), { cause: err });
        throw err;
      },
    )) as { hub_key?: unknown; proof?: unknown };
    const key = pinned ?? (typeof answer?.hub_key === 'string' ? answer.hub_key : '');
    try {
      verifyHubChallenge(answer?.proof, { hub, challenge, pinnedKey: key });
    } catch (err) {
      throw new AgentError('hub_identity_invalid', notOurHub(hub), { cause: err });
    }
    return key;
  }

  /** Before a signed request: re-prove the hub's identity if the last proof is older than 10 s. */
  async #ensureHub(state: AgentState): Promise<void> {
    const now = this.#now();
    if (state.hub_key && now - this.#hubProvedAt < HUB_PROOF_REUSE_MS && now >= this.#hubProvedAt) return;
    const key = await this.#proveHub(state.hub, state.hub_key);
    this.#hubProvedAt = now;
    if (!state.hub_key) await this.#setState({ ...state, hub_key: key });
  }

  /**
   * One request, with the bounded retries above: `idempotent` when asking again cannot do the thing twice (create
   * with its idempotency key, execute within the hub's replay window).
   */
  async #call(
    hub: string,
    method: string,
    path: string,
    body: unknown,
    signed: boolean,
    idempotent = false,
  ): Promise<unknown> {
    const tries = { stale: 0, limited: 0, lost: 0, busy: 0 };
    for (;;) {
      try {
        return await this.#callOnce(hub, method, path, body, signed);
      } catch (err) {
        if (!(err instanceof AgentError)) throw err;
        const delay = retryDelayMs(err, signed, idempotent, tries);
        if (delay === null) throw err;
        if (delay > 0) await this.#sleep(delay);
      }
    }
  }

  async #callOnce(hub: string, method: string, path: string, body: unknown, signed: boolean): Promise<unknown> {
    if (signed) {
      // A revocation this agent verified once is final: nothing more is asked of, or accepted from, any hub.
      const revoked = this.#requireState().revoked;
      if (revoked)
        throw new AgentError(
          'installation_revoked',
          `Installation ${revoked.installation_id} was revoked by the human's device (a signed revocation). Register and claim this agent again to use it.`,
        );
      await this.#ensureHub(this.#requireState());
    }
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (text !== undefined) headers['content-type'] = 'application/json';
    if (signed) {
      const state = this.#requireState();
      Object.assign(
        headers,
        await signRequestWith({
          role: 'agent',
          keyId: state.agent_id,
          signer: this.#requestSigner,
          method,
          path,
          body: text === undefined ? undefined : utf8Encode(text),
          hub,
          now: this.#now(),
        }),
      );
    }
    let res: Response;
    try {
      res = await this.#fetch(hub + path, { method, headers, ...(text === undefined ? {} : { body: text }) });
    } catch (err) {
      // The hub may have stopped and something else may take its address: prove it again next time.
      this.#hubProvedAt = 0;
      this.#lastCallReached = false;
      throw new AgentError('hub_unreachable', `Cannot reach the hub at ${hub}.`, { cause: err });
    }
    this.#lastCallReached = true;
    let json: unknown;
    try {
      json = await readStrictJson(res);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const error = (
        json as
          { error?: { code?: unknown; message?: unknown; request_id?: unknown; hub_origin?: unknown } } | undefined
      )?.error;
      const code = isApiErrorCode(error?.code) ? error.code : res.status === 429 ? 'rate_limited' : 'internal';
      // Our own words for the code, never the hub's message (issue 13 item 16). For wrong_hub_origin they name the
      // hub's public origin (checked to be an origin) and the one this agent was given: "this hub is …; you used …".
      const message =
        (code === 'wrong_hub_origin' ? wrongHubOriginText(error?.hub_origin, hub) : null) ??
        (typeof error?.code === 'string' ? hubErrorText(error.code) : `The hub answered HTTP ${res.status}.`);
      const retryAfter = code === 'rate_limited' || code === 'hub_busy' ? retryAfterSeconds(res) : undefined;
      throw new AgentError(code, message, {
        status: res.status,
        ...(typeof error?.request_id === 'string' ? { requestId: error.request_id } : {}),
        ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
      });
    }
    if (json === undefined) throw new AgentError('response_invalid', 'The hub sent a response that is not JSON.');
    return json;
  }

  #parse<S extends Parameters<typeof parseWire>[0]>(schema: S, value: unknown) {
    return local(
      () => parseWire(schema, value),
      'response_invalid',
      'The hub sent a response that does not match protocol v1.',
    );
  }

  /**
   * Registers this agent's public keys and manifest. The hub answers with a claim code for the human. The signing key
   * signs a CKKB key binding over the box key (for this hub and name), so the device that claims this agent seals
   * secrets and configs only to the box key this agent vouched for, and the fingerprint printed covers both keys.
   * @throws AgentError `state_invalid` if this client is already registered; hub codes (protocol_invalid, rate_limited, …).
   */
  async register(input: RegisterInput): Promise<Registration> {
    if (this.#state) throw new AgentError('state_invalid', 'This agent is registered already.');
    const hub = normalizeHub(input.hub);
    const pub = agentPublicKeys(this.#keys);
    const fields = local(() =>
      parseWire(RegisterAgentRequestSchema, {
        name: input.name,
        signing_key: pub.signing_key,
        box_key: pub.box_key,
        manifest: input.manifest,
        requested_scopes: [...new Set(input.requestedScopes)].sort(),
      }),
    );
    const key_binding = local(() =>
      signKeyBinding(this.#keys.signingPrivate, {
        hub,
        role: 'agent',
        signing_key: pub.signing_key,
        box_key: pub.box_key,
        name: fields.name,
        time: this.#now(),
      }),
    );
    const body = { ...fields, key_binding };
    // Learn and pin the hub's identity first: this is the hub the claim code and every later request belong to.
    const hubKey = await this.#proveHub(hub, undefined);
    const res = this.#parse(RegisterAgentResponseSchema, await this.#call(hub, 'POST', '/v1/agents', body, false));
    this.#hubProvedAt = this.#now();
    await this.#setState({
      version: 1,
      hub,
      agent_id: res.agent_id,
      name: input.name,
      hub_key: hubKey,
      signing_private: encodePrivateKey(this.#keys.signingPrivate),
      box_private: encodePrivateKey(this.#keys.boxPrivate),
      claim_code_hash: local(
        () => claimCodeHash(res.claim_code),
        'response_invalid',
        'The hub sent a malformed claim code.',
      ),
    });
    return {
      agent_id: res.agent_id,
      claim_code: res.claim_code,
      expires_at: res.expires_at,
      fingerprint: pub.fingerprint,
    };
  }

  /**
   * GET /v1/agents/me. A claim is verified here against our hub, id, keys and claim code; the first one pins its
   * device key and installation, and every later one must match them.
   * @throws AgentError `claim_untrusted`
   */
  async status(): Promise<AgentStatus> {
    const state = this.#requireState();
    // Revoked by a signed CKIR this agent verified before: final, whatever the hub says now; nothing is asked of it.
    if (state.revoked)
      return {
        agent_id: state.agent_id,
        status: 'revoked',
        installation_id: state.revoked.installation_id,
        pinned_now: false,
        revocation: 'signed',
      };
    const me = this.#parse(AgentMeResponseSchema, await this.#call(state.hub, 'GET', '/v1/agents/me', undefined, true));
    if (me.agent_id !== state.agent_id) throw new AgentError('response_invalid', 'The hub answered for another agent.');
    if (!me.installation) {
      if (state.device_key) {
        throw new AgentError(
          'claim_untrusted',
          `The hub reports this agent as ${me.status}, but it was claimed before (installation ${state.installation_id}).`,
        );
      }
      return { agent_id: me.agent_id, status: me.status, pinned_now: false };
    }
    const pub = agentPublicKeys(this.#keys);
    const claim = local(
      () =>
        verifyClaim(me.installation!.claim, {
          hub: state.hub,
          agent_id: state.agent_id,
          agent_signing_key: pub.signing_key,
          agent_box_key: pub.box_key,
          claim_code_hash: state.claim_code_hash,
          ...(state.device_key ? { device_key: state.device_key, installation_id: state.installation_id } : {}),
        }),
      'claim_untrusted',
      state.device_key
        ? 'The claim the hub relays is not signed by the device that claimed this agent (or does not match its installation).'
        : "The claim the hub relays does not verify for this agent's hub, keys and claim code.",
    );
    if (claim.installation_id !== me.installation.installation_id) {
      throw new AgentError('claim_untrusted', 'The hub reports an installation other than the one the claim signs.');
    }
    let pinnedNow = false;
    if (!state.device_key) {
      await this.#setState({
        ...state,
        device_key: claim.device_key,
        installation_id: claim.installation_id,
        granted_scopes: claim.granted_scopes,
        approval_required: claim.policy.approval_required,
      });
      pinnedNow = true;
    }
    if (me.installation.revocation) {
      // Only a CKIR from the pinned device (or one it added, none removed) stops the agent for good; the hub's bare
      // status says what the hub will do, not what the human decided (issue 13 item 9).
      const current = this.#requireState();
      const { signers, learned } = trustedSigners(current, me.devices);
      const revocation = verifiedRevocation(current, signers, me.installation.revocation, pub.signing_key);
      if (revocation) {
        await this.#setState({
          ...withRemoved(current, learned),
          revoked: { installation_id: revocation.installation_id, time: revocation.time },
        });
        return {
          agent_id: me.agent_id,
          status: 'revoked',
          installation_id: revocation.installation_id,
          pinned_now: pinnedNow,
          revocation: 'signed',
        };
      }
    }
    return {
      agent_id: me.agent_id,
      status: me.status,
      installation_id: claim.installation_id,
      granted_scopes: claim.granted_scopes,
      approval_required: claim.policy.approval_required,
      device_key: claim.device_key,
      device_fingerprint: fingerprint(decodePublicKey(claim.device_key, 'ed25519')),
      pinned_now: pinnedNow,
      ...(me.status === 'revoked' ? { revocation: 'unverified' as const } : {}),
    };
  }

  #checkIntent(intent: Intent, id: string | undefined, sent: SentIntent | undefined): Intent {
    const state = this.#requireState();
    if ((id !== undefined && intent.intent_id !== id) || intent.agent_id !== state.agent_id) {
      throw new AgentError('intent_mismatch', 'The hub answered with an intent of another id or agent.');
    }
    if (sent) {
      const hash = payloadHash(sent.kind, sent.payload);
      if (
        intent.kind !== sent.kind ||
        intent.payload_hash !== hash ||
        canonicalize(intent.payload) !== canonicalize(sent.payload)
      ) {
        throw new AgentError(
          'intent_mismatch',
          'The hub shows this intent with another kind or payload than the one sent.',
        );
      }
    }
    return intent;
  }

  /**
   * POST /v1/intents. The kind and payload are remembered, so execute() can check the approval against the hash of
   * what was sent here. A retry with the same idempotency key returns the same intent. Each call sends a fresh
   * `agent_nonce` the device signs into its approval; the request (intent id, payload hash, nonce, time, expiry) is
   * saved in the state before this returns, so an approval is accepted only for this request, also after a restart.
   * @throws AgentError `approval_replayed` when the hub answers with an intent of another request.
   */
  async createIntent(input: {
    kind: string;
    payload: Record<string, unknown>;
    idempotencyKey?: string;
  }): Promise<Intent> {
    const state = this.#requireState();
    const idempotency_key = input.idempotencyKey ?? `ik_${toBase64Url(randomBytes(16))}`;
    const agent_nonce = toBase64Url(randomBytes(AGENT_NONCE_BYTES));
    const body = local(() =>
      parseWire(CreateIntentRequestSchema, { kind: input.kind, payload: input.payload, idempotency_key, agent_nonce }),
    );
    const sent: SentIntent = { kind: input.kind, payload: structuredClone(input.payload) };
    const hash = local(() => payloadHash(sent.kind, sent.payload));
    const requestedAt = this.#now();
    const intent = this.#checkIntent(
      this.#parse(IntentSchema, await this.#call(state.hub, 'POST', '/v1/intents', body, true, true)),
      undefined,
      sent,
    );
    await this.#rememberRequest(intent, {
      kind: sent.kind,
      payload_hash: hash,
      agent_nonce,
      requested_at: requestedAt,
    });
    this.#sent.set(intent.intent_id, sent);
    return intent;
  }

  /**
   * Saves the request behind `intent` (replay-guard.ts). A retry that the hub answered with the intent of our earlier
   * call (same idempotency key) carries that call's nonce, which we hold already; any other nonce is refused.
   */
  async #rememberRequest(intent: Intent, mine: Omit<OpenRequest, 'intent_id' | 'expires_at'>): Promise<void> {
    const current = this.#requireState();
    if (intent.agent_nonce !== mine.agent_nonce) {
      const earlier = findRequest(current, intent.intent_id);
      if (earlier && earlier.agent_nonce === intent.agent_nonce && earlier.payload_hash === mine.payload_hash) return;
      throw new AgentError(
        'approval_replayed',
        'The hub answered this request with an intent made for another request (its agent nonce is not ours).',
      );
    }
    // The hub's expiry, but never longer than the protocol's lifetime from our own clock.
    const expires_at = Math.min(intent.expires_at, mine.requested_at + INTENT_LIFETIME_MS + APPROVAL_CLOCK_SKEW_MS);
    const records = withRequest(current, { intent_id: intent.intent_id, ...mine, expires_at }, this.#now());
    await this.#setState({ ...this.#requireState(), ...records });
  }

  /** GET /v1/intents/:id (our own intents only). */
  /** @param waitSeconds - long poll: the hub answers as soon as the intent changes, or after this many seconds. */
  async getIntent(id: string, waitSeconds = 0): Promise<Intent> {
    const state = this.#requireState();
    if (!isId(id)) throw new AgentError('protocol_invalid', 'Intent id is malformed.');
    const path =
      waitSeconds > 0
        ? `/v1/intents/${id}?wait=${Math.min(Math.floor(waitSeconds), LONG_POLL_SECONDS)}`
        : `/v1/intents/${id}`;
    const intent = this.#parse(IntentSchema, await this.#call(state.hub, 'GET', path, undefined, true));
    return this.#checkIntent(intent, id, this.#sent.get(id));
  }

  /**
   * Waits until the human decides or the intent expires: long polls (the hub answers the moment the intent changes).
   * A poll answered "still pending" is asked again at once, whether the hub held it to the end or ended it early (a
   * held poll evicted by a newer one, a hub restart, an older hub that woke polls on any change in the account):
   * pausing there is what made approvals reach agents up to 10 s late (issue 16). Only a second early answer in a
   * row, or a failed poll, gets a pause, growing ×1.5 from `pollMs` to `maxPollMs`, so a hub answering at once can
   * never make this spin. `approved` only means the hub says so: execute() is where the device's signature is
   * checked.
   * @throws AgentError `wait_timeout`, or the hub's code for a non-transient failure.
   */
  async waitForDecision(id: string, options: WaitOptions = {}): Promise<{ decision: Decision; intent: Intent }> {
    const timeoutMs = options.timeoutMs ?? 5 * 60_000;
    const maxPollMs = Math.max(1, options.maxPollMs ?? 10_000);
    let delay = Math.max(1, Math.min(options.pollMs ?? 1_000, maxPollMs));
    const deadline = this.#now() + timeoutMs;
    let earlyInARow = 0;
    for (;;) {
      let intent: Intent | undefined;
      const asked = this.#now();
      const waitSeconds = Math.floor((deadline - asked) / 1000);
      try {
        intent = await this.getIntent(id, waitSeconds);
      } catch (err) {
        if (!(err instanceof AgentError && TRANSIENT.has(err.code))) throw err;
      }
      if (intent) {
        if (intent.status === 'approved' || intent.status === 'executed') return { decision: 'approved', intent };
        if (intent.status === 'denied' || intent.status === 'expired') return { decision: intent.status, intent };
        options.onPending?.(intent);
      }
      const left = deadline - this.#now();
      if (left <= 0)
        throw new AgentError('wait_timeout', `No decision on intent ${id} within ${Math.round(timeoutMs / 1000)} s.`);
      if (intent && waitSeconds > 0) {
        const heldMs = this.#now() - asked;
        const heldToEnd = heldMs >= Math.min(waitSeconds, LONG_POLL_SECONDS) * 1000 - 100;
        earlyInARow = heldToEnd ? 0 : earlyInARow + 1;
        if (earlyInARow <= 1) continue;
      }
      await this.#sleep(Math.min(delay, left));
      delay = Math.min(Math.ceil(delay * 1.5), maxPollMs);
    }
  }

  /**
   * POST /v1/intents/:id/execute, once per approved intent. Only for a request this agent made (its saved record),
   * never twice. Verifies the device's approval under the pinned device key, for our hub, this intent, our
   * installation, the payload hash recomputed from what we sent (the hub's hash is not used) and the nonce we sent,
   * signed between our request and the intent's expiry; then opens what the device sealed for this intent: the
   * secret of a secret.request, the outcome of an http.request (under the same device keys as the approval).
   * @param sent - the kind and payload sent (optional: checked against the saved request).
   * @throws AgentError `approval_untrusted`, `approval_replayed`, `sealed_untrusted`, `state_invalid`, `intent_mismatch`, or hub codes
   *   (intent_required, intent_already_executed, intent_expired, …).
   */
  async execute(id: string, sent?: SentIntent): Promise<ExecuteResult> {
    let state = this.#requireState();
    if (!isId(id)) throw new AgentError('protocol_invalid', 'Intent id is malformed.');
    const expected = sent ?? this.#sent.get(id);
    // Only a request this agent made, not executed yet and not expired (replay-guard.ts): checked before asking the hub.
    const request = requestToExecute(state, id, this.#now());
    if (expected) {
      const hash = local(() => payloadHash(expected.kind, expected.payload));
      if (expected.kind !== request.kind || hash !== request.payload_hash) {
        throw new AgentError(
          'intent_mismatch',
          'The kind and payload given are not the ones this agent sent for that intent.',
        );
      }
    }
    if (!state.device_key) {
      await this.status();
      state = this.#requireState();
      if (!state.device_key) throw new AgentError('agent_not_claimed', 'This agent has not been claimed yet.');
    }
    const res = this.#parse(
      ExecuteResponseSchema,
      await this.#call(state.hub, 'POST', `/v1/intents/${id}/execute`, undefined, true, true),
    );
    // The hub answered execute: whatever follows, this intent is used up here, also after a restart.
    await this.#setState({ ...this.#requireState(), ...withExecuted(this.#requireState(), request, this.#now()) });
    if (res.intent.intent_id !== id || res.intent.agent_id !== state.agent_id || res.intent.kind !== request.kind) {
      throw new AgentError('intent_mismatch', 'The hub executed an intent other than the one asked for.');
    }
    // The pinned device first; then the devices it added to the account (and they added), by their signed
    // device-add statements: the hub cannot make a key one of those without the pinned device's signature. A
    // device removed by a verified CKDR (now or remembered from before) signs nothing the agent accepts.
    const { signers, learned } = trustedSigners(this.#requireState(), res.devices);
    if (learned.length > 0) await this.#setState(withRemoved(this.#requireState(), learned));
    const approval = this.#verifiedApproval(res.approval, request, signers);
    const result: ExecuteResult = { intent: res.intent, ...(approval ? { approval } : {}) };
    Object.assign(result, this.#openDelivered(res, request, signers));
    return result;
  }

  /**
   * The device's approval of `request`, verified under one of `signers` (undefined only where the signed policy does
   * not require one for this kind).
   * @throws AgentError `approval_untrusted`, `approval_replayed`
   */
  #verifiedApproval(
    signed: ExecuteResponse['approval'],
    request: OpenRequest,
    signers: readonly Uint8Array[],
  ): ApprovalStatement | undefined {
    const state = this.#requireState();
    if (!signed) {
      // Kinds only the device can carry out (it holds the secrets) always need its signature, whatever the policy.
      if (needsDevice(request.kind) || (state.approval_required ?? []).includes(request.kind))
        throw new AgentError(
          'approval_untrusted',
          `The hub executed a ${request.kind} without the device's signed approval, which the signed policy requires.`,
        );
      return undefined;
    }
    const want = {
      hub: state.hub,
      intent_id: request.intent_id,
      payload_hash: request.payload_hash,
      installation_id: state.installation_id!,
      agent_nonce: request.agent_nonce,
    };
    const approval = signers
      .map((key) => {
        try {
          return verifyApproval(key, signed, want);
        } catch {
          return undefined;
        }
      })
      .find((a) => a !== undefined);
    if (!approval && signed.statement.agent_nonce !== request.agent_nonce) {
      throw new AgentError(
        'approval_replayed',
        'The approval was made for another request of this agent (not the nonce it sent with this one).',
      );
    }
    if (!approval)
      throw new AgentError(
        'approval_untrusted',
        'The approval is not signed by the pinned device (or a device it added) for this hub, intent, installation and payload.',
      );
    if (approval.decision !== 'approve')
      throw new AgentError('approval_untrusted', 'The device-signed statement is a denial, not an approval.');
    checkApprovalTime(approval, request);
    return approval;
  }

  /**
   * What the device sealed for this agent with an approved intent, opened for exactly this intent and the payload
   * hash computed here: nothing for kinds that carry nothing.
   * @throws AgentError `sealed_untrusted`
   */
  #openDelivered(
    res: ExecuteResponse,
    request: OpenRequest,
    signers: readonly Uint8Array[],
  ): Pick<ExecuteResult, 'secret' | 'http'> {
    const state = this.#requireState();
    if (request.kind === 'secret.request') {
      if (!res.sealed_secret) throw new AgentError('sealed_untrusted', 'The hub sent no sealed secret.');
      const secret = local(
        () =>
          openSealedSecret(this.#keys.boxPrivate, fromBase64Url(res.sealed_secret!, 'sealed_secret'), {
            intent_id: request.intent_id,
            payload_hash: request.payload_hash,
            agent_id: state.agent_id,
          }),
        'sealed_untrusted',
        'The sealed secret does not open for this agent and intent: it was changed or sealed for something else.',
      );
      return { secret };
    }
    if (request.kind === 'http.request') return { http: this.#openHttpDelivery(res.http_response, request, signers) };
    return {};
  }

  /** An http.request's delivery (CKRS + CKHR), opened for our hub, agent, installation, this intent and local hash. */
  #openHttpDelivery(
    delivery: unknown,
    request: Pick<OpenRequest, 'intent_id' | 'payload_hash'>,
    signers: readonly Uint8Array[],
  ): HttpOutcome {
    const state = this.#requireState();
    return openTrustedDelivery(signers, this.#keys.boxPrivate, delivery, {
      hub: state.hub,
      agent_id: state.agent_id,
      installation_id: state.installation_id!,
      intent_id: request.intent_id,
      payload_hash: request.payload_hash,
    });
  }

  /**
   * Asks the person's browser to make one HTTPS call with vault secrets put in where `{{secret:NAME}}` stands
   * (issue 18), waits for the decision and returns the outcome the device sealed to this agent: the server's answer
   * (its body already cut of any reflection of a secret) or why the call got none. The secret itself never reaches
   * the agent, and the hub sees neither it nor the answer.
   * @throws AgentError `intent_denied` (the person said no), `http_refused` (the device refused unasked: the message
   *   is its own words, `deviceCode` its code), `intent_expired`, `wait_timeout`, `sealed_untrusted`,
   *   `approval_untrusted`, `protocol_invalid` (the request is not a valid http.request), or hub codes
   *   (`scope_not_granted` without `http:HOST`, …).
   */
  async httpRequest(input: HttpRequestInput, options: HttpRequestOptions = {}): Promise<HttpRequestResult> {
    const payload = httpRequestPayload(input);
    const intent = await this.createIntent({
      kind: 'http.request',
      payload,
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
    });
    options.onCreated?.(intent);
    const { decision, intent: decided } = await this.waitForDecision(intent.intent_id, options);
    if (decision === 'expired')
      throw new AgentError('intent_expired', `Intent ${intent.intent_id} expired before your human decided.`);
    if (decision === 'denied') {
      // A refusal the device made unasked comes sealed and signed with the denial; the hub's word "denied" alone
      // (or a refusal it made up) gets the plain denial. The hub sends the account's devices with it, as with an
      // execute: the pinned device and the devices it vouched for (none removed) are the signers accepted.
      if (decided.http_response !== undefined) {
        const { signers, learned } = trustedSigners(this.#requireState(), decided.devices);
        if (learned.length > 0) await this.#setState(withRemoved(this.#requireState(), learned));
        const outcome = this.#openHttpDelivery(
          decided.http_response,
          { intent_id: intent.intent_id, payload_hash: payloadHash('http.request', payload) },
          signers,
        );
        if (outcome.outcome === 'refused') throw refusedError(outcome);
      }
      throw new AgentError(
        'intent_denied',
        `Your human denied this call (intent ${intent.intent_id}). Do not make it another way.`,
      );
    }
    const done = await this.execute(intent.intent_id);
    const outcome = done.http!;
    // The device approved, then found at the call that it may not make it (a secret's host list changed, say).
    if (outcome.outcome === 'refused') throw refusedError(outcome);
    return {
      intent: done.intent,
      approval: done.approval!,
      outcome:
        outcome.outcome === 'response' ? outcome : { outcome: 'failed', code: outcome.code, message: outcome.message },
    };
  }

  /**
   * GET /v1/agent/config: the newest agent config the human assigned to this agent, verified and opened (see
   * acceptConfig). The accepted revision is remembered in the state, so a later call refuses an older one.
   * @throws AgentError `config_not_assigned` (none assigned), `config_untrusted`, `config_rollback`, hub codes.
   */
  async config(): Promise<AcceptedConfig> {
    let state = this.#requireState();
    if (!state.device_key) {
      await this.status();
      state = this.#requireState();
      if (!state.device_key) throw new AgentError('agent_not_claimed', 'This agent has not been claimed yet.');
    }
    const res = this.#parse(
      AgentConfigResponseSchema,
      await this.#call(state.hub, 'GET', '/v1/agent/config', undefined, true),
    );
    // Removals in the list are remembered even if the delivery then fails (e.g. signed by the removed device).
    const { learned } = trustedSigners(state, Array.isArray(res.devices) ? res.devices : undefined);
    if (learned.length > 0) await this.#setState((state = withRemoved(state, learned)));
    const accepted = acceptConfig(state, this.#keys.boxPrivate, res);
    const last = state.config_seen;
    if (
      !last ||
      last.config_id !== accepted.seen.config_id ||
      last.revision !== accepted.seen.revision ||
      last.time !== accepted.seen.time
    ) {
      await this.#setState({ ...this.#requireState(), config_seen: accepted.seen });
    }
    return accepted;
  }
}

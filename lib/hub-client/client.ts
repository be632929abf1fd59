import type { SignedInstallationRevocation } from '../protocol/revocation';
import * as v from 'valibot';
import { utf8Encode } from '../bytes';
import { isOrigin } from '../protocol/fields';
import { encodePublicKey } from '../protocol/keys';
import type { SignedClaim } from '../protocol/approval';
import type { ConfigDelivery } from '../protocol/sealed-config';
import { signRequestWith, type AsyncRequestSigner, type Role } from '../protocol/request-signing';
import { parseStrictJson, readStrictJson } from '../protocol/strict-json';
import { VaultPullSchema, VaultPushResponseSchema, type VaultPull, type VaultPush } from '../protocol/vault-sync-wire';
import {
  AuditListResponseSchema,
  ClaimLookupResponseSchema,
  ClaimResponseSchema,
  ConfigDeleteResponseSchema,
  ConfigPutResponseSchema,
  EnrollResponseSchema,
  ErrorBodySchema,
  IntentListResponseSchema,
  IntentSchema,
  RevokeResponseSchema,
  type AuditListResponse,
  type ClaimLookupResponse,
  type ClaimResponse,
  type ConfigDeleteResponse,
  type ConfigPutResponse,
  type DecisionRequest,
  type EnrollResponse,
  type Intent,
  type RevokeResponse,
} from '../protocol/wire';
import { relayedCode } from '../errors';
import { hubErrorText, isApiErrorCode, wrongHubOriginText } from '../protocol/api-errors';
import { WatchRegisterResponseSchema, type WatchRegisterResponse } from '../protocol/watch-wire';
import { HubClientError, type HubClientErrorCode } from './errors';
import { readSse, type SseEvent } from './sse';
import { PENDING_PAGE_MAX } from '../protocol/intent-events-wire';

/** Pages pendingIntents() reads at most: 40 × 500 = 20,000 intents. */
export const PENDING_LIST_MAX_PAGES = 40;

/** Who signs: role, the key id the hub knows the key by, and a signer that never reveals the key. */
export interface HubSigner extends AsyncRequestSigner {
  role: Role;
  keyId: string;
}

export interface HubClientOptions {
  /** The hub's origin, e.g. http://127.0.0.1:8787 (see normalizeHubUrl). */
  hub: string;
  signer: HubSigner;
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * An installation as GET /v1/installations lists it. The route is newer than this client, so parsing is lenient:
 * only the id is required; everything else is optional and the device checks what it can (the signed claim).
 */
export const HubInstallationSchema = v.object({
  installation_id: v.string(),
  agent_id: v.optional(v.string()),
  name: v.optional(v.string()),
  agent_name: v.optional(v.string()),
  status: v.optional(v.string()),
  granted_scopes: v.optional(v.array(v.string())),
  created_at: v.optional(v.number()),
  last_activity: v.optional(v.nullable(v.number())),
  /** The agent's CKKB key binding (issue 13 item 2): adopting a listed installation requires it to verify. */
  key_binding: v.optional(v.nullable(v.unknown())),
  agent_signing_key: v.optional(v.string()),
  /** The CKIR a device signed when it revoked this installation (issue 13 item 9). */
  revocation: v.optional(v.nullable(v.unknown())),
  last_activity_at: v.optional(v.nullable(v.number())),
  claim: v.optional(v.unknown()),
});
export type HubInstallation = v.InferOutput<typeof HubInstallationSchema>;
const InstallationListSchema = v.object({ installations: v.array(HubInstallationSchema) });

/**
 * The hub's origin from what a person typed: http(s) only, no credentials, path, query or fragment; http only for
 * loopback (docs/protocol.md §2). @throws HubClientError `hub_url_invalid`
 */
export function normalizeHubUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new HubClientError('hub_url_invalid', 'That is not a URL.');
  }
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new HubClientError(
      'hub_url_invalid',
      'Give only the hub origin, e.g. http://127.0.0.1:8787 (no path, query or credentials).',
    );
  }
  const origin = url.origin;
  if (!isOrigin(origin))
    throw new HubClientError('hub_url_invalid', 'Use https, or http only for localhost / 127.0.0.1.');
  return origin;
}

function parse<S extends v.GenericSchema>(schema: S, value: unknown, what: string): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (!result.success) throw new HubClientError('hub_bad_response', `The hub sent a malformed ${what}.`);
  return result.output;
}

/**
 * Framework-free client for the hub's human endpoints. Every request is signed (docs/protocol.md §5) over the exact
 * path and body bytes sent; redirects are refused (a redirected request would be replayed elsewhere), cookies are
 * never sent. No secret goes in a URL and nothing here logs.
 */
export class HubClient {
  readonly hub: string;
  private readonly signer: HubSigner;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(options: HubClientOptions) {
    this.hub = normalizeHubUrl(options.hub);
    this.signer = options.signer;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
  }

  /** Sends one signed request; resolves with the raw Response on 2xx, throws HubClientError otherwise. */
  async send(
    method: string,
    path: string,
    body?: unknown,
    init: { signal?: AbortSignal; accept?: string; lastEventId?: string } = {},
  ): Promise<Response> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const bytes = text === undefined ? undefined : utf8Encode(text);
    const headers: Record<string, string> = {
      accept: init.accept ?? 'application/json',
      ...(init.lastEventId !== undefined ? { 'last-event-id': init.lastEventId } : {}),
      ...(bytes ? { 'content-type': 'application/json' } : {}),
      ...(await signRequestWith({
        role: this.signer.role,
        keyId: this.signer.keyId,
        signer: this.signer,
        method,
        path,
        body: bytes,
        hub: this.hub,
        now: this.now(),
      })),
    };
    let res: Response;
    try {
      res = await this.fetchImpl(this.hub + path, {
        method,
        headers,
        body: bytes as BodyInit | undefined,
        signal: init.signal,
        redirect: 'error',
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      // The extension's fetch already explains a failure it knows more about (a hub origin it may no longer reach).
      if (err instanceof HubClientError) throw err;
      throw new HubClientError('hub_unreachable', `Could not reach the hub at ${this.hub}.`, { cause: err });
    }
    if (res.ok) return res;
    throw await responseError(res);
  }

  private async json<S extends v.GenericSchema>(
    schema: S,
    what: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<v.InferOutput<S>> {
    const res = await this.send(method, path, body);
    let value: unknown;
    try {
      value = await readStrictJson(res);
    } catch (err) {
      throw new HubClientError('hub_bad_response', `The hub sent a malformed ${what}.`, { cause: err });
    }
    return parse(schema, value, what);
  }

  /** POST /v1/accounts: the signer's key id must be deviceKeyId(deviceKey). */
  enroll(enrollmentCode: string, deviceKey: Uint8Array): Promise<EnrollResponse> {
    return this.json(EnrollResponseSchema, 'enrolment answer', 'POST', '/v1/accounts', {
      enrollment_code: enrollmentCode,
      device_key: encodePublicKey(deviceKey),
    });
  }

  lookupClaim(claimCode: string): Promise<ClaimLookupResponse> {
    return this.json(ClaimLookupResponseSchema, 'claim lookup', 'POST', '/v1/claims/lookup', { claim_code: claimCode });
  }

  claim(claim: SignedClaim): Promise<ClaimResponse> {
    return this.json(ClaimResponseSchema, 'claim answer', 'POST', '/v1/claims', { claim });
  }

  async listInstallations(): Promise<HubInstallation[]> {
    return (await this.json(InstallationListSchema, 'installation list', 'GET', '/v1/installations')).installations;
  }

  /** DELETE /v1/installations/:id with the CKIR this device signed (lib/protocol/revocation.ts). */
  revokeInstallation(installationId: string, revocation: SignedInstallationRevocation): Promise<RevokeResponse> {
    return this.json(
      RevokeResponseSchema,
      'revocation answer',
      'DELETE',
      `/v1/installations/${encodeURIComponent(installationId)}`,
      { revocation },
    );
  }

  /** POST /v1/installations/:id/enable (empty body): re-enables an installation the hub locked after repeated denials. */
  enableInstallation(installationId: string): Promise<HubInstallation> {
    return this.json(
      HubInstallationSchema,
      'installation',
      'POST',
      `/v1/installations/${encodeURIComponent(installationId)}/enable`,
    );
  }

  /** PUT /v1/installations/:id/config: one sealed, device-signed revision of an agent config (409 config_stale if not newer). */
  putConfig(installationId: string, delivery: ConfigDelivery): Promise<ConfigPutResponse> {
    return this.json(
      ConfigPutResponseSchema,
      'config answer',
      'PUT',
      `/v1/installations/${encodeURIComponent(installationId)}/config`,
      delivery,
    );
  }

  /** DELETE /v1/installations/:id/config: unassigns the agent's config. */
  deleteConfig(installationId: string): Promise<ConfigDeleteResponse> {
    return this.json(
      ConfigDeleteResponseSchema,
      'config answer',
      'DELETE',
      `/v1/installations/${encodeURIComponent(installationId)}/config`,
    );
  }

  /** GET /v1/vault?since=N: the vault items changed after counter N, the counter and the newest signed head. */
  pullVault(since: number): Promise<VaultPull> {
    return this.json(VaultPullSchema, 'vault', 'GET', `/v1/vault?since=${encodeURIComponent(String(since))}`);
  }

  /** POST /v1/vault: local changes plus the new signed head (409 vault_stale / vault_conflict when the hub moved on). */
  pushVault(push: VaultPush): Promise<{ counter: number }> {
    return this.json(VaultPushResponseSchema, 'vault push answer', 'POST', '/v1/vault', push);
  }

  /**
   * GET /v1/audit: the audit entries about this account, newest first, older than `before` (a seq) if given, and the
   * hub-signed head; with `since` (the seq of the head this device kept) also the consistency proof from it.
   */
  audit(options: { limit?: number; before?: number; since?: number } = {}): Promise<AuditListResponse> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.before !== undefined) query.set('before', String(options.before));
    if (options.since !== undefined) query.set('since', String(options.since));
    const qs = query.toString();
    return this.json(AuditListResponseSchema, 'audit list', 'GET', `/v1/audit${qs ? `?${qs}` : ''}`);
  }

  /** PUT /v1/watch: registers this device's watch token by its SHA-256 (lib/protocol/watch-wire.ts). */
  registerWatch(tokenSha256: string): Promise<WatchRegisterResponse> {
    return this.json(WatchRegisterResponseSchema, 'watch registration', 'PUT', '/v1/watch', {
      token_sha256: tokenSha256,
    });
  }

  /**
   * GET /v1/intents?status=pending, page after page (docs/protocol.md §8): the whole pending list, oldest first, at
   * most PENDING_LIST_MAX_PAGES pages of PENDING_PAGE_MAX (a hub that never stops paging is cut off there).
   */
  async pendingIntents(): Promise<Intent[]> {
    const all = new Map<string, Intent>();
    let cursor: string | undefined;
    for (let n = 0; n < PENDING_LIST_MAX_PAGES; n++) {
      const query = `status=pending&limit=${PENDING_PAGE_MAX}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await this.json(IntentListResponseSchema, 'intent list', 'GET', `/v1/intents?${query}`);
      for (const intent of page.intents) all.set(intent.intent_id, intent);
      if (page.next_cursor === undefined || page.next_cursor === cursor) break;
      cursor = page.next_cursor;
    }
    return [...all.values()];
  }

  getIntent(intentId: string): Promise<Intent> {
    return this.json(IntentSchema, 'intent', 'GET', `/v1/intents/${encodeURIComponent(intentId)}`);
  }

  decide(intentId: string, body: DecisionRequest): Promise<Intent> {
    return this.json(IntentSchema, 'intent', 'POST', `/v1/intents/${encodeURIComponent(intentId)}/decision`, body);
  }

  /**
   * GET /v1/events as a stream (signed like any GET). Calls `onEvent` per event until the stream ends (resolves),
   * fails or `signal` aborts (rejects). `onOpen` runs once the hub accepted the subscription. `lastEventId` (a
   * PendingMirror's resumeId) asks for the changes since that event instead of a snapshot.
   */
  async events(
    onEvent: (event: SseEvent) => void,
    options: { signal?: AbortSignal; onOpen?: () => void; lastEventId?: string } = {},
  ): Promise<void> {
    const res = await this.send('GET', '/v1/events', undefined, {
      signal: options.signal,
      accept: 'text/event-stream',
      ...(options.lastEventId !== undefined ? { lastEventId: options.lastEventId } : {}),
    });
    if (!res.headers.get('content-type')?.startsWith('text/event-stream') || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new HubClientError('hub_bad_response', 'The hub did not answer with an event stream.', {
        status: res.status,
      });
    }
    options.onOpen?.();
    await readSse(res.body, onEvent);
  }
}

/**
 * The typed error for a hub's non-2xx answer: its code when the body has the error shape (an unknown code is kept as
 * a relayed identifier), never the hub's own message (issue 13 item 16).
 */
export async function responseError(res: Response): Promise<HubClientError> {
  let code: HubClientErrorCode = 'hub_bad_response';
  let message = `The hub answered HTTP ${res.status}.`;
  let requestId: string | null = null;
  try {
    const parsed = v.safeParse(ErrorBodySchema, await res.json());
    if (parsed.success) {
      const sent = parsed.output.error.code;
      // A code this build does not know is kept (and shown only as a plain identifier: hubErrorText).
      code = isApiErrorCode(sent) ? sent : relayedCode(sent);
      // Never the hub's own message: a hub can write anything there (issue 13 item 16). wrong_hub_origin names the
      // hub's public origin (checked) and the one this request went to (issue 16).
      const used = res.url ? safeOrigin(res.url) : null;
      message =
        (code === 'wrong_hub_origin' && used ? wrongHubOriginText(parsed.output.error.hub_origin, used) : null) ??
        hubErrorText(code);
      requestId = parsed.output.error.request_id;
    }
  } catch {
    // not JSON: keep the generic message
  }
  return new HubClientError(code, message, { status: res.status, requestId });
}

/** The origin of a URL, or null if it is not one. */
function safeOrigin(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** Parses the data of an `intents` event: the full pending list. */
export function parseIntentsEvent(data: string): Intent[] {
  let value: unknown;
  try {
    value = parseStrictJson(data);
  } catch (err) {
    throw new HubClientError('hub_bad_response', 'The hub sent a malformed intents event.', { cause: err });
  }
  // Either {intents: [...]} (like GET /v1/intents) or a bare array.
  return parse(IntentListResponseSchema, Array.isArray(value) ? { intents: value } : value, 'intents event').intents;
}

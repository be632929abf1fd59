import type * as v from 'valibot';
import { PhalaApiError } from './errors';
import { appIdSegment, cvmIdSegment, kmsIdSegment, requireHex } from './ids';
import { DEFAULT_RETRY, requestJson, type RetryOptions, type TransportOptions } from './transport';
import {
  AttestationSchema,
  CvmSchema,
  EnvPubkeySchema,
  EnvUpdateSchema,
  GuestInfoSchema,
  GuestQuoteSchema,
  KmsListSchema,
  LogsSchema,
  OsImageListSchema,
  ProvisionResponseSchema,
  StateSchema,
  UserSchema,
  type CvmAttestation,
  type CvmState,
  type EnvPubkey,
  type EnvUpdate,
  type GuestInfo,
  type GuestQuote,
  type PhalaCvm,
  type PhalaKms,
  type PhalaOsImage,
  type PhalaUser,
  type ProvisionedCvm,
} from './wire';

/**
 * Typed client for the Phala Cloud API (spec §3; shapes in ./wire.ts) and for a CVM's dstack guest API.
 *
 * Safety rules it keeps:
 * - The API key travels only in the `X-API-Key` header of requests to `baseUrl`; never in a URL, an error, or a
 *   request to a guest agent (which is the CVM's own origin and must not learn the account's key).
 * - `baseUrl` and guest URLs must be https, or http on loopback only (the simulator); no credentials, query or
 *   fragment. Redirects are refused.
 * - Every id that goes into a path is validated and path-encoded (./ids.ts); hex inputs are checked for length.
 * - Retries only where repeating cannot do harm — see ./transport.ts: GETs and DELETE; never provision, create,
 *   start/stop/restart or the env update.
 */

export const PHALA_CLOUD_API_URL = 'https://cloud-api.phala.com/api/v1';
export const PHALA_API_VERSION = '2026-01-21';
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Attestation answers carry event logs and certificates; 8 MiB is far above a real one. */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
/** dstack refuses an `.encrypted-env` larger than 256 KiB (spec §1.4); hex doubles it. */
export const MAX_ENCRYPTED_ENV_HEX = 2 * 256 * 1024;
export const MAX_LOG_TAIL = 10_000;

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_ENV_KEYS = 1024;

export interface PhalaClientOptions {
  apiKey: string;
  /** Default https://cloud-api.phala.com/api/v1; the simulator's is http://127.0.0.1:<port>/api/v1. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Sent as X-Phala-Version; default 2026-01-21 (the shapes ./wire.ts speaks). */
  apiVersion?: string;
  retry?: RetryOptions;
  /** Per attempt; default 30 s. */
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** For tests of the backoff: replaces the wait between attempts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** The app compose part of a provision request (Phala `compose_file`). */
export interface ComposeFileRequest {
  dockerComposeFile: string;
  allowedEnvs: string[];
  gatewayEnabled: boolean;
  /** dstack's KMS must hand the env key to the CVM; sealing to a CVM without it is meaningless. */
  kmsEnabled: true;
  publicLogs: boolean;
  preLaunchScript?: string;
  name?: string;
}

export interface ProvisionCvmRequest {
  /** 5–63 characters, a letter first, [a-z0-9-] (a hostname label). */
  name: string;
  instanceType?: string;
  diskSizeGb?: number;
  kmsId?: string;
  composeFile: ComposeFileRequest;
  envKeys: string[];
}

export interface CreateCvmRequest {
  appId: string;
  composeHash: string;
  /**
   * Output of lib/seal encryptEnv: lower-case hex. Omitted (with envKeys) to boot the CVM without any secret, so
   * it can be attested first and get its env by updateEnv once trusted.
   */
  encryptedEnv?: string;
  envKeys?: string[];
}

export interface EnvUpdateRequest {
  encryptedEnv: string;
  envKeys: string[];
}

export interface PhalaClient {
  readonly baseUrl: string;
  whoami(o?: RequestOptions): Promise<PhalaUser>;
  listKms(o?: RequestOptions): Promise<PhalaKms[]>;
  listOsImages(o?: RequestOptions): Promise<PhalaOsImage[]>;
  /** POST /cvms/provision. Never retried. */
  provisionCvm(req: ProvisionCvmRequest, o?: RequestOptions): Promise<ProvisionedCvm>;
  /** POST /cvms (commit the provision; with a sealed env, or none at all). Never retried. */
  createCvm(req: CreateCvmRequest, o?: RequestOptions): Promise<PhalaCvm>;
  getCvm(id: string, o?: RequestOptions): Promise<PhalaCvm>;
  getEnvPubkey(kmsId: string, appId: string, o?: RequestOptions): Promise<EnvPubkey>;
  getAttestation(id: string, o?: RequestOptions): Promise<CvmAttestation>;
  /** `PATCH /cvms/{id}/envs`: replaces the whole env set. Never retried (it queues a restart). */
  updateEnv(id: string, req: EnvUpdateRequest, o?: RequestOptions): Promise<EnvUpdate>;
  getState(id: string, o?: RequestOptions): Promise<CvmState>;
  getLogs(id: string, tail?: number, o?: RequestOptions): Promise<string[]>;
  start(id: string, o?: RequestOptions): Promise<PhalaCvm>;
  stop(id: string, o?: RequestOptions): Promise<PhalaCvm>;
  restart(id: string, o?: RequestOptions): Promise<PhalaCvm>;
  /** `DELETE /cvms/{id}` → 204. Retried; a 404 after an unanswered attempt counts as deleted. */
  deleteCvm(id: string, o?: RequestOptions): Promise<void>;
  /** `GET {guestAgentUrl}/Info` — no API key is sent. */
  guestInfo(guestAgentUrl: string, o?: RequestOptions): Promise<GuestInfo>;
  /** `GET {guestAgentUrl}/GetQuote?report_data=<128 hex>` — no API key is sent. */
  guestGetQuote(guestAgentUrl: string, reportDataHex: string, o?: RequestOptions): Promise<GuestQuote>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * An API or guest base URL without a trailing slash: https anywhere, http only on loopback; no credentials, query
 * or fragment (a key or token there would end up in logs). @throws PhalaApiError `invalid_argument`
 */
export function normalizeBaseUrl(input: string, what = 'Phala Cloud API URL'): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new PhalaApiError('invalid_argument', `The ${what} is not a URL.`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new PhalaApiError('invalid_argument', `The ${what} must not contain credentials, a query or a fragment.`);
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new PhalaApiError('invalid_argument', `The ${what} must use https (http only for localhost).`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function requireEnvKeys(what: string, keys: unknown): string[] {
  if (!Array.isArray(keys) || keys.length > MAX_ENV_KEYS) {
    throw new PhalaApiError('invalid_argument', `${what} must be a list of at most ${MAX_ENV_KEYS} names.`);
  }
  const seen = new Set<string>();
  for (const [i, key] of keys.entries()) {
    if (typeof key !== 'string' || key.length > 255 || !ENV_KEY.test(key)) {
      throw new PhalaApiError(
        'invalid_argument',
        `${what}[${i}] must match [A-Za-z_][A-Za-z0-9_]* (at most 255 characters).`,
      );
    }
    if (seen.has(key)) throw new PhalaApiError('invalid_argument', `${what}[${i}] "${key}" appears twice.`);
    seen.add(key);
  }
  return keys as string[];
}

function requireEncryptedEnv(value: unknown): string {
  // At least an X25519 key, an IV and a GCM tag (32 + 12 + 16 bytes).
  if (
    typeof value !== 'string' ||
    value.length < 120 ||
    value.length % 2 !== 0 ||
    value.length > MAX_ENCRYPTED_ENV_HEX ||
    !/^[0-9a-f]+$/.test(value)
  ) {
    throw new PhalaApiError(
      'invalid_argument',
      'The encrypted env must be lower-case hex of a sealed env (60 bytes to 256 KiB).',
    );
  }
  return value;
}

/** The env part of a create: both fields or neither (a CVM created without env gets it later by updateEnv). */
function createEnvFields(req: CreateCvmRequest): Record<string, unknown> {
  if (req.encryptedEnv === undefined) {
    if (req.envKeys !== undefined && req.envKeys.length > 0)
      throw new PhalaApiError('invalid_argument', 'envKeys were given without an encrypted env.');
    return {};
  }
  return {
    encrypted_env: requireEncryptedEnv(req.encryptedEnv),
    env_keys: requireEnvKeys('envKeys', req.envKeys ?? []),
  };
}

const CVM_NAME = /^[a-z][a-z0-9-]{3,61}[a-z0-9]$/;

function provisionBody(req: ProvisionCvmRequest): Record<string, unknown> {
  if (typeof req.name !== 'string' || !CVM_NAME.test(req.name)) {
    throw new PhalaApiError(
      'invalid_argument',
      'The CVM name must be 5–63 characters of [a-z0-9-], start with a letter and not end with "-".',
    );
  }
  const c = req.composeFile;
  if (!c || typeof c.dockerComposeFile !== 'string' || c.dockerComposeFile.length === 0) {
    throw new PhalaApiError('invalid_argument', 'The compose file is empty.');
  }
  if (c.kmsEnabled !== true)
    throw new PhalaApiError('invalid_argument', 'kmsEnabled must be true: the env key comes from the KMS.');
  const compose: Record<string, unknown> = {
    docker_compose_file: c.dockerComposeFile,
    allowed_envs: requireEnvKeys('allowedEnvs', c.allowedEnvs),
    gateway_enabled: c.gatewayEnabled,
    kms_enabled: true,
    public_logs: c.publicLogs,
  };
  if (c.preLaunchScript !== undefined) compose.pre_launch_script = c.preLaunchScript;
  if (c.name !== undefined) compose.name = c.name;
  const body: Record<string, unknown> = {
    name: req.name,
    compose_file: compose,
    env_keys: requireEnvKeys('envKeys', req.envKeys),
  };
  if (req.instanceType !== undefined) body.instance_type = req.instanceType;
  if (req.diskSizeGb !== undefined) body.disk_size = req.diskSizeGb;
  if (req.kmsId !== undefined) {
    kmsIdSegment(req.kmsId);
    body.kms_id = req.kmsId;
  }
  return body;
}

/** Creates a client; nothing is sent until a method is called. @throws PhalaApiError `invalid_argument` */
export function createPhalaClient(options: PhalaClientOptions): PhalaClient {
  const apiKey = options.apiKey;
  // Header values cannot carry control characters; a key with whitespace is a paste error, not a key.
  if (typeof apiKey !== 'string' || apiKey.length === 0 || apiKey.length > 512 || !/^[\x21-\x7e]+$/.test(apiKey)) {
    throw new PhalaApiError(
      'invalid_argument',
      'The Phala Cloud API key is empty or contains spaces or control characters.',
    );
  }
  const baseUrl = normalizeBaseUrl(options.baseUrl ?? PHALA_CLOUD_API_URL);
  const apiVersion = options.apiVersion ?? PHALA_API_VERSION;
  const fetchImpl = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const transport: TransportOptions = {
    fetch: fetchImpl,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    secrets: [apiKey],
    sleep: options.sleep,
  };

  const api = <S extends v.GenericSchema>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    what: string,
    schema: S | null,
    o: RequestOptions | undefined,
    body?: unknown,
  ): Promise<v.InferOutput<S>> =>
    requestJson(
      {
        method,
        url: baseUrl + path,
        what,
        headers: {
          accept: 'application/json',
          'x-api-key': apiKey,
          'x-phala-version': apiVersion,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body,
        schema,
        idempotent: method === 'GET' || method === 'DELETE',
        signal: o?.signal,
      },
      transport,
    );

  // The guest agent is the CVM's own origin: no API key, no Phala version header.
  const guest = <S extends v.GenericSchema>(
    guestAgentUrl: string,
    path: string,
    what: string,
    schema: S,
    o?: RequestOptions,
  ) =>
    requestJson(
      {
        method: 'GET',
        url: normalizeBaseUrl(guestAgentUrl, 'guest agent URL') + path,
        what,
        headers: { accept: 'application/json' },
        schema,
        idempotent: true,
        signal: o?.signal,
      },
      { ...transport, secrets: [apiKey] },
    );

  const cvmPath = (id: string, suffix = '') => `/cvms/${cvmIdSegment(id)}${suffix}`;
  // Every path is built before the request so a bad id fails synchronously-in-the-promise, before any I/O.
  const run = <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return f();
    } catch (err) {
      return Promise.reject(err);
    }
  };

  return {
    baseUrl,
    whoami: (o) => api('GET', '/auth/me', 'account check', UserSchema, o),
    listKms: (o) => api('GET', '/kms', 'KMS list', KmsListSchema, o),
    listOsImages: (o) => api('GET', '/os-images', 'OS image list', OsImageListSchema, o),
    provisionCvm: (req, o) =>
      run(() => api('POST', '/cvms/provision', 'provision', ProvisionResponseSchema, o, provisionBody(req))),
    createCvm: (req, o) =>
      run(() =>
        api('POST', '/cvms', 'CVM creation', CvmSchema, o, {
          app_id: requireHex('App id', req.appId, 20),
          compose_hash: requireHex('Compose hash', req.composeHash, 32),
          ...createEnvFields(req),
        }),
      ),
    getCvm: (id, o) => run(() => api('GET', cvmPath(id), 'CVM details', CvmSchema, o)),
    getEnvPubkey: (kmsId, appId, o) =>
      run(() =>
        api('GET', `/kms/${kmsIdSegment(kmsId)}/pubkey/${appIdSegment(appId)}`, 'env public key', EnvPubkeySchema, o),
      ),
    getAttestation: (id, o) => run(() => api('GET', cvmPath(id, '/attestation'), 'attestation', AttestationSchema, o)),
    updateEnv: (id, req, o) =>
      run(() =>
        api('PATCH', cvmPath(id, '/envs'), 'env update', EnvUpdateSchema, o, {
          encrypted_env: requireEncryptedEnv(req.encryptedEnv),
          env_keys: requireEnvKeys('envKeys', req.envKeys),
        }),
      ),
    getState: (id, o) => run(() => api('GET', cvmPath(id, '/state'), 'CVM state', StateSchema, o)),
    getLogs: (id, tail = 200, o) =>
      run(() => {
        if (!Number.isInteger(tail) || tail < 1 || tail > MAX_LOG_TAIL) {
          throw new PhalaApiError('invalid_argument', `The log tail must be an integer from 1 to ${MAX_LOG_TAIL}.`);
        }
        return api('GET', cvmPath(id, `/logs?tail=${tail}`), 'logs', LogsSchema, o);
      }),
    start: (id, o) => run(() => api('POST', cvmPath(id, '/start'), 'start', CvmSchema, o)),
    stop: (id, o) => run(() => api('POST', cvmPath(id, '/stop'), 'stop', CvmSchema, o)),
    restart: (id, o) => run(() => api('POST', cvmPath(id, '/restart'), 'restart', CvmSchema, o)),
    deleteCvm: (id, o) => run(() => api('DELETE', cvmPath(id), 'deletion', null, o)) as Promise<void>,
    guestInfo: (url, o) => run(() => guest(url, '/Info', 'guest info', GuestInfoSchema, o)),
    guestGetQuote: (url, reportDataHex, o) =>
      run(() =>
        guest(
          url,
          `/GetQuote?report_data=${requireHex('Report data', reportDataHex, 64)}`,
          'quote',
          GuestQuoteSchema,
          o,
        ),
      ),
  };
}

/**
 * The `connect` handshake of an operator client (spec §1 "Handshake", §6): params, hello-ok validation, and
 * explanations of connect failures a person can act on.
 */
import { type DeviceIdentity, signConnectProof } from './device-identity';
import { OpenClawError } from './errors';

export const PROTOCOL_VERSION = 4;
export const CLIENT_ID = 'webchat-ui';
export const CLIENT_MODE = 'ui';
export const CLIENT_DISPLAY_NAME = 'Clawkeep';
export const OPERATOR_ROLE = 'operator';
/**
 * The scopes the operator client uses (spec §2 "Exec approvals over the protocol"): `exec.approval.list|resolve`,
 * `plugin.approval.list|resolve` and the `*.approval.requested|resolved` events all need `operator.approvals`, and
 * nothing else: no `operator.read` method is called. Least privilege (issue 13 item 14): this is the default.
 */
export const OPERATOR_SCOPES = ['operator.approvals'] as const;
/**
 * Only when the person opts in to approving every agent's commands: a connection without `operator.admin` sees
 * only approvals of runs its own device started or reviews (openclaw `isApprovalRecordVisibleToClient`,
 * spec §2 "Who receives the event" — tested: a non-admin approver got nothing for another device's run). No
 * narrower scope grants that visibility; admin is remote-execution-grade authority, so it is never the default.
 */
export const ALL_AGENTS_SCOPE = 'operator.admin';

/** The exact scopes a connect frame requests: `operator.approvals`, plus `operator.admin` only when opted in. */
export function operatorScopes(opts: { allAgents?: boolean } = {}): string[] {
  return opts.allAgents ? [...OPERATOR_SCOPES, ALL_AGENTS_SCOPE] : [...OPERATOR_SCOPES];
}
export const OPERATOR_CAPS = ['approvals', 'exec-approvals', 'plugin-approvals'] as const;

/** Either the gateway's shared token (first pairing) or the device token it issued at pairing. */
export type OperatorAuth = { token: string } | { deviceToken: string };

export interface ConnectChallenge {
  nonce: string;
  ts: number;
}

export interface ConnectParams {
  minProtocol: number;
  maxProtocol: number;
  client: { id: string; version: string; platform: string; mode: string; displayName: string };
  role: string;
  scopes: string[];
  caps: string[];
  auth: { token: string } | { deviceToken: string };
  device: { id: string; publicKey: string; signature: string; signedAt: number; nonce: string };
}

export interface HelloOk {
  protocol: number;
  server: { version: string; connId: string };
  methods: string[];
  events: string[];
  role: string;
  scopes: string[];
  /** Present after (auto-)pairing; persist it and reconnect with `{ deviceToken }`. */
  deviceToken: string | null;
  maxPayload: number;
  maxBufferedBytes: number;
  tickIntervalMs: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses the `connect.challenge` event payload. */
export function parseChallenge(payload: unknown): ConnectChallenge {
  if (
    !isRecord(payload) ||
    typeof payload.nonce !== 'string' ||
    payload.nonce.length === 0 ||
    payload.nonce.length > 512
  ) {
    throw new OpenClawError('handshake_invalid', 'The gateway sent a connect challenge without a nonce.');
  }
  if (typeof payload.ts !== 'number' || !Number.isSafeInteger(payload.ts) || payload.ts < 0) {
    throw new OpenClawError('handshake_invalid', 'The gateway sent a connect challenge without a timestamp.');
  }
  return { nonce: payload.nonce, ts: payload.ts };
}

/** The token the device proof binds: `auth.token ?? auth.deviceToken ?? auth.bootstrapToken ?? ""`. */
export function proofToken(auth: OperatorAuth): string {
  return 'token' in auth ? auth.token : auth.deviceToken;
}

export async function buildConnectParams(opts: {
  identity: DeviceIdentity;
  auth: OperatorAuth;
  challenge: ConnectChallenge;
  clientVersion: string;
  platform: string;
  /** Also request `operator.admin` to see every agent's approvals (see ALL_AGENTS_SCOPE). Default false. */
  allAgents?: boolean;
}): Promise<ConnectParams> {
  const { identity, challenge } = opts;
  const platform = opts.platform.trim() || 'web';
  const scopes = operatorScopes({ allAgents: opts.allAgents === true });
  const signature = await signConnectProof(identity, {
    deviceId: identity.deviceId,
    clientId: CLIENT_ID,
    clientMode: CLIENT_MODE,
    role: OPERATOR_ROLE,
    scopes,
    signedAt: challenge.ts,
    token: proofToken(opts.auth),
    nonce: challenge.nonce,
    platform,
  });
  return {
    minProtocol: PROTOCOL_VERSION,
    maxProtocol: PROTOCOL_VERSION,
    client: {
      id: CLIENT_ID,
      version: opts.clientVersion,
      platform,
      mode: CLIENT_MODE,
      displayName: CLIENT_DISPLAY_NAME,
    },
    role: OPERATOR_ROLE,
    scopes,
    caps: [...OPERATOR_CAPS],
    auth: 'token' in opts.auth ? { token: opts.auth.token } : { deviceToken: opts.auth.deviceToken },
    device: {
      id: identity.deviceId,
      publicKey: identity.publicKeyBase64Url,
      signature,
      signedAt: challenge.ts,
      nonce: challenge.nonce,
    },
  };
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** Validates the `connect` response payload; throws `handshake_invalid`. */
export function parseHelloOk(payload: unknown): HelloOk {
  const bad = (what: string) =>
    new OpenClawError('handshake_invalid', `The gateway's hello was not understood: ${what}.`);
  if (!isRecord(payload) || payload.type !== 'hello-ok') throw bad('not hello-ok');
  if (payload.protocol !== PROTOCOL_VERSION)
    throw bad(`protocol ${String(payload.protocol)}, this client speaks ${PROTOCOL_VERSION}`);
  const { server, features, auth, policy } = payload;
  if (!isRecord(server) || typeof server.version !== 'string' || typeof server.connId !== 'string') throw bad('server');
  if (!isRecord(features) || !strings(features.methods) || !strings(features.events)) throw bad('features');
  if (!isRecord(auth) || typeof auth.role !== 'string' || !strings(auth.scopes)) throw bad('auth');
  if (auth.deviceToken !== undefined && (typeof auth.deviceToken !== 'string' || auth.deviceToken.length === 0))
    throw bad('device token');
  if (
    !isRecord(policy) ||
    !positiveInt(policy.maxPayload) ||
    !positiveInt(policy.maxBufferedBytes) ||
    !positiveInt(policy.tickIntervalMs)
  ) {
    throw bad('policy');
  }
  return {
    protocol: payload.protocol,
    server: { version: server.version, connId: server.connId },
    methods: features.methods,
    events: features.events,
    role: auth.role,
    scopes: auth.scopes,
    deviceToken: typeof auth.deviceToken === 'string' ? auth.deviceToken : null,
    maxPayload: policy.maxPayload,
    maxBufferedBytes: policy.maxBufferedBytes,
    tickIntervalMs: policy.tickIntervalMs,
  };
}

export interface ConnectExplanation {
  /** Short headline. */
  title: string;
  /** What the person should do, with the exact command where there is one. */
  action: string;
  /** False when retrying without a change on the gateway host cannot help (stop reconnecting). */
  retry: boolean;
}

/** Shell-quotes a value for a POSIX single-quoted argument. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Explains a connect failure. `origin` is this client's Origin (e.g. `chrome-extension://<id>`), used in the
 * allowlist instruction. Never includes a token.
 */
export function explainConnectError(err: OpenClawError, origin?: string): ConnectExplanation {
  const code = err.code;
  if (code === 'PAIRING_REQUIRED' || code === 'NOT_PAIRED') {
    const upgrade = err.reason === 'scope-upgrade' || err.reason === 'role-upgrade';
    return {
      title: upgrade
        ? 'The gateway must approve the wider access Clawkeep asks for'
        : 'The gateway must approve this device once',
      action: err.requestId
        ? `Run \`openclaw devices approve ${err.requestId}\` on the gateway host, then reconnect.`
        : 'Run `openclaw devices list` on the gateway host, then `openclaw devices approve <requestId>` for Clawkeep, then reconnect.',
      retry: false,
    };
  }
  if (code === 'CONTROL_UI_ORIGIN_NOT_ALLOWED' && (err.reason === 'origin missing or invalid' || !origin)) {
    return {
      title: 'The gateway needs to know where Clawkeep connects from',
      action:
        'The connection carried no usable Origin. Connect from the extension (its chrome-extension:// origin), then add that origin to gateway.controlUi.allowedOrigins.',
      retry: false,
    };
  }
  if (code === 'CONTROL_UI_ORIGIN_NOT_ALLOWED') {
    const o = origin ?? '<origin>';
    const list = shellQuote(JSON.stringify([o]));
    return {
      title: 'The gateway does not accept connections from Clawkeep yet',
      action:
        `Add ${o} to gateway.controlUi.allowedOrigins on the gateway host, e.g. ` +
        `\`openclaw config set gateway.controlUi.allowedOrigins ${list} --strict-json\` ` +
        '(this replaces the list: include any origins already there). Then reconnect.',
      retry: false,
    };
  }
  if (code === 'AUTH_RATE_LIMITED') {
    const wait = err.retryAfterMs ? ` Wait ${Math.ceil(err.retryAfterMs / 1000)} s.` : '';
    return {
      title: 'Too many failed sign-ins',
      action: `The gateway is rate-limiting this origin.${wait} Then check the token and reconnect.`,
      retry: true,
    };
  }
  if (code === 'AUTH_DEVICE_TOKEN_MISMATCH') {
    return {
      title: 'The saved device token was not accepted',
      action:
        'The pairing was revoked or rotated. Reconnect with the gateway token (gateway.auth.token) to pair again.',
      retry: false,
    };
  }
  if (code === 'AUTH_SCOPE_MISMATCH') {
    return {
      title: 'The gateway did not grant the access Clawkeep needs',
      action:
        'Clawkeep needs operator.approvals (and operator.admin when it approves every agent’s commands). Approve the scope upgrade with `openclaw devices list` and `openclaw devices approve <requestId>`.',
      retry: false,
    };
  }
  if (code.startsWith('AUTH_')) {
    return {
      title: 'The gateway refused the token',
      action:
        'Check the gateway token (gateway.auth.token on the gateway host, or `openclaw config get gateway.auth.token`) and reconnect.',
      retry: false,
    };
  }
  if (
    code.startsWith('DEVICE_AUTH_') ||
    code === 'DEVICE_IDENTITY_REQUIRED' ||
    code === 'CONTROL_UI_DEVICE_IDENTITY_REQUIRED'
  ) {
    const clock =
      code === 'DEVICE_AUTH_SIGNATURE_EXPIRED'
        ? ' Check that this computer’s clock is within two minutes of the gateway host’s.'
        : '';
    return {
      title: 'The gateway rejected this device’s proof',
      action: `The device signature was not accepted (${code}).${clock} Reconnect; if it persists, reset Clawkeep’s OpenClaw device identity and pair again.`,
      retry: code === 'DEVICE_AUTH_SIGNATURE_EXPIRED' || code === 'DEVICE_AUTH_NONCE_MISMATCH',
    };
  }
  if (code === 'PROTOCOL_MISMATCH' || code === 'CLIENT_VERSION_MISMATCH' || code === 'handshake_invalid') {
    return {
      title: 'This gateway speaks another protocol version',
      action: 'Clawkeep needs an OpenClaw gateway with protocol v4. Update OpenClaw or Clawkeep.',
      retry: false,
    };
  }
  if (code === 'gateway_insecure' || code === 'config_invalid') {
    return { title: 'This gateway address is refused', action: err.message, retry: false };
  }
  if (code.startsWith('storage_')) {
    // lib/storage/stored-item.ts: a stored session value this version cannot read; the message names the key.
    return { title: 'Clawkeep’s saved OpenClaw state could not be read', action: err.message, retry: false };
  }
  if (code === 'closed' || code === 'timeout' || code === 'UNAVAILABLE') {
    return {
      title: 'The gateway could not be reached',
      action: 'Check that `openclaw gateway` is running and the address is right (default ws://127.0.0.1:18789).',
      retry: true,
    };
  }
  return { title: 'The gateway refused the connection', action: `${err.message} (${code})`, retry: err.retryable };
}

import * as v from 'valibot';

/**
 * Response shapes of the Phala Cloud API (spec §3, /tmp/design6.md "Wire shapes") and of the dstack guest API
 * (spec §2.1), as valibot schemas that validate the snake_case wire form and produce camelCase values.
 *
 * Rules: hex fields have their documented byte length and come out lower-case without `0x` (a leading `0x` is
 * tolerated on input: Phala's on-chain fields sometimes carry one); enums are checked; unknown extra fields are
 * ignored (the API grows); fields the real API may omit are `null` rather than absent, so callers write one check.
 * Event logs come out as JSON text, the form lib/attest's verifier and dstack's GetQuote use.
 */

const stripHexPrefix = (s: string): string => (s.startsWith('0x') || s.startsWith('0X') ? s.slice(2) : s);

/** Exactly `bytes` bytes of hex. */
export const hexBytes = (bytes: number) =>
  v.pipe(
    v.string(),
    v.transform(stripHexPrefix),
    v.regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), `must be ${bytes * 2} hex characters`),
    v.transform((s) => s.toLowerCase()),
  );

/** Whole bytes of hex, between 1 and `maxBytes` bytes. */
export const hexUpTo = (maxBytes: number) =>
  v.pipe(
    v.string(),
    v.transform(stripHexPrefix),
    v.maxLength(maxBytes * 2, `must be at most ${maxBytes} bytes of hex`),
    v.regex(/^(?:[0-9a-fA-F]{2})+$/, 'must be non-empty hex of whole bytes'),
    v.transform((s) => s.toLowerCase()),
  );

const shortText = (max = 256) => v.pipe(v.string(), v.maxLength(max));
const nullableText = (max = 256) => v.nullish(shortText(max), null);
const nonNegative = v.pipe(v.number(), v.finite(), v.minValue(0));

/** Largest quote we accept (a TDX v4 quote with its PCK chain is ~5–8 KiB). */
export const MAX_QUOTE_BYTES = 64 * 1024;
/** dstack caps its KMS CA SPKI far below this; a DER SPKI of a P-256 key is 91 bytes. */
const MAX_SPKI_BYTES = 4096;

/** Event logs arrive as an array (Cloud API, /Info) or as JSON text (GetQuote); both come out as JSON text. */
const eventLogText = v.pipe(
  v.union([v.array(v.unknown()), v.pipe(v.string(), v.maxLength(4 * 1024 * 1024))]),
  v.transform((log) => (typeof log === 'string' ? log : JSON.stringify(log))),
);

/** dstack's /Info sends tcb_info and key_provider_info as JSON strings; the design's simulator sends objects. */
const jsonObjectOrText = <S extends v.GenericSchema>(schema: S) =>
  v.pipe(
    v.union([v.pipe(v.string(), v.maxLength(8 * 1024 * 1024), v.parseJson()), v.record(v.string(), v.unknown())]),
    schema,
  );

// ---------------------------------------------------------------------------------------------------------------
// Account, KMS, OS images

export interface PhalaUser {
  username: string;
  email: string | null;
  workspaceName: string | null;
}

export const UserSchema = v.pipe(
  v.object({
    username: shortText(),
    email: nullableText(),
    workspace: v.nullish(v.object({ name: shortText() }), null),
  }),
  v.transform((w): PhalaUser => ({ username: w.username, email: w.email, workspaceName: w.workspace?.name ?? null })),
);

export interface PhalaKms {
  id: string;
  slug: string;
  name: string;
  chainId: number | null;
  /** Compressed secp256k1 key (33 bytes hex) that signs env public keys; null when the API does not publish it. */
  k256Pubkey: string | null;
  /** DER SPKI of the KMS root CA (hex): what the dstack key-provider event's `id` holds; null when unpublished. */
  caPubkey: string | null;
}

const KmsWire = v.object({
  id: v.pipe(v.union([v.string(), v.number()]), v.transform(String), shortText(128)),
  slug: shortText(128),
  name: shortText(),
  chain_id: v.nullish(v.pipe(v.number(), v.integer()), null),
  k256_pubkey: v.nullish(hexBytes(33), null),
  ca_pubkey: v.nullish(hexUpTo(MAX_SPKI_BYTES), null),
});

export const KmsListSchema = v.pipe(
  v.object({ items: v.array(KmsWire) }),
  v.transform((w): PhalaKms[] =>
    w.items.map((k) => ({
      id: k.id,
      slug: k.slug,
      name: k.name,
      chainId: k.chain_id,
      k256Pubkey: k.k256_pubkey,
      caPubkey: k.ca_pubkey,
    })),
  ),
);

export interface OsMeasurement {
  mrtd: string;
  rtmr0: string;
  rtmr1: string;
  rtmr2: string;
}

export interface PhalaOsImage {
  name: string;
  version: string;
  osImageHash: string | null;
  isDev: boolean;
  /** MRTD / RTMR0–2 as published for this image; null when the API publishes none (real Phala: elsewhere). */
  measurement: OsMeasurement | null;
}

const MeasurementWire = v.object({ mrtd: hexBytes(48), rtmr0: hexBytes(48), rtmr1: hexBytes(48), rtmr2: hexBytes(48) });

const OsImageWire = v.object({
  name: shortText(),
  // Phala's newer endpoints send [major, minor, patch(, build)].
  version: v.pipe(
    v.union([
      shortText(64),
      v.pipe(v.array(v.pipe(v.number(), v.integer(), v.minValue(0))), v.minLength(1), v.maxLength(4)),
    ]),
    v.transform((ver) => (typeof ver === 'string' ? ver : ver.join('.'))),
  ),
  os_image_hash: v.nullish(hexBytes(32), null),
  is_dev: v.boolean(),
  measurement: v.nullish(MeasurementWire, null),
});

export const OsImageListSchema = v.pipe(
  v.object({ items: v.array(OsImageWire) }),
  v.transform((w): PhalaOsImage[] =>
    w.items.map((i) => ({
      name: i.name,
      version: i.version,
      osImageHash: i.os_image_hash,
      isDev: i.is_dev,
      measurement: i.measurement,
    })),
  ),
);

// ---------------------------------------------------------------------------------------------------------------
// Provision and CVMs

export interface ProvisionedCvm {
  appId: string;
  /** X25519 public key (32 bytes hex) the env is sealed to; unsigned on this route (spec §1.2 route 3). */
  appEnvEncryptPubkey: string;
  composeHash: string;
  kmsId: string;
  osImageHash: string | null;
  deviceId: string | null;
  /**
   * The app-compose.json text whose SHA-256 is compose_hash, when the provider returns it (the public SDK does not
   * promise it). Never trusted as such: the deploy flow checks the text the CVM's attestation carries.
   */
  appCompose: string | null;
}

export const ProvisionResponseSchema = v.pipe(
  v.object({
    app_id: hexBytes(20),
    app_env_encrypt_pubkey: hexBytes(32),
    compose_hash: hexBytes(32),
    kms_id: v.pipe(v.union([v.string(), v.number()]), v.transform(String), shortText(128)),
    os_image_hash: v.nullish(hexBytes(32), null),
    device_id: nullableText(128),
    app_compose: v.nullish(v.pipe(v.string(), v.minLength(2), v.maxLength(1024 * 1024)), null),
  }),
  v.transform((w): ProvisionedCvm => ({
    appId: w.app_id,
    appEnvEncryptPubkey: w.app_env_encrypt_pubkey,
    composeHash: w.compose_hash,
    kmsId: w.kms_id,
    osImageHash: w.os_image_hash,
    deviceId: w.device_id,
    appCompose: w.app_compose,
  })),
);

/** Statuses the dashboard knows; anything else the API invents arrives as 'unknown' (with `rawStatus`). */
export const CVM_STATUSES = [
  'creating',
  'starting',
  'running',
  'stopping',
  'stopped',
  'restarting',
  'deleting',
  'error',
] as const;
export type CvmStatus = (typeof CVM_STATUSES)[number] | 'unknown';

const statusField = v.pipe(
  shortText(64),
  v.transform((s): { status: CvmStatus; rawStatus: string } => ({
    status: (CVM_STATUSES as readonly string[]).includes(s) ? (s as CvmStatus) : 'unknown',
    rawStatus: s,
  })),
);

export interface PhalaCvm {
  id: string;
  appId: string;
  name: string;
  status: CvmStatus;
  rawStatus: string;
  uptimeSeconds: number | null;
  createdAt: string | null;
  instanceType: string | null;
  kmsInfo: { id: string; slug: string | null; k256Pubkey: string | null; encryptedEnvPubkey: string | null } | null;
  publicUrls: Array<{ app: string; instance: string }>;
  /**
   * Base URL of a dstack guest API (/Info, /GetQuote) for this CVM, where a client can challenge it; null when the
   * API exposes none (real Phala Cloud: the CVM's own app would have to serve GetQuote).
   */
  guestAgentUrl: string | null;
  /** The CVM instance's id (20 bytes hex, dstack's instance-id event) when the API reports it. */
  instanceId: string | null;
}

const CvmWire = v.object({
  id: v.pipe(v.union([v.string(), v.number()]), v.transform(String), shortText(128)),
  app_id: v.pipe(
    v.string(),
    v.transform((s) => (s.startsWith('app_') ? s.slice(4) : s)),
    hexBytes(20),
  ),
  name: shortText(),
  status: statusField,
  uptime_seconds: v.nullish(nonNegative, null),
  created_at: nullableText(64),
  instance_type: nullableText(64),
  kms_info: v.nullish(
    v.object({
      id: v.pipe(v.union([v.string(), v.number()]), v.transform(String), shortText(128)),
      slug: nullableText(128),
      k256_pubkey: v.nullish(hexBytes(33), null),
      encrypted_env_pubkey: v.nullish(hexBytes(32), null),
    }),
    null,
  ),
  public_urls: v.nullish(v.array(v.object({ app: v.string(), instance: v.string() })), []),
  guest_agent_url: v.nullish(shortText(2048), null),
  instance_id: v.nullish(
    v.pipe(
      v.union([v.literal(''), hexBytes(20)]),
      v.transform((s) => s || null),
    ),
    null,
  ),
});

export const CvmSchema = v.pipe(
  CvmWire,
  v.transform((w): PhalaCvm => ({
    id: w.id,
    appId: w.app_id,
    name: w.name,
    status: w.status.status,
    rawStatus: w.status.rawStatus,
    uptimeSeconds: w.uptime_seconds,
    createdAt: w.created_at,
    instanceType: w.instance_type,
    kmsInfo: w.kms_info
      ? {
          id: w.kms_info.id,
          slug: w.kms_info.slug,
          k256Pubkey: w.kms_info.k256_pubkey,
          encryptedEnvPubkey: w.kms_info.encrypted_env_pubkey,
        }
      : null,
    publicUrls: w.public_urls,
    guestAgentUrl: w.guest_agent_url,
    instanceId: w.instance_id,
  })),
);

export interface EnvPubkey {
  publicKey: string;
  /** Legacy KMS signature (65 bytes hex: r ‖ s ‖ recid); null when the API gives none. */
  signature: string | null;
  timestamp: number | null;
  signatureV1: string | null;
}

export const EnvPubkeySchema = v.pipe(
  v.object({
    public_key: hexBytes(32),
    signature: v.nullish(
      v.pipe(
        v.string(),
        v.transform((s) => s || null),
        v.nullable(hexBytes(65)),
      ),
      null,
    ),
    timestamp: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(0)), null),
    signature_v1: v.nullish(
      v.pipe(
        v.string(),
        v.transform((s) => s || null),
        v.nullable(hexBytes(65)),
      ),
      null,
    ),
  }),
  v.transform((w): EnvPubkey => ({
    publicKey: w.public_key,
    signature: w.signature,
    timestamp: w.timestamp,
    signatureV1: w.signature_v1,
  })),
);

export interface TcbInfo extends OsMeasurement {
  rtmr3: string;
  /** JSON text of the event log array. */
  eventLog: string;
  appCompose: string | null;
}

const TcbInfoWire = v.object({
  mrtd: hexBytes(48),
  rtmr0: hexBytes(48),
  rtmr1: hexBytes(48),
  rtmr2: hexBytes(48),
  rtmr3: hexBytes(48),
  event_log: eventLogText,
  app_compose: v.nullish(v.pipe(v.string(), v.maxLength(1024 * 1024)), null),
});

const tcbInfoOut = (t: v.InferOutput<typeof TcbInfoWire>): TcbInfo => ({
  mrtd: t.mrtd,
  rtmr0: t.rtmr0,
  rtmr1: t.rtmr1,
  rtmr2: t.rtmr2,
  rtmr3: t.rtmr3,
  eventLog: t.event_log,
  appCompose: t.app_compose,
});

export interface CvmAttestation {
  isOnline: boolean;
  tcbInfo: TcbInfo | null;
  /** Quotes of the app certificates, hex; certificates without a quote (KMS-issued) are left out. */
  quotes: string[];
}

export const AttestationSchema = v.pipe(
  v.object({
    is_online: v.boolean(),
    tcb_info: v.nullish(TcbInfoWire, null),
    app_certificates: v.nullish(
      v.array(v.object({ quote: v.nullish(v.union([v.literal(''), hexUpTo(MAX_QUOTE_BYTES)]), null) })),
      [],
    ),
  }),
  v.transform((w): CvmAttestation => ({
    isOnline: w.is_online,
    tcbInfo: w.tcb_info ? tcbInfoOut(w.tcb_info) : null,
    quotes: w.app_certificates.map((c) => c.quote).filter((q): q is string => typeof q === 'string' && q.length > 0),
  })),
);

export interface EnvUpdate {
  status: 'in_progress';
  correlationId: string;
  allowedEnvsChanged: boolean;
}

export const EnvUpdateSchema = v.pipe(
  v.object({ status: v.literal('in_progress'), correlation_id: shortText(), allowed_envs_changed: v.boolean() }),
  v.transform((w): EnvUpdate => ({
    status: w.status,
    correlationId: w.correlation_id,
    allowedEnvsChanged: w.allowed_envs_changed,
  })),
);

export interface CvmState {
  status: CvmStatus;
  rawStatus: string;
  uptimeSeconds: number | null;
}

export const StateSchema = v.pipe(
  v.object({ status: statusField, uptime_seconds: v.nullish(nonNegative, null) }),
  v.transform((w): CvmState => ({
    status: w.status.status,
    rawStatus: w.status.rawStatus,
    uptimeSeconds: w.uptime_seconds,
  })),
);

export const LogsSchema = v.pipe(
  v.object({ lines: v.pipe(v.array(v.pipe(v.string(), v.maxLength(64 * 1024))), v.maxLength(100_000)) }),
  v.transform((w): string[] => w.lines),
);

// ---------------------------------------------------------------------------------------------------------------
// dstack guest API (served by the CVM itself, not by Phala Cloud)

export interface GuestInfo {
  appId: string;
  instanceId: string | null;
  appName: string | null;
  tcbInfo: TcbInfo & { osImageHash: string | null; composeHash: string | null };
  keyProviderInfo: unknown;
}

export const GuestInfoSchema = v.pipe(
  v.object({
    app_id: v.pipe(
      v.string(),
      v.transform((s) => (s.startsWith('app_') ? s.slice(4) : s)),
      hexBytes(20),
    ),
    instance_id: v.nullish(v.union([v.literal(''), hexBytes(20)]), null),
    app_name: nullableText(),
    tcb_info: jsonObjectOrText(
      v.object({
        ...TcbInfoWire.entries,
        os_image_hash: v.nullish(v.union([v.literal(''), hexBytes(32)]), null),
        compose_hash: v.nullish(hexBytes(32), null),
      }),
    ),
    key_provider_info: v.nullish(v.unknown(), null),
  }),
  v.transform((w): GuestInfo => ({
    appId: w.app_id,
    instanceId: w.instance_id || null,
    appName: w.app_name,
    tcbInfo: {
      ...tcbInfoOut(w.tcb_info),
      osImageHash: w.tcb_info.os_image_hash || null,
      composeHash: w.tcb_info.compose_hash,
    },
    keyProviderInfo: w.key_provider_info,
  })),
);

export interface GuestQuote {
  quote: string;
  /** JSON text of the event log, as dstack's GetQuote returns it. */
  eventLog: string;
  /** The 64-byte report data the quote carries, as the guest reports it (verify it from the quote, not here). */
  reportData: string;
  vmConfig: unknown;
}

export const GuestQuoteSchema = v.pipe(
  v.object({
    quote: hexUpTo(MAX_QUOTE_BYTES),
    event_log: eventLogText,
    report_data: hexBytes(64),
    vm_config: v.nullish(v.unknown(), null),
  }),
  v.transform((w): GuestQuote => ({
    quote: w.quote,
    eventLog: w.event_log,
    reportData: w.report_data,
    vmConfig: w.vm_config,
  })),
);

import { canonicalBytes, parseCanonical } from './canonical';
import { ProtocolError } from './errors';

/**
 * The plaintext inside a CKSC sealed config: canonical JSON of
 *
 * ```text
 *   {name, model, provider_keys: [{key, value}], env: [{key, value}], json}
 * ```
 *
 * mirroring the vault's agent config item. Canonical bytes, so a given config always seals the same plaintext
 * (the vectors depend on it) and the agent can refuse anything that is not exactly this shape.
 */
export interface KeyValueEntry {
  key: string;
  value: string;
}

export interface AgentConfigPayload {
  name: string;
  model: string;
  provider_keys: KeyValueEntry[];
  env: KeyValueEntry[];
  /** Free-form JSON text from the vault item, passed through as text. */
  json: string;
}

const bad = (what: string) => new ProtocolError('protocol_invalid', `Agent config is malformed: ${what}.`);

function entries(v: unknown, what: string): KeyValueEntry[] {
  if (!Array.isArray(v) || v.length > 256) throw bad(what);
  return v.map((e) => {
    const o = e as Record<string, unknown> | null;
    if (
      !o ||
      typeof o !== 'object' ||
      Object.keys(o).length !== 2 ||
      typeof o.key !== 'string' ||
      typeof o.value !== 'string'
    )
      throw bad(what);
    return { key: o.key, value: o.value };
  });
}

/** Exactly the five fields, each of its type. @throws ProtocolError `protocol_invalid` naming the field, never a value. */
export function validateConfigPayload(value: unknown): AgentConfigPayload {
  const v = value as Record<string, unknown> | null;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad('not an object');
  const keys = Object.keys(v).sort().join(',');
  if (keys !== 'env,json,model,name,provider_keys') throw bad('fields');
  for (const k of ['name', 'model', 'json'] as const) if (typeof v[k] !== 'string') throw bad(k);
  return {
    name: v.name as string,
    model: v.model as string,
    provider_keys: entries(v.provider_keys, 'provider_keys'),
    env: entries(v.env, 'env'),
    json: v.json as string,
  };
}

/** The bytes to seal. The caller wipes them after sealing. */
export function encodeConfigPayload(config: AgentConfigPayload): Uint8Array {
  return canonicalBytes(validateConfigPayload(config));
}

/** Parses opened bytes; anything but canonical JSON of the exact shape is refused. */
export function decodeConfigPayload(bytes: Uint8Array): AgentConfigPayload {
  return validateConfigPayload(parseCanonical(bytes));
}

/** Names a shell accepts in `env NAME=value`. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `KEY=value` lines for `env $(clawkeep agent config --env) cmd`: the provider keys, then the env entries (a later
 * entry with the same name wins, as `env` does). Values go out verbatim; a name that is not a shell name, or a value
 * with a line break or NUL (which would split or end a line), is refused rather than mangled.
 * @throws ProtocolError `protocol_invalid` naming the entry, never its value.
 */
export function configEnvLines(config: AgentConfigPayload): string[] {
  return [...config.provider_keys, ...config.env].map(({ key, value }) => {
    if (!ENV_NAME_PATTERN.test(key)) throw bad(`"${key.slice(0, 64)}" is not an environment variable name`);
    if (/[\r\n\0]/.test(value)) throw bad(`the value of ${key} contains a line break or NUL`);
    return `${key}=${value}`;
  });
}

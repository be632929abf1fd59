import { ManifestError } from './errors';

/**
 * `openclaw-tee.json`: what an agent needs to run in a CVM — image, the env it reads (and which of it is secret),
 * resources, ports and how to tell it is healthy. The deploy wizard asks only for what `env` lists; the compose
 * we deploy (./compose.ts) is derived from it deterministically.
 *
 * Wire form (snake_case JSON):
 * ```text
 * {
 *   "name": "openclaw-gateway",            // [a-z][a-z0-9-]{1,61}[a-z0-9]: the compose service name
 *   "description": "…",
 *   "image": "ghcr.io/openclaw/openclaw:latest",
 *   "command": ["node", "openclaw.mjs", …], // optional: overrides the image's CMD
 *   "env": [{ "key", "description", "required", "sensitive", "default"? }],
 *   "resources": { "vcpu", "memory_mb", "disk_gb" },
 *   "ports": [{ "port", "protocol"?: "http"|"tcp" (default http), "public"?: bool (default true) }],
 *   "healthcheck": { "path", "port", "interval_s"? (30), "timeout_s"? (5) }
 * }
 * ```
 * Unknown fields are errors (a typo like "enviroment" must not silently drop the env); `$schema` is allowed.
 */

export interface ManifestEnvEntry {
  key: string;
  description: string;
  required: boolean;
  /** Secret: filled from the vault, sealed, never shown back, never given a default. */
  sensitive: boolean;
  /** Non-sensitive only; used when the person leaves the value empty. */
  default?: string;
}

export interface ManifestPort {
  port: number;
  protocol: 'http' | 'tcp';
  /** Reachable through the dstack gateway (published in the compose); false keeps it inside the CVM. */
  public: boolean;
}

export interface Manifest {
  name: string;
  description: string;
  image: string;
  command?: string[];
  env: ManifestEnvEntry[];
  resources: { vcpu: number; memoryMb: number; diskGb: number };
  ports: ManifestPort[];
  healthcheck: { path: string; port: number; intervalS: number; timeoutS: number };
}

export const MAX_MANIFEST_CHARS = 64 * 1024;
export const MAX_ENV_ENTRIES = 64;
export const MAX_PORTS = 16;
export const MAX_COMMAND_ARGS = 64;
export const RESOURCE_BOUNDS = {
  vcpu: { min: 1, max: 64 },
  memory_mb: { min: 512, max: 131_072 },
  disk_gb: { min: 10, max: 2048 },
} as const;

const NAME = /^[a-z][a-z0-9-]{1,61}[a-z0-9]$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * A Docker image reference: `[registry[:port]/]path[:tag][@sha256:digest]`, lower-case path components
 * (distribution/reference grammar, simplified). `$` is excluded: compose would interpolate it.
 */
const IMAGE =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
/** Control characters and lone surrogates: neither belongs in YAML we emit nor in text we show. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|\p{Cs}/u;
/** Compose interpolation syntax: `${X:-default}` cannot hold `}` and would expand `$`. */
const INTERPOLATION = /[${}]/;
const HEALTH_PATH = /^\/[A-Za-z0-9._~!&'()*+,;=:@%/?-]*$/;

const TOP_KEYS = ['$schema', 'name', 'description', 'image', 'command', 'env', 'resources', 'ports', 'healthcheck'];
const ENV_KEYS = ['key', 'description', 'required', 'sensitive', 'default'];
const RESOURCE_KEYS = ['vcpu', 'memory_mb', 'disk_gb'];
const PORT_KEYS = ['port', 'protocol', 'public'];
const HEALTH_KEYS = ['path', 'port', 'interval_s', 'timeout_s'];

const show = (value: unknown): string => {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Collects every problem so an author fixes a manifest in one pass. */
class Checker {
  readonly issues: string[] = [];

  fail(message: string): void {
    this.issues.push(message);
  }

  object(path: string, value: unknown, allowed: readonly string[]): Record<string, unknown> | null {
    if (!isObject(value)) {
      this.fail(`${path || 'manifest'} must be an object`);
      return null;
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key))
        this.fail(
          `${path === '' ? '' : `${path}.`}${key} is not a known field (known: ${allowed.filter((k) => k !== '$schema').join(', ')})`,
        );
    }
    return value;
  }

  text(
    path: string,
    value: unknown,
    opts: { min?: number; max: number; pattern?: RegExp; patternText?: string },
  ): string | null {
    if (typeof value !== 'string') {
      this.fail(`${path} must be a string`);
      return null;
    }
    if (value.length < (opts.min ?? 1)) {
      this.fail(
        opts.min === undefined || opts.min === 1
          ? `${path} must not be empty`
          : `${path} must be at least ${opts.min} characters`,
      );
      return null;
    }
    if (value.length > opts.max) {
      this.fail(`${path} must be at most ${opts.max} characters`);
      return null;
    }
    if (UNPRINTABLE.test(value)) {
      this.fail(`${path} must not contain control characters`);
      return null;
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      this.fail(`${path} ${show(value)} must match ${opts.patternText ?? opts.pattern.source}`);
      return null;
    }
    return value;
  }

  integer(path: string, value: unknown, min: number, max: number): number | null {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.fail(`${path} must be an integer`);
      return null;
    }
    if (value < min || value > max) {
      this.fail(`${path} ${value} must be between ${min} and ${max}`);
      return null;
    }
    return value;
  }

  boolean(path: string, value: unknown): boolean | null {
    if (typeof value !== 'boolean') {
      this.fail(`${path} must be true or false`);
      return null;
    }
    return value;
  }
}

function checkEnvEntry(c: Checker, path: string, raw: unknown): ManifestEnvEntry | null {
  const o = c.object(path, raw, ENV_KEYS);
  if (!o) return null;
  const key = c.text(`${path}.key`, o.key, { max: 255, pattern: ENV_KEY, patternText: '[A-Za-z_][A-Za-z0-9_]*' });
  const description = c.text(`${path}.description`, o.description, { max: 500 });
  const required = c.boolean(`${path}.required`, o.required);
  const sensitive = c.boolean(`${path}.sensitive`, o.sensitive);
  let def: string | undefined;
  if (o.default !== undefined) {
    if (sensitive === true) {
      // Never echo it: a default on a secret is most likely a real secret pasted by mistake.
      c.fail(
        `${path}.default is not allowed: ${key ?? 'this entry'} is sensitive, so its value must come from the vault`,
      );
    } else if (typeof o.default !== 'string') {
      c.fail(`${path}.default must be a string`);
    } else if (o.default.length > 4096) {
      c.fail(`${path}.default must be at most 4096 characters`);
    } else if (UNPRINTABLE.test(o.default)) {
      c.fail(`${path}.default must not contain control characters`);
    } else if (INTERPOLATION.test(o.default)) {
      c.fail(`${path}.default must not contain "$", "{" or "}" (compose would interpolate them)`);
    } else {
      def = o.default;
    }
  }
  if (key === null || description === null || required === null || sensitive === null) return null;
  return { key, description, required, sensitive, ...(def !== undefined ? { default: def } : {}) };
}

function checkPort(c: Checker, path: string, raw: unknown): ManifestPort | null {
  const o = c.object(path, raw, PORT_KEYS);
  if (!o) return null;
  const port = c.integer(`${path}.port`, o.port, 1, 65_535);
  let protocol: 'http' | 'tcp' | null = 'http';
  if (o.protocol !== undefined && o.protocol !== 'http' && o.protocol !== 'tcp') {
    c.fail(`${path}.protocol ${show(o.protocol)} must be "http" or "tcp"`);
    protocol = null;
  } else if (o.protocol !== undefined) {
    protocol = o.protocol;
  }
  const isPublic = o.public === undefined ? true : c.boolean(`${path}.public`, o.public);
  if (port === null || protocol === null || isPublic === null) return null;
  return { port, protocol, public: isPublic };
}

/** Validates an already-parsed manifest object. @throws ManifestError */
export function validateManifest(raw: unknown): Manifest {
  const c = new Checker();
  const o = c.object('', raw, TOP_KEYS);
  if (!o) throw new ManifestError(c.issues);

  const name = c.text('name', o.name, {
    max: 63,
    pattern: NAME,
    patternText: '[a-z][a-z0-9-]*[a-z0-9] (3–63 characters)',
  });
  const description = c.text('description', o.description, { max: 1000 });
  const image = c.text('image', o.image, {
    max: 512,
    pattern: IMAGE,
    patternText: 'a Docker image reference like registry/name:tag',
  });

  let command: string[] | undefined;
  if (o.command !== undefined) {
    if (!Array.isArray(o.command) || o.command.length === 0 || o.command.length > MAX_COMMAND_ARGS) {
      c.fail(`command must be a list of 1 to ${MAX_COMMAND_ARGS} strings`);
    } else {
      const args = o.command.map((arg, i) => c.text(`command[${i}]`, arg, { min: 0, max: 1024 }));
      if (args.every((a): a is string => a !== null)) command = args;
    }
  }

  const env: ManifestEnvEntry[] = [];
  if (!Array.isArray(o.env)) {
    c.fail('env must be a list (it may be empty)');
  } else if (o.env.length > MAX_ENV_ENTRIES) {
    c.fail(`env has ${o.env.length} entries; at most ${MAX_ENV_ENTRIES} are allowed`);
  } else {
    const firstIndex = new Map<string, number>();
    o.env.forEach((entry, i) => {
      const checked = checkEnvEntry(c, `env[${i}]`, entry);
      if (!checked) return;
      const seen = firstIndex.get(checked.key);
      if (seen !== undefined) c.fail(`env[${i}].key "${checked.key}" duplicates env[${seen}].key`);
      else firstIndex.set(checked.key, i);
      env.push(checked);
    });
  }

  let resources: Manifest['resources'] | null = null;
  const r =
    o.resources === undefined
      ? (c.fail('resources is required'), null)
      : c.object('resources', o.resources, RESOURCE_KEYS);
  if (r) {
    const b = RESOURCE_BOUNDS;
    const vcpu = c.integer('resources.vcpu', r.vcpu, b.vcpu.min, b.vcpu.max);
    const memoryMb = c.integer('resources.memory_mb', r.memory_mb, b.memory_mb.min, b.memory_mb.max);
    const diskGb = c.integer('resources.disk_gb', r.disk_gb, b.disk_gb.min, b.disk_gb.max);
    if (vcpu !== null && memoryMb !== null && diskGb !== null) resources = { vcpu, memoryMb, diskGb };
  }

  const ports: ManifestPort[] = [];
  if (!Array.isArray(o.ports)) {
    c.fail('ports must be a list');
  } else if (o.ports.length > MAX_PORTS) {
    c.fail(`ports has ${o.ports.length} entries; at most ${MAX_PORTS} are allowed`);
  } else {
    const firstIndex = new Map<number, number>();
    o.ports.forEach((entry, i) => {
      const checked = checkPort(c, `ports[${i}]`, entry);
      if (!checked) return;
      const seen = firstIndex.get(checked.port);
      if (seen !== undefined) c.fail(`ports[${i}].port ${checked.port} duplicates ports[${seen}].port`);
      else firstIndex.set(checked.port, i);
      ports.push(checked);
    });
  }

  let healthcheck: Manifest['healthcheck'] | null = null;
  const h =
    o.healthcheck === undefined
      ? (c.fail('healthcheck is required'), null)
      : c.object('healthcheck', o.healthcheck, HEALTH_KEYS);
  if (h) {
    const path = c.text('healthcheck.path', h.path, {
      max: 256,
      pattern: HEALTH_PATH,
      patternText: 'an absolute URL path like /healthz',
    });
    const port = c.integer('healthcheck.port', h.port, 1, 65_535);
    const intervalS = h.interval_s === undefined ? 30 : c.integer('healthcheck.interval_s', h.interval_s, 1, 3600);
    const timeoutS = h.timeout_s === undefined ? 5 : c.integer('healthcheck.timeout_s', h.timeout_s, 1, 300);
    if (port !== null && Array.isArray(o.ports) && !ports.some((p) => p.port === port)) {
      c.fail(`healthcheck.port ${port} is not one of ports[].port`);
    }
    if (intervalS !== null && timeoutS !== null && timeoutS > intervalS) {
      c.fail(`healthcheck.timeout_s ${timeoutS} must not exceed healthcheck.interval_s ${intervalS}`);
    }
    if (path !== null && port !== null && intervalS !== null && timeoutS !== null)
      healthcheck = { path, port, intervalS, timeoutS };
  }

  if (c.issues.length > 0 || !name || !description || !image || !resources || !healthcheck)
    throw new ManifestError(c.issues);
  return { name, description, image, ...(command ? { command } : {}), env, resources, ports, healthcheck };
}

/** Parses and validates `openclaw-tee.json` text. @throws ManifestError `manifest_invalid` */
export function parseManifest(text: string): Manifest {
  if (typeof text !== 'string') throw new ManifestError(['the manifest must be JSON text']);
  if (text.length > MAX_MANIFEST_CHARS)
    throw new ManifestError([`the manifest is larger than ${MAX_MANIFEST_CHARS} characters`]);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // Only the position: engines quote the surrounding text, which could be a value pasted by mistake.
    const message = err instanceof Error ? err.message : '';
    const where = /position \d+|line \d+ column \d+/.exec(message)?.[0];
    throw new ManifestError([`the manifest is not valid JSON${where ? ` (error at ${where})` : ''}`]);
  }
  return validateManifest(raw);
}

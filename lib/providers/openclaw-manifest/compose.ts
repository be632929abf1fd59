import type { ProvisionCvmRequest } from '../phala/client';
import { ManifestError } from './errors';
import type { Manifest } from './manifest';

/**
 * The docker compose file and Phala provision request for a manifest. Deterministic: the same manifest and
 * options give byte-identical YAML (env and ports in manifest order, fixed key order, every scalar double-quoted),
 * so the compose hash the CVM measures can be recomputed and compared by anyone holding the manifest.
 *
 * Env reaches the container through compose interpolation of the env dstack decrypts inside the CVM:
 * `${KEY:?…}` for required entries (compose refuses to start without them), `${KEY:-default}` otherwise.
 * Only the names are in the compose (and in `allowed_envs`, which dstack enforces and the quote measures); values
 * are sealed separately (lib/seal).
 */

export interface BuildAppComposeOptions {
  /** The CVM name: 5–63 characters of [a-z0-9-], a letter first (Phala's hostname rule). */
  name: string;
  kmsId?: string;
  /** Default: the smallest Phala instance type that fits manifest.resources (instanceTypeFor). */
  instanceType?: string;
  /** Route public ports through the dstack gateway. Default true. */
  gatewayEnabled?: boolean;
  /** Phala can publish container logs; agents may log secrets, so the default is false. */
  publicLogs?: boolean;
}

export interface BuiltAppCompose {
  /** `docker_compose_file` of the app compose. */
  dockerComposeFile: string;
  /** Every manifest env key, in manifest order. */
  allowedEnvs: string[];
  provisionRequest: ProvisionCvmRequest;
}

/** Phala's CPU instance types (1 vCPU / 2 GiB, doubling); provision defaults to tdx.small when none is given. */
export const PHALA_INSTANCE_TYPES: ReadonlyArray<{ name: string; vcpu: number; memoryMb: number }> = [
  { name: 'tdx.small', vcpu: 1, memoryMb: 2048 },
  { name: 'tdx.medium', vcpu: 2, memoryMb: 4096 },
  { name: 'tdx.large', vcpu: 4, memoryMb: 8192 },
  { name: 'tdx.xlarge', vcpu: 8, memoryMb: 16_384 },
  { name: 'tdx.2xlarge', vcpu: 16, memoryMb: 32_768 },
  { name: 'tdx.4xlarge', vcpu: 32, memoryMb: 65_536 },
  { name: 'tdx.8xlarge', vcpu: 64, memoryMb: 131_072 },
];

/** The smallest instance type with at least the manifest's vCPUs and memory. @throws ManifestError */
export function instanceTypeFor(resources: Manifest['resources']): string {
  const fit = PHALA_INSTANCE_TYPES.find((t) => t.vcpu >= resources.vcpu && t.memoryMb >= resources.memoryMb);
  if (!fit)
    throw new ManifestError([
      `resources (${resources.vcpu} vCPU, ${resources.memoryMb} MB) exceed the largest instance type`,
    ]);
  return fit.name;
}

const CVM_NAME = /^[a-z][a-z0-9-]{3,61}[a-z0-9]$/;

/** A YAML double-quoted scalar. JSON string escapes are a subset of YAML 1.2's; the manifest has no lone surrogates. */
const q = (s: string): string => JSON.stringify(s);
/** Compose interpolates `$` everywhere in the file; `$$` is a literal dollar. */
const literal = (s: string): string => q(s.replace(/\$/g, '$$$$'));

/** The docker compose YAML text for a manifest. */
export function composeYaml(manifest: Manifest): string {
  const lines: string[] = ['services:', `  ${manifest.name}:`, `    image: ${q(manifest.image)}`];
  if (manifest.command) lines.push(`    command: [${manifest.command.map(literal).join(', ')}]`);
  if (manifest.env.length > 0) {
    lines.push('    environment:');
    for (const e of manifest.env) {
      const value =
        e.default !== undefined
          ? `\${${e.key}:-${e.default}}`
          : e.required
            ? `\${${e.key}:?${e.key} is required}`
            : `\${${e.key}:-}`;
      lines.push(`      ${e.key}: ${q(value)}`);
    }
  }
  const published = manifest.ports.filter((p) => p.public);
  const internal = manifest.ports.filter((p) => !p.public);
  if (published.length > 0) {
    lines.push('    ports:');
    for (const p of published) lines.push(`      - ${q(`${p.port}:${p.port}/tcp`)}`);
  }
  if (internal.length > 0) {
    lines.push('    expose:');
    for (const p of internal) lines.push(`      - ${q(String(p.port))}`);
  }
  lines.push(`    restart: ${q('unless-stopped')}`);
  return `${lines.join('\n')}\n`;
}

/** Compose text, allowed envs and the provision request for `manifest` deployed as CVM `options.name`. */
export function buildAppCompose(manifest: Manifest, options: BuildAppComposeOptions): BuiltAppCompose {
  if (typeof options.name !== 'string' || !CVM_NAME.test(options.name)) {
    throw new ManifestError([
      `CVM name ${JSON.stringify(String(options.name).slice(0, 40))} must be 5–63 characters of [a-z0-9-], start with a letter and not end with "-"`,
    ]);
  }
  const dockerComposeFile = composeYaml(manifest);
  const allowedEnvs = manifest.env.map((e) => e.key);
  const provisionRequest: ProvisionCvmRequest = {
    name: options.name,
    instanceType: options.instanceType ?? instanceTypeFor(manifest.resources),
    diskSizeGb: manifest.resources.diskGb,
    ...(options.kmsId !== undefined ? { kmsId: options.kmsId } : {}),
    composeFile: {
      name: options.name,
      dockerComposeFile,
      allowedEnvs: [...allowedEnvs],
      gatewayEnabled: options.gatewayEnabled ?? true,
      kmsEnabled: true,
      publicLogs: options.publicLogs ?? false,
    },
    envKeys: [...allowedEnvs],
  };
  return { dockerComposeFile, allowedEnvs, provisionRequest };
}

import type { ComposeFileRequest } from '../providers/phala/client';
import { DeployError } from './errors';

/**
 * The provider builds app-compose.json from our compose request, and the CVM measures that text (its SHA-256 is
 * the compose-hash event the trust gate checks). So before the provider's text becomes what we expect the CVM to
 * run, every field that decides what runs or who gets the keys must be exactly what we asked for: the docker
 * compose, the pre-launch script, the allowed envs, KMS key provisioning. Other fields (name, feature flags the
 * API adds) may differ.
 */
export function checkProvisionedCompose(appCompose: string, requested: ComposeFileRequest): void {
  let parsed: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(appCompose);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    parsed = value as Record<string, unknown>;
  } catch {
    throw refuse('it is not a JSON object');
  }
  if (parsed.docker_compose_file !== requested.dockerComposeFile) throw refuse('its docker compose differs from ours');
  if ((parsed.pre_launch_script ?? undefined) !== requested.preLaunchScript) throw refuse('its pre-launch script differs from ours');
  // Scripts of older runners run before the app with the env in reach: none may ride along.
  for (const field of ['bash_script', 'init_script']) if (parsed[field] !== undefined && parsed[field] !== null && parsed[field] !== '') throw refuse(`it adds a ${field}`);
  if (parsed.runner !== undefined && parsed.runner !== 'docker-compose') throw refuse('its runner is not docker-compose');
  if (parsed.kms_enabled !== true) throw refuse('it does not take its keys from the KMS');
  if (parsed.local_key_provider_enabled === true) throw refuse('it enables a local key provider');
  const allowed = parsed.allowed_envs;
  if (!Array.isArray(allowed) || !sameSet(allowed, requested.allowedEnvs)) throw refuse('its allowed envs differ from ours');
}

function sameSet(a: unknown[], b: string[]): boolean {
  const left = new Set(a.map(String));
  return left.size === new Set(b).size && b.every((x) => left.has(x));
}

const refuse = (why: string): DeployError =>
  new DeployError('untrusted_cvm', `The provider’s app compose is not the one we asked for: ${why}. Nothing was sealed or sent.`, {
    step: 'provision',
    check: 'compose-hash',
  });

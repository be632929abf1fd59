/**
 * The app-compose.json a provisioned app boots with: the exact text dstack measures (compose hash = SHA-256 of
 * its UTF-8 bytes) and the simulator returns as `app_compose`. Fields follow dstack's AppCompose
 * (`dstack-types/src/lib.rs`), in this fixed order, serialized with JSON.stringify (no whitespace):
 *   manifest_version, name, runner, docker_compose_file, kms_enabled, gateway_enabled, public_logs,
 *   public_sysinfo, public_tcbinfo, local_key_provider_enabled, key_provider_id, allowed_envs, no_instance_id,
 *   secure_time, [pre_launch_script]
 * Clients must hash the text they are given, never a re-serialization of it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8Encode } from '../../lib/bytes';

export interface ComposeFileInput {
  docker_compose_file: string;
  allowed_envs: string[];
  gateway_enabled: boolean;
  kms_enabled: boolean;
  public_logs: boolean;
  pre_launch_script?: string;
  name?: string;
}

export function appComposeText(name: string, compose: ComposeFileInput): string {
  const doc: Record<string, unknown> = {
    manifest_version: 2,
    name: compose.name ?? name,
    runner: 'docker-compose',
    docker_compose_file: compose.docker_compose_file,
    kms_enabled: compose.kms_enabled,
    gateway_enabled: compose.gateway_enabled,
    public_logs: compose.public_logs,
    public_sysinfo: true,
    public_tcbinfo: true,
    local_key_provider_enabled: false,
    key_provider_id: '',
    allowed_envs: compose.allowed_envs,
    no_instance_id: false,
    secure_time: false,
  };
  if (compose.pre_launch_script !== undefined) doc.pre_launch_script = compose.pre_launch_script;
  return JSON.stringify(doc);
}

export const composeHashOf = (appCompose: string): string => toHex(sha256(utf8Encode(appCompose)));

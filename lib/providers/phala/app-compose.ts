/**
 * Checks the app-compose.json text the provider returned at provision against what we asked for, before that
 * text becomes the trust gate's expectation. The quote proves the CVM runs *this* text (compose hash = SHA-256 of
 * it); only this check proves the text is ours — a provider could otherwise hand back, and boot, a compose with
 * its own image, a pre-launch script, a wider `allowed_envs` or a local key provider, and the gate would accept
 * it because the hashes agree. Fields the request does not set (public_sysinfo, secure_time, …) may differ.
 */

import { ClawkeepError } from '../../errors';

export type AppComposeErrorCode = 'app_compose_mismatch';

export class AppComposeError extends ClawkeepError {
  declare readonly code: AppComposeErrorCode;

  constructor(message: string) {
    super('app_compose_mismatch', message);
    this.name = 'AppComposeError';
  }

  override toJSON(): { code: AppComposeErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export interface ExpectedAppCompose {
  dockerComposeFile: string;
  allowedEnvs: readonly string[];
  gatewayEnabled: boolean;
  publicLogs: boolean;
  /** Absent: the app compose must have no (or an empty) pre-launch script. */
  preLaunchScript?: string;
}

/**
 * Parses `appCompose` and checks it runs exactly our compose with our env allow-list, the KMS as key provider and
 * no extra script. Returns the parsed document. @throws AppComposeError naming the first field that differs
 */
export function checkAppCompose(appCompose: string, expected: ExpectedAppCompose): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(appCompose);
  } catch {
    throw new AppComposeError('The provider returned an app compose that is not JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new AppComposeError('The provider returned an app compose that is not a JSON object.');
  const d = doc as Record<string, unknown>;
  const differ = (field: string, why: string): never => {
    throw new AppComposeError(`The provider's app compose differs from ours: ${field} ${why}.`);
  };

  if (d.runner !== undefined && d.runner !== 'docker-compose') differ('runner', 'is not "docker-compose"');
  if (d.docker_compose_file !== expected.dockerComposeFile) differ('docker_compose_file', 'is not the compose we sent');
  if (!Array.isArray(d.allowed_envs) || d.allowed_envs.some((k) => typeof k !== 'string'))
    differ('allowed_envs', 'is missing');
  const got = new Set(d.allowed_envs as string[]);
  const want = new Set(expected.allowedEnvs);
  if (got.size !== (d.allowed_envs as string[]).length) differ('allowed_envs', 'lists a name twice');
  for (const key of got)
    if (!want.has(key)) differ('allowed_envs', `admits ${JSON.stringify(key)}, which we did not ask for`);
  for (const key of want) if (!got.has(key)) differ('allowed_envs', `lacks ${JSON.stringify(key)}`);
  if (d.kms_enabled !== true) differ('kms_enabled', 'is not true (the env key would not come from the KMS)');
  if (d.local_key_provider_enabled === true)
    differ('local_key_provider_enabled', 'is true (keys would not come from the KMS)');
  if (d.key_provider !== undefined && d.key_provider !== 'kms') differ('key_provider', 'is not "kms"');
  if (d.gateway_enabled !== undefined && d.gateway_enabled !== expected.gatewayEnabled)
    differ('gateway_enabled', 'is not what we asked for');
  if (d.public_logs !== expected.publicLogs) differ('public_logs', 'is not what we asked for');
  const script = d.pre_launch_script;
  if (expected.preLaunchScript === undefined) {
    if (script !== undefined && script !== null && script !== '')
      differ('pre_launch_script', 'is present (it would run inside the CVM before our app)');
  } else if (script !== expected.preLaunchScript) {
    differ('pre_launch_script', 'is not the script we sent');
  }
  return d;
}

import { toBase64, wipe } from '../../bytes';
import { HubClientError } from '../../hub-client/errors';
import { HttpCallError } from '../../http-request/errors';
import { makeHttpCall } from '../../http-request/call';
import { parseHttpRequest, secretsUsed, type HttpRequestIntent } from '../../protocol/http-request';
import type { HttpOutcome } from '../../protocol/sealed-response';
import type { Intent } from '../../protocol/wire';
import type { VaultService } from '../../vault/vault-service';
import type { HubCore } from '../hub/hub-core';
import { mayCallHost } from '../hub/host-access';
import { secretAllowsHost } from '../../vault/secret-hosts';
import { readSecretFields, type SecretIndex } from './releasable-secrets';

/**
 * An approved `http.request` (issue 18), made here in the background where the secrets are: each secret is read
 * from the vault, checked against its allowed hosts, put into the call in memory only (lib/http-request/call.ts), and
 * the answer, with every reflection of a secret cut out, becomes the outcome sealed to the agent.
 */

const notAllowed = (secret: string, host: string) =>
  `Your “${secret}” may not be sent to ${host} (it is not among the secret's allowed hosts). Nothing was sent.`;

/**
 * Why the device refuses `request` without asking: a secret it uses, held once in the vault, may not be sent to its
 * host. Null when every such secret allows it (a missing or doubled secret is shown on the card instead).
 */
export function httpRefusal(request: HttpRequestIntent, index: SecretIndex): string | null {
  for (const name of secretsUsed(request)) {
    const hosts = index.hosts.get(name);
    if (hosts !== undefined && !hosts.includes(request.host)) return notAllowed(name, request.host);
  }
  return null;
}

/** Why the card offers only Deny for an http.request, or null. */
export function httpBlocked(request: HttpRequestIntent, index: SecretIndex): string | null {
  for (const name of secretsUsed(request)) {
    const n = index.counts.get(name) ?? 0;
    if (n === 0) return `Your vault has no secret named “${name}”.`;
    if (n > 1) return `Your vault has ${n} secrets named “${name}”; rename all but one.`;
  }
  return httpRefusal(request, index);
}

/**
 * The values of the secrets `request` uses, each checked against its allowed hosts, read in one vault call.
 * @throws HubClientError `secret_missing`, `http_host_not_allowed`
 */
async function secretValues(service: VaultService, request: HttpRequestIntent): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const name of secretsUsed(request)) {
    const fields = await readSecretFields(service, name);
    if (!fields) throw new HubClientError('secret_missing', `Your vault has no single secret named “${name}”.`);
    if (!secretAllowsHost(fields, request.host))
      throw new HubClientError('http_host_not_allowed', notAllowed(name, request.host));
    values.set(name, fields.value);
  }
  return values;
}

/**
 * Makes the call an approved `intent` describes and returns its outcome for the agent: the response, or `failed`
 * with the reason when no answer came (a timeout, a body over the cap, a network failure). Never extends the idle
 * timer. Nothing is sent when a secret is missing, may not go to the host, or the site is not allowed.
 * @throws HubClientError `payload_invalid`, `secret_missing`, `http_host_not_allowed`, `http_permission_missing`;
 *   `vault_locked`
 */
export async function makeApprovedCall(core: HubCore, intent: Intent): Promise<HttpOutcome> {
  let request: HttpRequestIntent;
  try {
    request = parseHttpRequest(intent.payload);
  } catch (err) {
    throw new HubClientError('payload_invalid', 'The request is malformed: only Deny is possible.', { cause: err });
  }
  const values = await core.vault.withUnlocked((service) => secretValues(service, request), { activity: false });
  try {
    if (!(await mayCallHost(request.host)))
      throw new HubClientError(
        'http_permission_missing',
        `Clawkeep may not reach https://${request.host} yet. Approve again and allow the site when the browser asks. Nothing was sent.`,
      );
    const answer = await makeHttpCall(request, (name) => values.get(name)!);
    try {
      return {
        outcome: 'response',
        status: answer.status,
        headers: answer.headers,
        body: toBase64(answer.body),
        redacted: answer.redacted,
        withheld: answer.withheld,
        redirect: answer.redirect,
      };
    } finally {
      wipe(answer.body);
    }
  } catch (err) {
    if (err instanceof HttpCallError) return { outcome: 'failed', code: err.code, message: err.message };
    throw err;
  } finally {
    values.clear();
  }
}

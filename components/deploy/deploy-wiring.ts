import type { DeployDeps } from '../../lib/deploy/deploy-flow';
import { DeployError } from '../../lib/deploy/errors';
import { readSecretValue } from '../../lib/deploy/vault-records';
import { createPhalaClient, type PhalaClient } from '../../lib/providers/phala/client';
import type { VaultClient } from '../../lib/vault/client';
import type { CvmTrustChecker } from '../../workers/attest-api';

/**
 * Replaced at build time: true only in the test build of the extension (wxt build --mode test) and in Vitest.
 * The page only uses it to offer the test-root field; the verifier in the worker decides on its own.
 */
declare const __CLAWKEEP_TEST_ANCHORS__: boolean | undefined;
export const TEST_ANCHORS_BUILD = typeof __CLAWKEEP_TEST_ANCHORS__ === 'boolean' && __CLAWKEEP_TEST_ANCHORS__;

/** Asks the browser for access to an origin before the page contacts it (extension only); true = go ahead. */
export type RequestHostAccess = (url: string) => Promise<boolean>;

/** A Phala client whose API key is read from the vault item right now (never kept in component state). */
export async function phalaClientFor(
  vault: VaultClient,
  apiKeyItemId: string,
  baseUrl: string,
  requestHostAccess?: RequestHostAccess,
): Promise<PhalaClient> {
  if (requestHostAccess && !(await requestHostAccess(baseUrl))) {
    throw new DeployError(
      'invalid_request',
      `Clawkeep needs your permission to contact ${new URL(baseUrl).origin}. Allow it and try again.`,
    );
  }
  return createPhalaClient({ apiKey: await readSecretValue(vault, apiKeyItemId), baseUrl });
}

/** The flow's dependencies: the provider, and the trust gate + sealer in the attest worker (never on the page). */
export function deployDeps(cloud: PhalaClient, checker: CvmTrustChecker): DeployDeps {
  return {
    cloud,
    checkTrust: (request) => checker.checkCvm(request),
    seal: async (report, envPublicKey, env) => {
      const result = await checker.sealEnv({ report, envPublicKey, env });
      if (!result.ok) throw new DeployError('seal_failed', result.error.message);
      return result.sealedEnv;
    },
  };
}

import { toHex } from '../../../lib/bytes';
import type { DeployDeps } from '../../../lib/deploy/deploy-flow';
import type { TrustPins } from '../../../lib/deploy/types';
import { createPhalaClient } from '../../../lib/providers/phala/client';
import { attestWorkerApi } from '../../../workers/attest.worker';
import type { CvmSimulator } from '../../../sim/cvm';

/**
 * The deploy flow's dependencies wired to the CVM simulator, with the attest worker's real API run in-thread (the
 * unit config defines __CLAWKEEP_TEST_ANCHORS__ true, so the simulator's test root can be trusted). Shared by the
 * deploy-flow tests and the lying-provider attacker tests, which must run the same gate.
 */
export function simTrustPins(sim: CvmSimulator): TrustPins {
  return {
    kms: { id: sim.kms.id, k256Pubkey: sim.kms.k256Pubkey, caPubkey: sim.kms.caPubkey },
    osImages: [{ name: sim.osImage.name, ...sim.osImage.measurement }],
    pccsUrl: sim.pccsUrl,
    testRootDerHex: toHex(sim.testRootDer),
  };
}

export function simDeployDeps(sim: CvmSimulator, over: Partial<DeployDeps> = {}): DeployDeps {
  return {
    cloud: createPhalaClient({ apiKey: sim.apiKey, baseUrl: sim.apiUrl }),
    checkTrust: (request) => attestWorkerApi.checkCvm(request),
    seal: async (report, envPublicKey, env) => {
      const result = await attestWorkerApi.sealEnv({ report, envPublicKey, env });
      if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
      return result.sealedEnv;
    },
    poll: { intervalMs: 20, timeoutMs: 10_000 },
    ...over,
  };
}

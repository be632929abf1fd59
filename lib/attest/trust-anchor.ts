import { fromBase64 } from '../bytes';
import { AttestError } from './errors';
import { INTEL_SGX_ROOT_CA_DER_BASE64 } from './intel-root';
import type { TestTrustAnchor } from './types';

/**
 * Replaced at build time (Vite `define`): `false` in the extension and web vault builds, `true` in the unit-test
 * config. A bundle built for users therefore has the test-anchor branch compiled out, whatever a caller passes.
 */
declare const __CLAWKEEP_TEST_ANCHORS__: boolean | undefined;

/**
 * Whether a caller may replace Intel's root. Builds decide by the define above; unbundled Node (the CLI run
 * through tsx) has no define and allows it only with CLAWKEEP_ALLOW_TEST_ANCHOR=1 in its own environment, which
 * the simulator tests set for the child processes they start.
 */
export function testAnchorsAllowed(): boolean {
  if (typeof __CLAWKEEP_TEST_ANCHORS__ === 'boolean') return __CLAWKEEP_TEST_ANCHORS__;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.CLAWKEEP_ALLOW_TEST_ANCHOR === '1';
}

export interface ResolvedTrustAnchor {
  rootDer: Uint8Array;
  isTest: boolean;
}

let intelRoot: Uint8Array | null = null;

export function intelRootDer(): Uint8Array {
  intelRoot ??= fromBase64(INTEL_SGX_ROOT_CA_DER_BASE64);
  return intelRoot;
}

/** The root a verification trusts: Intel's pinned root, or an injected test root where that is allowed. */
export function resolveTrustAnchor(test?: TestTrustAnchor): ResolvedTrustAnchor {
  if (!test) return { rootDer: intelRootDer(), isTest: false };
  if (!testAnchorsAllowed()) {
    throw new AttestError(
      'test_anchor_forbidden',
      "This build only trusts Intel's SGX Root CA; a test trust anchor was refused.",
    );
  }
  return { rootDer: test.rootCertDer, isTest: true };
}

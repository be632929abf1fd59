import { selfSignedRootDer } from '../../sim/cvm/test-pki';

/**
 * A fresh self-signed P-256 CA certificate (DER), valid 2020..2040 so it covers the fixtures' verification times:
 * the "test trust anchor" the verifier must refuse in user builds and honour in test builds. Node only (tests).
 */
export function selfSignedTestRootDer(commonName = 'Clawkeep test root'): Promise<Uint8Array> {
  return selfSignedRootDer(commonName, new Date('2020-01-01T00:00:00Z'), new Date('2040-01-01T00:00:00Z'));
}

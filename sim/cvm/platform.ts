/**
 * The simulated TDX platform: the numbers its PCK certificate states, its TDX module and its quoting enclave. The
 * collateral (TCB info, QE identity) is generated from the same numbers, so the verifier finds an UpToDate level.
 * Values are shaped like a real Sapphire Rapids platform but are NOT Intel's: the FMSPC is random and everything
 * chains to the simulator's own test root.
 */
/**
 * A made-up FMSPC, fresh per simulator start: clients cache collateral per PCCS URL and FMSPC, so collateral cached
 * from an earlier simulator (another test PKI) or from another platform of this one is never reused by mistake.
 */
export function randomFmspc(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}
export const SIM_PCE_ID = '0000';
/** SGX TCB component SVNs 1..16 of the PCK certificate (and of the UpToDate TCB level). */
export const SIM_SGX_COMPONENTS = [2, 2, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0] as const;
export const SIM_PCE_SVN = 11;
/** TEE_TCB_SVN of the TD report: [0] TDX module SVN 4, [1] module major version 1 (→ identity TDX_01), [2] 3. */
export const SIM_TEE_TCB_SVN = [4, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] as const;
/** The quoting enclave (TD_QE) identity the QE report matches. */
export const SIM_QE = {
  mrSigner: 'dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5',
  isvProdId: 2,
  isvSvn: 4,
  miscSelect: '00000000',
  miscSelectMask: 'ffffffff',
  attributes: '11000000000000000000000000000000',
  attributesMask: 'fbffffffffffffff0000000000000000',
} as const;
/** TD attributes: SEPT_VE_DISABLE (bit 28) only, little-endian u64. */
export const SIM_TD_ATTRIBUTES = '0000001000000000';
/** XFAM of a typical dstack TD (x87, SSE, AVX, AVX-512, PKRU, AMX). */
export const SIM_XFAM = 'e702060000000000';

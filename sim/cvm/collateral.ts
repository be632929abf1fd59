/**
 * DCAP collateral for the simulator's quotes, signed by its TEST PKI: TCB info (TDX, v3, with tdxModule and the
 * TDX_01 module identity) and QE identity (TD_QE, v2), each signed as raw r‖s over the exact JSON text by the
 * TCB signing key, plus the root CA CRL and the PCK CRL. Returned in the dcap-qvl `Collateral` form; the
 * simulator serves it in the Intel PCS v4 wire format through the PCCS simulator.
 */
import { toHex } from '../../lib/bytes';
import type { Collateral } from '../../lib/attest/types';
import { issueCrl, signRaw, type TestPki } from './test-pki';
import { SIM_PCE_ID, SIM_PCE_SVN, SIM_QE, SIM_SGX_COMPONENTS, SIM_TEE_TCB_SVN } from './platform';

const DAY_MS = 86_400_000;
const TCB_EVALUATION_DATA_NUMBER = 17;
const ZERO_MRSIGNER_48 = '0'.repeat(96);

/** ISO UTC without milliseconds, as Intel writes it. */
const isoSeconds = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export interface CollateralWindow {
  /** issueDate / thisUpdate of every document. */
  issuedAt: number;
  /** nextUpdate of every document. */
  nextUpdate: number;
}

/** Current collateral: issued an hour before `now`, next update in 30 days. */
export const freshWindow = (now: number): CollateralWindow => ({
  issuedAt: now - 3_600_000,
  nextUpdate: now + 30 * DAY_MS,
});
/** Stale collateral, as a PCCS that stopped refreshing serves it: every document expired a day before `now`. */
export const staleWindow = (now: number): CollateralWindow => ({
  issuedAt: now - 31 * DAY_MS,
  nextUpdate: now - DAY_MS,
});

export function tcbInfoText(window: CollateralWindow, fmspc: string): string {
  const tcbDate = '2024-03-13T00:00:00Z';
  const info = {
    id: 'TDX',
    version: 3,
    issueDate: isoSeconds(window.issuedAt),
    nextUpdate: isoSeconds(window.nextUpdate),
    fmspc,
    pceId: SIM_PCE_ID,
    tcbType: 0,
    tcbEvaluationDataNumber: TCB_EVALUATION_DATA_NUMBER,
    tdxModule: { mrsigner: ZERO_MRSIGNER_48, attributes: '0000000000000000', attributesMask: 'FFFFFFFFFFFFFFFF' },
    tdxModuleIdentities: [
      {
        id: 'TDX_01',
        mrsigner: ZERO_MRSIGNER_48,
        attributes: '0000000000000000',
        attributesMask: 'FFFFFFFFFFFFFFFF',
        tcbLevels: [
          { tcb: { isvsvn: SIM_TEE_TCB_SVN[0] }, tcbDate, tcbStatus: 'UpToDate' },
          { tcb: { isvsvn: 2 }, tcbDate: '2023-08-09T00:00:00Z', tcbStatus: 'OutOfDate' },
        ],
      },
    ],
    tcbLevels: [
      {
        tcb: {
          sgxtcbcomponents: SIM_SGX_COMPONENTS.map((svn) => ({ svn })),
          pcesvn: SIM_PCE_SVN,
          tdxtcbcomponents: SIM_TEE_TCB_SVN.map((svn) => ({ svn })),
        },
        tcbDate,
        tcbStatus: 'UpToDate',
      },
      {
        tcb: {
          sgxtcbcomponents: SIM_SGX_COMPONENTS.map(() => ({ svn: 0 })),
          pcesvn: 5,
          tdxtcbcomponents: SIM_TEE_TCB_SVN.map(() => ({ svn: 0 })),
        },
        tcbDate: '2018-01-04T00:00:00Z',
        tcbStatus: 'OutOfDate',
        advisoryIDs: ['INTEL-SA-00106'],
      },
    ],
  };
  return JSON.stringify(info);
}

export function qeIdentityText(window: CollateralWindow): string {
  const identity = {
    id: 'TD_QE',
    version: 2,
    issueDate: isoSeconds(window.issuedAt),
    nextUpdate: isoSeconds(window.nextUpdate),
    tcbEvaluationDataNumber: TCB_EVALUATION_DATA_NUMBER,
    miscselect: SIM_QE.miscSelect.toUpperCase(),
    miscselectMask: SIM_QE.miscSelectMask.toUpperCase(),
    attributes: SIM_QE.attributes.toUpperCase(),
    attributesMask: SIM_QE.attributesMask.toUpperCase(),
    mrsigner: SIM_QE.mrSigner.toUpperCase(),
    isvprodid: SIM_QE.isvProdId,
    tcbLevels: [{ tcb: { isvsvn: SIM_QE.isvSvn }, tcbDate: '2024-03-13T00:00:00Z', tcbStatus: 'UpToDate' }],
  };
  return JSON.stringify(identity);
}

/** The full collateral set for quotes of the platform `fmspc`, with every document dated by `window`. */
export async function buildCollateral(pki: TestPki, window: CollateralWindow, fmspc: string): Promise<Collateral> {
  const thisUpdate = new Date(window.issuedAt);
  const nextUpdate = new Date(window.nextUpdate);
  const tcbInfo = tcbInfoText(window, fmspc);
  const qeIdentity = qeIdentityText(window);
  const enc = (text: string) => new TextEncoder().encode(text);
  const [rootCrl, pckCrl, tcbSig, qeSig] = await Promise.all([
    issueCrl(pki.root, thisUpdate, nextUpdate),
    issueCrl(pki.pckCa, thisUpdate, nextUpdate),
    signRaw(pki.tcbSigning.privateKey, enc(tcbInfo)),
    signRaw(pki.tcbSigning.privateKey, enc(qeIdentity)),
  ]);
  return {
    pck_crl_issuer_chain: pki.pckCrlIssuerChainPem,
    root_ca_crl: toHex(rootCrl),
    pck_crl: toHex(pckCrl),
    tcb_info_issuer_chain: pki.tcbSigningChainPem,
    tcb_info: tcbInfo,
    tcb_info_signature: toHex(tcbSig),
    qe_identity_issuer_chain: pki.tcbSigningChainPem,
    qe_identity: qeIdentity,
    qe_identity_signature: toHex(qeSig),
  };
}

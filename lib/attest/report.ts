import { toHex } from '../bytes';
import type { ParsedQuote } from './quote';
import { isTdDebug } from './td-attributes';
import type { QuoteVerification } from './types';

/** The answer before anything is known. */
export function emptyVerification(now: Date): QuoteVerification {
  return {
    verified: false,
    valid: false,
    status: null,
    advisoryIds: [],
    teeType: null,
    version: null,
    bodyType: null,
    fmspc: null,
    mrtd: null,
    rtmrs: null,
    mrConfigId: null,
    mrOwner: null,
    reportData: null,
    debug: null,
    td: null,
    enclave: null,
    collateral: null,
    verifiedAt: now.toISOString(),
    testTrustAnchor: false,
    checks: [],
    dstack: null,
    error: null,
    staleCollateral: null,
  };
}

/** Copies the quote's reported fields (lower-case hex) into the answer. */
export function assembleVerification(result: QuoteVerification, q: ParsedQuote): void {
  result.teeType = q.teeType;
  result.version = q.version;
  result.bodyType = q.bodyType;
  if (q.td) {
    const td = q.td;
    result.td = {
      teeTcbSvn: toHex(td.teeTcbSvn),
      mrSeam: toHex(td.mrSeam),
      mrSignerSeam: toHex(td.mrSignerSeam),
      seamAttributes: toHex(td.seamAttributes),
      tdAttributes: toHex(td.tdAttributes),
      xfam: toHex(td.xfam),
      mrTd: toHex(td.mrTd),
      mrConfigId: toHex(td.mrConfigId),
      mrOwner: toHex(td.mrOwner),
      mrOwnerConfig: toHex(td.mrOwnerConfig),
      rtmrs: [toHex(td.rtmrs[0]), toHex(td.rtmrs[1]), toHex(td.rtmrs[2]), toHex(td.rtmrs[3])],
      reportData: toHex(td.reportData),
      ...(td.teeTcbSvn2 ? { teeTcbSvn2: toHex(td.teeTcbSvn2) } : {}),
      ...(td.mrServiceTd ? { mrServiceTd: toHex(td.mrServiceTd) } : {}),
    };
    result.mrtd = result.td.mrTd;
    result.rtmrs = [...result.td.rtmrs];
    result.mrConfigId = result.td.mrConfigId;
    result.mrOwner = result.td.mrOwner;
    result.reportData = result.td.reportData;
    result.debug = isTdDebug(td);
  } else if (q.enclave) {
    const e = q.enclave;
    result.enclave = {
      cpuSvn: toHex(e.cpuSvn),
      miscSelect:
        (e.miscSelect[0]! | (e.miscSelect[1]! << 8) | (e.miscSelect[2]! << 16) | (e.miscSelect[3]! << 24)) >>> 0,
      attributes: toHex(e.attributes),
      mrEnclave: toHex(e.mrEnclave),
      mrSigner: toHex(e.mrSigner),
      isvProdId: e.isvProdId,
      isvSvn: e.isvSvn,
      reportData: toHex(e.reportData),
    };
    result.reportData = result.enclave.reportData;
    result.debug = (e.attributes[0]! & 0x02) !== 0;
  }
}

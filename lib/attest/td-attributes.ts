import { AttestError } from './errors';
import type { EnclaveReport, TdReport } from './quote';
import type { AcceptancePolicy } from './types';

/**
 * TD attributes (little-endian u64). Known bits per the TDX module spec: 0 DEBUG, 16 ICSSD, 27 LASS,
 * 28 SEPT_VE_DISABLE, 29 MIGRATABLE, 30 PKS, 31 KL, 62 TPA, 63 PERFMON. Anything else is reserved and rejected:
 * a bit we cannot interpret is a configuration we cannot vouch for.
 */
const DEBUG_BIT = 0;
const SEPT_VE_DISABLE_BIT = 28;
const KNOWN_BITS = new Set([DEBUG_BIT, 16, 27, SEPT_VE_DISABLE_BIT, 29, 30, 31, 62, 63]);

const bit = (bytes: Uint8Array, n: number): boolean => ((bytes[n >> 3]! >> (n & 7)) & 1) === 1;

export function isTdDebug(td: TdReport): boolean {
  return bit(td.tdAttributes, DEBUG_BIT);
}

export function checkTdAttributes(td: TdReport, policy: AcceptancePolicy = {}): void {
  if (isTdDebug(td)) throw new AttestError('td_debug', 'The TD runs in debug mode: the host can read its memory.');
  for (let n = 0; n < 64; n++) {
    if (bit(td.tdAttributes, n) && !KNOWN_BITS.has(n)) {
      throw new AttestError('td_attributes_invalid', `The TD attributes set reserved bit ${n}.`);
    }
  }
  if (!bit(td.tdAttributes, SEPT_VE_DISABLE_BIT)) {
    throw new AttestError('td_attributes_invalid', 'The TD does not set SEPT_VE_DISABLE, which secure guests require.');
  }
  if (td.mrServiceTd && !policy.allowServiceTd && td.mrServiceTd.some((b) => b !== 0)) {
    throw new AttestError(
      'td_attributes_invalid',
      'The TD is bound to a service TD (MRSERVICETD is set) and the policy does not allow it.',
    );
  }
}

const SGX_ATTRIBUTE_DEBUG = 0x02;

export function checkEnclaveAttributes(enclave: EnclaveReport): void {
  if (enclave.attributes[0]! & SGX_ATTRIBUTE_DEBUG)
    throw new AttestError('td_debug', 'The enclave runs in debug mode.');
}

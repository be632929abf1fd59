import { equalBytes, toHex } from '../bytes';
import type { ModuleIdentity, PlatformTcbLevel, QeIdentity, TcbInfo, TcbLevelStatus } from './collateral';
import { AttestError } from './errors';
import type { PckPlatformTcb } from './pck-extension';
import type { EnclaveReport, TdReport } from './quote';
import { TCB_STATUSES, type TcbStatus } from './types';

/**
 * TCB evaluation per Intel's algorithm (specs/tdx-verification.md §3 steps 8, 10–12): pick the platform TCB level,
 * the TDX module level and the QE level, then converge them into one status.
 */

function compareDesc(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return b[i]! - a[i]!;
  return b.length - a.length;
}

/** Newest first, whatever order the document lists them in (dcap-qvl#126). */
export function sortPlatformLevels(levels: PlatformTcbLevel[]): PlatformTcbLevel[] {
  return [...levels].sort(
    (a, b) =>
      compareDesc(a.sgxComponents, b.sgxComponents) ||
      b.pceSvn - a.pceSvn ||
      compareDesc(a.tdxComponents ?? [], b.tdxComponents ?? []),
  );
}

const byIsvSvnDesc = <T extends { isvSvn: number }>(levels: T[]): T[] =>
  [...levels].sort((a, b) => b.isvSvn - a.isvSvn);

export function matchPlatformLevel(tcbInfo: TcbInfo, pck: PckPlatformTcb, td: TdReport | null): PlatformTcbLevel {
  // TEE_TCB_SVN[0..1] are the module's own SVN and major version, judged by the module identity instead.
  const tdxStart = td && td.teeTcbSvn[1]! > 0 ? 2 : 0;
  for (const level of sortPlatformLevels(tcbInfo.levels)) {
    if (pck.pceSvn < level.pceSvn) continue;
    if (level.sgxComponents.some((svn, i) => pck.sgxComponents[i]! < svn)) continue;
    if (td) {
      const tdx = level.tdxComponents;
      if (!tdx) continue;
      let ok = true;
      for (let i = tdxStart; i < 16; i++) if (td.teeTcbSvn[i]! < tdx[i]!) ok = false;
      if (!ok) continue;
    }
    return level;
  }
  throw new AttestError(
    'tcb_level_not_found',
    `The platform's TCB (SVNs ${pck.sgxComponents.join(',')}, PCESVN ${pck.pceSvn}) is below every level Intel lists for FMSPC ${pck.fmspcHex}: Intel does not support this TCB.`,
  );
}

function maskedEqual(value: Uint8Array, expected: Uint8Array, mask: Uint8Array): boolean {
  if (value.length !== expected.length || mask.length !== value.length) return false;
  for (let i = 0; i < value.length; i++) if ((value[i]! & mask[i]!) !== (expected[i]! & mask[i]!)) return false;
  return true;
}

export interface ModuleMatch {
  identity: ModuleIdentity;
  level: TcbLevelStatus | null;
}

export function matchTdxModule(tcbInfo: TcbInfo, td: TdReport): ModuleMatch {
  const major = td.teeTcbSvn[1]!;
  let identity: ModuleIdentity | null;
  if (major > 0) {
    const id = `TDX_${major.toString(16).toUpperCase().padStart(2, '0')}`;
    identity = tcbInfo.tdxModuleIdentities.find((m) => m.id.toUpperCase() === id) ?? null;
    if (!identity) throw new AttestError('tdx_module_mismatch', `Intel's TCB info lists no TDX module identity ${id}.`);
  } else {
    identity = tcbInfo.tdxModule;
    if (!identity) throw new AttestError('tdx_module_mismatch', "Intel's TCB info has no TDX module entry.");
  }
  if (!equalBytes(identity.mrSigner, td.mrSignerSeam)) {
    throw new AttestError(
      'tdx_module_mismatch',
      `The TDX module signer ${toHex(td.mrSignerSeam).slice(0, 16)}… is not the one Intel lists.`,
    );
  }
  if (!maskedEqual(td.seamAttributes, identity.attributes, identity.attributesMask)) {
    throw new AttestError('tdx_module_mismatch', "The TDX module attributes do not match Intel's TCB info.");
  }
  if (major === 0) return { identity, level: null };
  const level = byIsvSvnDesc(identity.levels).find((l) => td.teeTcbSvn[0]! >= l.isvSvn);
  if (!level) {
    throw new AttestError(
      'tcb_level_not_found',
      `The TDX module SVN ${td.teeTcbSvn[0]} is below every level of ${identity.id}.`,
    );
  }
  return { identity, level };
}

const SGX_ATTRIBUTE_DEBUG = 0x02;

export function matchQeIdentity(qe: QeIdentity, report: EnclaveReport): TcbLevelStatus {
  if (!equalBytes(report.mrSigner, qe.mrSigner))
    throw new AttestError('qe_identity_mismatch', 'The quoting enclave is not signed by the signer Intel lists.');
  if (report.isvProdId !== qe.isvProdId) {
    throw new AttestError(
      'qe_identity_mismatch',
      `The quoting enclave's product id ${report.isvProdId} is not ${qe.isvProdId}.`,
    );
  }
  if (!maskedEqual(report.miscSelect, qe.miscSelect, qe.miscSelectMask))
    throw new AttestError('qe_identity_mismatch', "The quoting enclave's MISCSELECT does not match.");
  if (!maskedEqual(report.attributes, qe.attributes, qe.attributesMask))
    throw new AttestError('qe_identity_mismatch', "The quoting enclave's attributes do not match.");
  if (report.attributes[0]! & SGX_ATTRIBUTE_DEBUG)
    throw new AttestError('qe_identity_mismatch', 'The quoting enclave runs in debug mode.');
  const level = byIsvSvnDesc(qe.levels).find((l) => report.isvSvn >= l.isvSvn);
  if (!level)
    throw new AttestError(
      'tcb_level_not_found',
      `The quoting enclave's SVN ${report.isvSvn} is below every level Intel lists.`,
    );
  return level;
}

const severity = (s: TcbStatus): number => TCB_STATUSES.indexOf(s);

/** Intel's convergence of the platform status with a QE or TDX-module status. */
export function convergeStatus(platform: TcbStatus, other: TcbStatus): TcbStatus {
  if (other === 'UpToDate') return platform;
  if (other === 'Revoked' || platform === 'Revoked') return 'Revoked';
  if (other === 'OutOfDate') {
    if (platform === 'UpToDate' || platform === 'SWHardeningNeeded') return 'OutOfDate';
    if (platform === 'ConfigurationNeeded' || platform === 'ConfigurationAndSWHardeningNeeded')
      return 'OutOfDateConfigurationNeeded';
  }
  return severity(other) > severity(platform) ? other : platform;
}

export function unionAdvisories(...lists: string[][]): string[] {
  return [...new Set(lists.flat())];
}

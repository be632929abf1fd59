import { fromHex } from '../bytes';
import { AttestError } from './errors';
import { TCB_STATUSES, type Collateral, type TcbStatus } from './types';

/**
 * Collateral documents: the dcap-qvl JSON container, Intel's TCB Info (v2 SGX / v3 TDX) and QE Identity (v2).
 * Parsing is strict and bounded; the signed JSON text is kept verbatim for signature checks.
 */
const MAX_COLLATERAL_CHARS = 2 * 1024 * 1024;
const MAX_LEVELS = 512;
export const COLLATERAL_FIELDS = [
  'pck_crl_issuer_chain',
  'root_ca_crl',
  'pck_crl',
  'tcb_info_issuer_chain',
  'tcb_info',
  'tcb_info_signature',
  'qe_identity_issuer_chain',
  'qe_identity',
  'qe_identity_signature',
] as const satisfies readonly (keyof Collateral)[];

const bad = (message: string) => new AttestError('collateral_malformed', message);

export function parseCollateralJson(text: string): Collateral {
  if (typeof text !== 'string') throw bad('Collateral must be JSON text.');
  if (text.length > MAX_COLLATERAL_CHARS) throw bad('The collateral file is too large.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('The collateral is not valid JSON.');
  }
  return checkCollateral(value);
}

/** Fields some dcap-qvl serializers write as JSON arrays of bytes instead of hex. */
const BINARY_FIELDS = new Set<string>(['root_ca_crl', 'pck_crl', 'tcb_info_signature', 'qe_identity_signature']);

function bytesArrayToHex(value: unknown[], field: string): string {
  if (value.length > MAX_COLLATERAL_CHARS / 2) throw bad(`The collateral field "${field}" is too large.`);
  let hex = '';
  for (const b of value) {
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255)
      throw bad(`The collateral field "${field}" is not a byte array.`);
    hex += b.toString(16).padStart(2, '0');
  }
  return hex;
}

/** Validates an already-parsed collateral object (e.g. received over comlink). */
export function checkCollateral(value: unknown): Collateral {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad('The collateral must be a JSON object.');
  const obj = value as Record<string, unknown>;
  const out = {} as Record<(typeof COLLATERAL_FIELDS)[number], string>;
  for (const field of COLLATERAL_FIELDS) {
    const v = BINARY_FIELDS.has(field) && Array.isArray(obj[field]) ? bytesArrayToHex(obj[field], field) : obj[field];
    if (typeof v !== 'string' || v.length === 0) throw bad(`The collateral lacks "${field}".`);
    if (v.length > MAX_COLLATERAL_CHARS) throw bad(`The collateral field "${field}" is too large.`);
    out[field] = v;
  }
  return out;
}

export function hexField(value: string, bytes: number | null, what: string): Uint8Array {
  if (bytes !== null && value.length !== bytes * 2) throw bad(`${what} must be ${bytes * 2} hex characters.`);
  try {
    return fromHex(value);
  } catch {
    throw bad(`${what} is not hex.`);
  }
}

// ---------------------------------------------------------------------------------------------------------------

export interface TcbLevelStatus {
  status: TcbStatus;
  advisoryIds: string[];
  tcbDate: string | null;
}

export interface PlatformTcbLevel extends TcbLevelStatus {
  sgxComponents: number[];
  pceSvn: number;
  /** TDX only (16 entries). */
  tdxComponents: number[] | null;
}

export interface ModuleIdentity {
  id: string;
  mrSigner: Uint8Array;
  attributes: Uint8Array;
  attributesMask: Uint8Array;
  /** Levels by module ISVSVN (empty for the legacy `tdxModule`). */
  levels: Array<TcbLevelStatus & { isvSvn: number }>;
}

export interface TcbInfo {
  id: 'TDX' | 'SGX';
  version: number;
  issueDate: Date;
  nextUpdate: Date;
  fmspc: Uint8Array;
  pceId: Uint8Array;
  tcbType: number;
  tcbEvaluationDataNumber: number;
  levels: PlatformTcbLevel[];
  tdxModule: ModuleIdentity | null;
  tdxModuleIdentities: ModuleIdentity[];
}

export interface QeIdentity {
  id: string;
  version: number;
  issueDate: Date;
  nextUpdate: Date;
  tcbEvaluationDataNumber: number;
  miscSelect: Uint8Array;
  miscSelectMask: Uint8Array;
  attributes: Uint8Array;
  attributesMask: Uint8Array;
  mrSigner: Uint8Array;
  isvProdId: number;
  levels: Array<TcbLevelStatus & { isvSvn: number }>;
}

type Json = Record<string, unknown>;

function obj(v: unknown, what: string): Json {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad(`${what} must be an object.`);
  return v as Json;
}
function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw bad(`${what} must be an array.`);
  if (v.length > MAX_LEVELS) throw bad(`${what} is too long.`);
  return v;
}
function uint(v: unknown, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
    throw bad(`${what} must be an integer 0..${max}.`);
  return v;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw bad(`${what} must be a string.`);
  return v;
}
function date(v: unknown, what: string): Date {
  const s = str(v, what);
  // Intel writes ISO 8601 UTC ("2025-06-19T10:16:03Z"); anything else is not a date we compare.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(s)) throw bad(`${what} is not an ISO UTC time.`);
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw bad(`${what} is not a valid time.`);
  return d;
}
function status(v: unknown, what: string): TcbStatus {
  const s = str(v, what);
  if (!(TCB_STATUSES as readonly string[]).includes(s))
    throw bad(`${what} "${s.slice(0, 40)}" is not a known TCB status.`);
  return s as TcbStatus;
}
function advisories(v: unknown, what: string): string[] {
  if (v === undefined) return [];
  return arr(v, what).map((a, i) => {
    const s = str(a, `${what}[${i}]`);
    if (s.length > 64) throw bad(`${what}[${i}] is too long.`);
    return s;
  });
}
function svnList(v: unknown, what: string): number[] {
  const list = arr(v, what);
  // Exactly 16: a shorter list silently skipped components in other verifiers (GHSA-6q6c-vvf9-fj3w).
  if (list.length !== 16) throw bad(`${what} must have exactly 16 components.`);
  return list.map((c, i) => uint(obj(c, `${what}[${i}]`).svn, 255, `${what}[${i}].svn`));
}
function parseJsonText(text: string, what: string): Json {
  try {
    return obj(JSON.parse(text), what);
  } catch (err) {
    if (err instanceof AttestError) throw err;
    throw bad(`${what} is not valid JSON.`);
  }
}

function parseModule(v: unknown, what: string, withLevels: boolean): ModuleIdentity {
  const m = obj(v, what);
  const levels = withLevels
    ? arr(m.tcbLevels, `${what}.tcbLevels`).map((l, i) => {
        const level = obj(l, `${what}.tcbLevels[${i}]`);
        return {
          isvSvn: uint(obj(level.tcb, `${what}.tcbLevels[${i}].tcb`).isvsvn, 255, `${what}.tcbLevels[${i}].tcb.isvsvn`),
          status: status(level.tcbStatus, `${what}.tcbLevels[${i}].tcbStatus`),
          advisoryIds: advisories(level.advisoryIDs, `${what}.tcbLevels[${i}].advisoryIDs`),
          tcbDate: typeof level.tcbDate === 'string' ? level.tcbDate : null,
        };
      })
    : [];
  return {
    id: withLevels ? str(m.id, `${what}.id`) : 'tdxModule',
    mrSigner: hexField(str(m.mrsigner, `${what}.mrsigner`), 48, `${what}.mrsigner`),
    attributes: hexField(str(m.attributes, `${what}.attributes`), 8, `${what}.attributes`),
    attributesMask: hexField(str(m.attributesMask, `${what}.attributesMask`), 8, `${what}.attributesMask`),
    levels,
  };
}

export function parseTcbInfo(text: string): TcbInfo {
  const t = parseJsonText(text, 'TCB info');
  // TCB info v2 (SGX only) predates the `id` field and lists components as sgxtcbcompNNsvn.
  const legacySgx = t.id === undefined && t.version === 2;
  const id = legacySgx ? 'SGX' : str(t.id, 'tcbInfo.id');
  if (id !== 'TDX' && id !== 'SGX') throw bad(`tcbInfo.id "${id.slice(0, 20)}" is neither TDX nor SGX.`);
  const isTdx = id === 'TDX';
  const levels = arr(t.tcbLevels, 'tcbInfo.tcbLevels').map((l, i): PlatformTcbLevel => {
    const level = obj(l, `tcbLevels[${i}]`);
    const tcb = obj(level.tcb, `tcbLevels[${i}].tcb`);
    return {
      sgxComponents: legacySgx
        ? Array.from({ length: 16 }, (_, c) => {
            const name = `sgxtcbcomp${String(c + 1).padStart(2, '0')}svn`;
            return uint(tcb[name], 255, `tcbLevels[${i}].tcb.${name}`);
          })
        : svnList(tcb.sgxtcbcomponents, `tcbLevels[${i}].tcb.sgxtcbcomponents`),
      pceSvn: uint(tcb.pcesvn, 0xffff, `tcbLevels[${i}].tcb.pcesvn`),
      tdxComponents: isTdx ? svnList(tcb.tdxtcbcomponents, `tcbLevels[${i}].tcb.tdxtcbcomponents`) : null,
      status: status(level.tcbStatus, `tcbLevels[${i}].tcbStatus`),
      advisoryIds: advisories(level.advisoryIDs, `tcbLevels[${i}].advisoryIDs`),
      tcbDate: typeof level.tcbDate === 'string' ? level.tcbDate : null,
    };
  });
  return {
    id,
    version: uint(t.version, 1000, 'tcbInfo.version'),
    issueDate: date(t.issueDate, 'tcbInfo.issueDate'),
    nextUpdate: date(t.nextUpdate, 'tcbInfo.nextUpdate'),
    fmspc: hexField(str(t.fmspc, 'tcbInfo.fmspc'), 6, 'tcbInfo.fmspc'),
    pceId: hexField(str(t.pceId, 'tcbInfo.pceId'), 2, 'tcbInfo.pceId'),
    tcbType: uint(t.tcbType, 1000, 'tcbInfo.tcbType'),
    tcbEvaluationDataNumber: uint(t.tcbEvaluationDataNumber, 0xffffffff, 'tcbInfo.tcbEvaluationDataNumber'),
    levels,
    tdxModule: isTdx && t.tdxModule !== undefined ? parseModule(t.tdxModule, 'tcbInfo.tdxModule', false) : null,
    tdxModuleIdentities:
      isTdx && t.tdxModuleIdentities !== undefined
        ? arr(t.tdxModuleIdentities, 'tcbInfo.tdxModuleIdentities').map((m, i) =>
            parseModule(m, `tcbInfo.tdxModuleIdentities[${i}]`, true),
          )
        : [],
  };
}

export function parseQeIdentity(text: string): QeIdentity {
  const q = parseJsonText(text, 'QE identity');
  return {
    id: str(q.id, 'qeIdentity.id'),
    version: uint(q.version, 1000, 'qeIdentity.version'),
    issueDate: date(q.issueDate, 'qeIdentity.issueDate'),
    nextUpdate: date(q.nextUpdate, 'qeIdentity.nextUpdate'),
    tcbEvaluationDataNumber: uint(q.tcbEvaluationDataNumber, 0xffffffff, 'qeIdentity.tcbEvaluationDataNumber'),
    miscSelect: hexField(str(q.miscselect, 'qeIdentity.miscselect'), 4, 'qeIdentity.miscselect'),
    miscSelectMask: hexField(str(q.miscselectMask, 'qeIdentity.miscselectMask'), 4, 'qeIdentity.miscselectMask'),
    attributes: hexField(str(q.attributes, 'qeIdentity.attributes'), 16, 'qeIdentity.attributes'),
    attributesMask: hexField(str(q.attributesMask, 'qeIdentity.attributesMask'), 16, 'qeIdentity.attributesMask'),
    mrSigner: hexField(str(q.mrsigner, 'qeIdentity.mrsigner'), 32, 'qeIdentity.mrsigner'),
    isvProdId: uint(q.isvprodid, 0xffff, 'qeIdentity.isvprodid'),
    levels: arr(q.tcbLevels, 'qeIdentity.tcbLevels').map((l, i) => {
      const level = obj(l, `qeIdentity.tcbLevels[${i}]`);
      return {
        isvSvn: uint(
          obj(level.tcb, `qeIdentity.tcbLevels[${i}].tcb`).isvsvn,
          0xffff,
          `qeIdentity.tcbLevels[${i}].tcb.isvsvn`,
        ),
        status: status(level.tcbStatus, `qeIdentity.tcbLevels[${i}].tcbStatus`),
        advisoryIds: advisories(level.advisoryIDs, `qeIdentity.tcbLevels[${i}].advisoryIDs`),
        tcbDate: typeof level.tcbDate === 'string' ? level.tcbDate : null,
      };
    }),
  };
}

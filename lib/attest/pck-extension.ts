import { toHex } from '../bytes';
import {
  DER_OCTET_STRING,
  DER_OID,
  DER_SEQUENCE,
  decodeOid,
  decodeSmallUint,
  readDerChildren,
  readDerNode,
  type DerNode,
} from './der';
import { AttestError } from './errors';

/**
 * Intel's SGX extension of a PCK leaf (OID 1.2.840.113741.1.13.1): the platform's TCB as Intel certified it.
 * The verifier compares these numbers, not the quote's self-reported ones, against the TCB levels.
 */
export interface PckPlatformTcb {
  /** SGX TCB component SVNs 1..16 (.2.1 – .2.16). */
  sgxComponents: number[];
  pceSvn: number;
  cpuSvn: Uint8Array;
  pceId: Uint8Array;
  fmspc: Uint8Array;
  /** Upper-case hex as Intel prints it. */
  fmspcHex: string;
}

const BASE = '1.2.840.113741.1.13.1';
const bad = (why: string) => new AttestError('certificate_malformed', `The PCK certificate's SGX extension ${why}.`);

function entries(content: Uint8Array): Map<string, DerNode> {
  const out = new Map<string, DerNode>();
  for (const item of readDerChildren(content, 'certificate_malformed', 'SGX extension')) {
    if (item.tag !== DER_SEQUENCE) throw bad('has an entry that is not a SEQUENCE');
    const pair = readDerChildren(item.value, 'certificate_malformed', 'SGX extension');
    if (pair.length !== 2 || pair[0]!.tag !== DER_OID) throw bad('has a malformed entry');
    const oid = decodeOid(pair[0]!.value);
    if (out.has(oid)) throw bad(`repeats ${oid}`);
    out.set(oid, pair[1]!);
  }
  return out;
}

function octets(node: DerNode | undefined, len: number, name: string): Uint8Array {
  if (!node || node.tag !== DER_OCTET_STRING || node.value.length !== len) throw bad(`lacks a ${len}-byte ${name}`);
  return node.value;
}

export function parsePckExtension(value: Uint8Array): PckPlatformTcb {
  const outer = readDerNode(value, 0, 'certificate_malformed', 'SGX extension');
  if (outer.tag !== DER_SEQUENCE || outer.end !== value.length) throw bad('is not one SEQUENCE');
  const top = entries(outer.value);
  const tcbNode = top.get(`${BASE}.2`);
  if (!tcbNode || tcbNode.tag !== DER_SEQUENCE) throw bad('lacks the TCB entry');
  const tcb = entries(tcbNode.value);
  const sgxComponents: number[] = [];
  for (let i = 1; i <= 16; i++) {
    const node = tcb.get(`${BASE}.2.${i}`);
    if (!node) throw bad(`lacks TCB component ${i}`);
    const svn = decodeSmallUint(node, `TCB component ${i}`);
    if (svn > 255) throw bad(`has TCB component ${i} out of range`);
    sgxComponents.push(svn);
  }
  const pceNode = tcb.get(`${BASE}.2.17`);
  if (!pceNode) throw bad('lacks PCESVN');
  const pceSvn = decodeSmallUint(pceNode, 'PCESVN');
  if (pceSvn > 0xffff) throw bad('has PCESVN out of range');
  const cpuSvn = octets(tcb.get(`${BASE}.2.18`), 16, 'CPUSVN');
  const fmspc = octets(top.get(`${BASE}.4`), 6, 'FMSPC');
  return {
    sgxComponents,
    pceSvn,
    cpuSvn,
    pceId: octets(top.get(`${BASE}.3`), 2, 'PCE-ID'),
    fmspc,
    fmspcHex: toHex(fmspc).toUpperCase(),
  };
}

/**
 * The CVM simulator's TEST PKI, generated fresh at every start (WebCrypto P-256, encoded with `@peculiar/asn1-x509`):
 *
 *   Clawkeep CVM Simulator TEST Root CA (self-signed CA)
 *   ├── … TEST PCK Platform CA (CA) ── … TEST PCK Certificate(s) (one leaf per platform, Intel SGX extension:
 *   │                                   FMSPC, SVNs, PCE-ID)
 *   └── … TEST TCB Signing (signs TCB info and QE identity)
 *
 * plus the root CA CRL and the PCK CRL. It mirrors the shape of Intel's DCAP PKI so our verifier runs every check
 * on it, but it is not Intel's: only a verification that is explicitly given this root as a test trust anchor
 * accepts anything it signs.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  CertificateList,
  Extension,
  Extensions,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  TBSCertList,
  Time,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { fromHex, toBase64 } from '../../lib/bytes';
import { derEnumerated, derOctetString, derOid, derSequence, derUint, ecdsaRawToDer } from './der';
import { SIM_PCE_ID, SIM_PCE_SVN, SIM_SGX_COMPONENTS } from './platform';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_SGX_EXTENSION = '1.2.840.113741.1.13.1';
const DAY_MS = 86_400_000;

export const SIM_NAMES = {
  root: 'Clawkeep CVM Simulator TEST Root CA',
  // Ends in "Platform CA": verifiers read which PCK CRL to fetch from the leaf issuer's CN (collateral-needs.ts).
  pckCa: 'Clawkeep CVM Simulator TEST PCK Platform CA',
  pckLeaf: 'Clawkeep CVM Simulator TEST PCK Certificate',
  tcbSigning: 'Clawkeep CVM Simulator TEST TCB Signing',
} as const;
const ORGANIZATION = 'Clawkeep test PKI (not Intel)';

export interface Signer {
  /** Subject name, as used for the issuer of what this key signs. */
  name: Name;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export interface IssuedCertificate extends Signer {
  der: Uint8Array;
  serial: Uint8Array;
}

/** One simulated platform: a PCK leaf stating this FMSPC, and its chain as a quote carries it. */
export interface PckPlatform {
  fmspc: string;
  leaf: IssuedCertificate;
  /** Leaf, PCK CA, root (PEM). */
  chainPem: string;
}

export interface TestPki {
  root: IssuedCertificate;
  pckCa: IssuedCertificate;
  tcbSigning: IssuedCertificate;
  /** One PCK leaf per FMSPC asked for, in that order. */
  platforms: PckPlatform[];
  /** PEM chains in the orders DCAP uses (signer first, ending at the root). */
  pckCrlIssuerChainPem: string;
  tcbSigningChainPem: string;
}

function subjectName(commonName: string): Name {
  const attr = (type: string, value: string) =>
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
    ]);
  return new Name([attr('2.5.4.3', commonName), attr('2.5.4.10', ORGANIZATION)]);
}

function randomSerial(): Uint8Array {
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, no leading zero byte
  return serial;
}

/**
 * A WebCrypto key pair. Spelled out because `CryptoKeyPair` is a DOM lib name that Node's types (tsconfig.node.json:
 * no DOM) do not declare globally; `CryptoKey` exists in both.
 */
export interface SimKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

async function newKeyPair(): Promise<SimKeyPair> {
  return await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
}

/** ECDSA-SHA256 with P-256, DER signature value (what X.509 carries). */
export async function signDer(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return ecdsaRawToDer(await signRaw(key, data));
}

/** ECDSA-SHA256 with P-256, raw r‖s (what quotes and Intel's JSON signatures carry). */
export async function signRaw(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  const raw = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, data.slice().buffer);
  return new Uint8Array(raw);
}

const ab = (b: Uint8Array): ArrayBuffer => b.slice().buffer;

function extension(extnID: string, critical: boolean, value: Uint8Array): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(ab(value)) });
}

interface CertSpec {
  commonName: string;
  keys: SimKeyPair;
  issuer: Signer | null; // null: self-signed
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  extraExtensions?: Extension[];
}

async function issue(spec: CertSpec): Promise<IssuedCertificate> {
  const name = subjectName(spec.commonName);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', spec.keys.publicKey));
  const algorithm = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
  const serial = randomSerial();
  const usage = spec.ca
    ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign
    : KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation;
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: ab(serial),
    signature: algorithm,
    issuer: spec.issuer?.name ?? name,
    subject: name,
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subjectPublicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
    extensions: new Extensions([
      extension(
        id_ce_basicConstraints,
        true,
        new Uint8Array(
          AsnConvert.serialize(
            spec.ca ? new BasicConstraints({ cA: true, pathLenConstraint: 1 }) : new BasicConstraints({}),
          ),
        ),
      ),
      extension(id_ce_keyUsage, true, new Uint8Array(AsnConvert.serialize(new KeyUsage(usage)))),
      ...(spec.extraExtensions ?? []),
    ]),
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = await signDer((spec.issuer ?? { privateKey: spec.keys.privateKey }).privateKey, tbsDer);
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: algorithm, signatureValue: ab(signature) });
  return {
    der: new Uint8Array(AsnConvert.serialize(cert)),
    serial,
    name,
    privateKey: spec.keys.privateKey,
    publicKey: spec.keys.publicKey,
  };
}

/** A fresh self-signed P-256 CA certificate (DER), e.g. a foreign "test trust anchor" the verifier must refuse. */
export async function selfSignedRootDer(commonName: string, notBefore: Date, notAfter: Date): Promise<Uint8Array> {
  return (await issue({ commonName, keys: await newKeyPair(), issuer: null, notBefore, notAfter, ca: true })).der;
}

/**
 * Intel's SGX extension as a PCK leaf carries it: PPID (.1), TCB (.2: components .2.1–.2.16, PCESVN .2.17,
 * CPUSVN .2.18), PCE-ID (.3), FMSPC (.4), SGX type (.5). See lib/attest/pck-extension.ts for what is read.
 */
export function sgxExtensionValue(fmspc: string): Uint8Array {
  const oid = (suffix: string) => derOid(`${OID_SGX_EXTENSION}${suffix}`);
  const entry = (suffix: string, value: Uint8Array) => derSequence(oid(suffix), value);
  const tcb = derSequence(
    ...SIM_SGX_COMPONENTS.map((svn, i) => entry(`.2.${i + 1}`, derUint(svn))),
    entry('.2.17', derUint(SIM_PCE_SVN)),
    entry('.2.18', derOctetString(Uint8Array.from(SIM_SGX_COMPONENTS))),
  );
  return derSequence(
    entry('.1', derOctetString(crypto.getRandomValues(new Uint8Array(16)))),
    entry('.2', tcb),
    entry('.3', derOctetString(fromHex(SIM_PCE_ID))),
    entry('.4', derOctetString(fromHex(fmspc))),
    entry('.5', derEnumerated(0)),
  );
}

export function pem(der: Uint8Array): string {
  const b64 = toBase64(der).replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/**
 * Generates the whole PKI, with one PCK leaf (platform) per FMSPC; certificates are valid from 30 days before
 * `now` for 10 years.
 */
export async function generateTestPki(now: number, fmspcs: string[]): Promise<TestPki> {
  const notBefore = new Date(Math.floor((now - 30 * DAY_MS) / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + 3650 * DAY_MS);
  const [rootKeys, caKeys, tcbKeys] = await Promise.all([newKeyPair(), newKeyPair(), newKeyPair()]);
  const root = await issue({ commonName: SIM_NAMES.root, keys: rootKeys, issuer: null, notBefore, notAfter, ca: true });
  const pckCa = await issue({ commonName: SIM_NAMES.pckCa, keys: caKeys, issuer: root, notBefore, notAfter, ca: true });
  const platforms: PckPlatform[] = [];
  for (const fmspc of fmspcs) {
    const leaf = await issue({
      commonName: SIM_NAMES.pckLeaf,
      keys: await newKeyPair(),
      issuer: pckCa,
      notBefore,
      notAfter,
      ca: false,
      extraExtensions: [extension(OID_SGX_EXTENSION, false, sgxExtensionValue(fmspc))],
    });
    platforms.push({ fmspc, leaf, chainPem: pem(leaf.der) + pem(pckCa.der) + pem(root.der) });
  }
  const tcbSigning = await issue({
    commonName: SIM_NAMES.tcbSigning,
    keys: tcbKeys,
    issuer: root,
    notBefore,
    notAfter,
    ca: false,
  });
  return {
    root,
    pckCa,
    tcbSigning,
    platforms,
    pckCrlIssuerChainPem: pem(pckCa.der) + pem(root.der),
    tcbSigningChainPem: pem(tcbSigning.der) + pem(root.der),
  };
}

/** An empty (nothing revoked) v2 CRL signed by `issuer`, valid thisUpdate..nextUpdate. */
export async function issueCrl(issuer: Signer, thisUpdate: Date, nextUpdate: Date): Promise<Uint8Array> {
  const algorithm = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: algorithm,
    issuer: issuer.name,
    thisUpdate: new Time(thisUpdate),
    nextUpdate: new Time(nextUpdate),
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = await signDer(issuer.privateKey, tbsDer);
  const crl = new CertificateList({ tbsCertList: tbs, signatureAlgorithm: algorithm, signature: ab(signature) });
  return new Uint8Array(AsnConvert.serialize(crl));
}

/**
 * PCCS SIMULATOR (tests and `clawkeep sim`: the CVM simulator serves its collateral through one). A local node:http server on 127.0.0.1 (random port) that speaks the Intel PCS
 * API v4 wire format for the collateral endpoints, serving REAL Intel-signed collateral (the dcap-qvl JSON
 * fixtures) converted back into PCS responses. It is not Intel's PCS nor a PCCS: it has no upstream, no
 * database, no auth, no PCK certificate endpoints. It exists so the collateral fetcher and cache can be tested
 * against real bytes, real headers and real failure modes without the network.
 *
 * Endpoints (GET only; anything else 405, unknown paths 404):
 * ```text
 *   /{sgx|tdx}/certification/v4/tcb?fmspc=<12 hex>   body {"tcbInfo":<exact tcb_info>,"signature":"<hex>"},
 *                                                     header TCB-Info-Issuer-Chain (URL-encoded PEM);
 *                                                     400 for a malformed fmspc, 404 for an unknown one
 *   /{sgx|tdx}/certification/v4/qe/identity           body {"enclaveIdentity":<exact qe_identity>,"signature":…},
 *                                                     header SGX-Enclave-Identity-Issuer-Chain
 *   /sgx/certification/v4/pckcrl?ca=platform|processor[&encoding=der|pem]
 *                                                     DER (or PEM, Intel's default), header SGX-PCK-CRL-Issuer-Chain
 *   /sgx/certification/v4/rootcacrl                   a PCCS's root CA CRL: hex text (default), DER, or 404
 *   /IntelSGXRootCA.der                               the root CA CRL as DER, like Intel's distribution point
 * ```
 * Failures can be injected per path (`failNext`): an HTTP status, a hang, a delay, a truncated body, an
 * oversize body, a replaced body or header. Requests are counted per path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import type { Collateral } from '../../lib/attest/types';

export type PccsFailure =
  /** Answer with this status and an empty body. */
  | { kind: 'status'; status: number }
  /** Accept the request and never answer (until the simulator closes). */
  | { kind: 'hang' }
  /** Answer normally after a delay. */
  | { kind: 'delay'; ms: number }
  /** Announce the full Content-Length, send half the body, then drop the connection. */
  | { kind: 'truncate' }
  /** Answer 200 with a body of `bytes` bytes; `chunked` omits Content-Length. */
  | { kind: 'oversize'; bytes: number; chunked?: boolean }
  /** Answer normally but with this body. */
  | { kind: 'body'; body: string | Uint8Array }
  /** Answer normally but with this header replaced (null: removed). */
  | { kind: 'header'; name: string; value: string | null };

export interface PccsSimulatorOptions {
  /** How `/sgx/certification/v4/rootcacrl` answers. Default 'hex' (what dcap-qvl expects from a PCCS). */
  rootCaCrl?: 'hex' | 'der' | 'absent';
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

interface PendingFailure {
  failure: PccsFailure;
  remaining: number;
}

const API = /^\/(sgx|tdx)\/certification\/v4\/(tcb|qe\/identity|pckcrl|rootcacrl)$/;
const encoder = new TextEncoder();
const hexToBytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

/** "platform" or "processor", from the CN of a PCK CRL's issuer ("Intel SGX PCK Platform CA" / "… Processor CA"). */
export function pckCrlCa(pckCrlHex: string): 'platform' | 'processor' {
  const crl = AsnConvert.parse(hexToBytes(pckCrlHex), CertificateList);
  for (const rdn of crl.tbsCertList.issuer) {
    for (const attr of rdn) {
      if (attr.type !== '2.5.4.3') continue;
      const cn = attr.value.toString();
      if (/Platform CA/.test(cn)) return 'platform';
      if (/Processor CA/.test(cn)) return 'processor';
    }
  }
  throw new Error('PCK CRL issuer is neither the Platform nor the Processor CA');
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64.replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

export class PccsSimulator {
  /** Base URL, e.g. http://127.0.0.1:43210 (pass it as `pccsUrl`). */
  readonly url: string;
  /** Every request as "<path>?<query>", in arrival order. */
  readonly requests: string[] = [];

  private readonly tcbInfo = new Map<string, { body: string; chain: string }>(); // key "tdx|B0C06F000000"
  private readonly qeIdentity = new Map<string, { body: string; chain: string }>(); // key "tdx" | "sgx"
  private readonly pckCrl = new Map<string, { der: Uint8Array; chain: string }>(); // key "platform" | "processor"
  private rootCrl: Uint8Array | null = null;
  private readonly failures = new Map<string, PendingFailure[]>();
  private readonly counts = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    port: number,
    private readonly options: Required<PccsSimulatorOptions>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(options: PccsSimulatorOptions = {}): Promise<PccsSimulator> {
    let sim: PccsSimulator | undefined;
    const server = createServer((req, res) => sim!.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('simulator has no TCP address');
    sim = new PccsSimulator(server, address.port, { rootCaCrl: options.rootCaCrl ?? 'hex' });
    return sim;
  }

  /**
   * Makes a collateral set current, as a PCCS does after a refresh: its TCB info is served for its FMSPC and
   * TEE type, and its QE identity, PCK CRL (for its issuing CA) and root CA CRL replace the previous ones.
   */
  publish(collateral: Collateral): void {
    const tcb = JSON.parse(collateral.tcb_info) as { id?: string; fmspc: string };
    const tcbTee = tcb.id === 'TDX' ? 'tdx' : 'sgx'; // SGX TCB info v2 has no id
    const tcbBody = `{"tcbInfo":${collateral.tcb_info},"signature":"${collateral.tcb_info_signature}"}`;
    this.tcbInfo.set(`${tcbTee}|${tcb.fmspc.toUpperCase()}`, {
      body: tcbBody,
      chain: collateral.tcb_info_issuer_chain,
    });

    const qe = JSON.parse(collateral.qe_identity) as { id: string };
    const qeBody = `{"enclaveIdentity":${collateral.qe_identity},"signature":"${collateral.qe_identity_signature}"}`;
    this.qeIdentity.set(qe.id === 'TD_QE' ? 'tdx' : 'sgx', {
      body: qeBody,
      chain: collateral.qe_identity_issuer_chain,
    });

    this.pckCrl.set(pckCrlCa(collateral.pck_crl), {
      der: hexToBytes(collateral.pck_crl),
      chain: collateral.pck_crl_issuer_chain,
    });
    this.rootCrl = hexToBytes(collateral.root_ca_crl);
  }

  /** The next `times` requests to `pathname` ('*' = any path) fail as described. */
  failNext(pathname: string, failure: PccsFailure, times = 1): void {
    const list = this.failures.get(pathname) ?? [];
    list.push({ failure, remaining: times });
    this.failures.set(pathname, list);
  }

  /** Requests received for `pathname` (no query), or in total. */
  requestCount(pathname?: string): number {
    if (pathname === undefined) return this.requests.length;
    return this.counts.get(pathname) ?? 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFailure(pathname: string): PccsFailure | null {
    for (const key of [pathname, '*']) {
      const list = this.failures.get(key);
      const next = list?.[0];
      if (!list || !next) continue;
      if (--next.remaining <= 0) list.shift();
      return next.failure;
    }
    return null;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push(url.pathname + url.search);
    this.counts.set(url.pathname, (this.counts.get(url.pathname) ?? 0) + 1);
    const failure = this.takeFailure(url.pathname);
    const reply = req.method === 'GET' ? this.route(url) : text(405, 'Method Not Allowed');
    this.send(res, reply, failure);
  }

  private route(url: URL): Reply {
    if (url.pathname === '/IntelSGXRootCA.der') {
      return this.rootCrl ? binary(this.rootCrl, 'application/pkix-crl') : text(404, '');
    }
    const match = API.exec(url.pathname);
    if (!match) return text(404, '');
    const [, tee, resource] = match as unknown as [string, 'sgx' | 'tdx', string];
    const requestId = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex');
    switch (resource) {
      case 'tcb': {
        const fmspc = url.searchParams.get('fmspc') ?? '';
        if (!/^[0-9a-fA-F]{12}$/.test(fmspc)) return text(400, '');
        const doc = this.tcbInfo.get(`${tee}|${fmspc.toUpperCase()}`);
        if (!doc) return text(404, '');
        return json(doc.body, { 'TCB-Info-Issuer-Chain': encodeURIComponent(doc.chain), 'Request-ID': requestId });
      }
      case 'qe/identity': {
        const doc = this.qeIdentity.get(tee);
        if (!doc) return text(404, '');
        return json(doc.body, {
          'SGX-Enclave-Identity-Issuer-Chain': encodeURIComponent(doc.chain),
          'Request-ID': requestId,
        });
      }
      case 'pckcrl': {
        if (tee !== 'sgx') return text(404, '');
        const ca = (url.searchParams.get('ca') ?? '').toLowerCase();
        const encoding = (url.searchParams.get('encoding') ?? 'pem').toLowerCase();
        if ((ca !== 'platform' && ca !== 'processor') || (encoding !== 'pem' && encoding !== 'der')) {
          return text(400, '');
        }
        const crl = this.pckCrl.get(ca);
        if (!crl) return text(404, '');
        const headers = { 'SGX-PCK-CRL-Issuer-Chain': encodeURIComponent(crl.chain), 'Request-ID': requestId };
        return encoding === 'der'
          ? {
              ...binary(crl.der, 'application/pkix-crl'),
              headers: { ...headers, 'Content-Type': 'application/pkix-crl' },
            }
          : {
              status: 200,
              headers: { ...headers, 'Content-Type': 'application/x-pem-file' },
              body: encoder.encode(pem('X509 CRL', crl.der)),
            };
      }
      case 'rootcacrl': {
        if (tee !== 'sgx' || !this.rootCrl || this.options.rootCaCrl === 'absent') return text(404, '');
        return this.options.rootCaCrl === 'hex'
          ? text(200, Buffer.from(this.rootCrl).toString('hex'))
          : binary(this.rootCrl, 'application/pkix-crl');
      }
      default:
        return text(404, '');
    }
  }

  private send(res: ServerResponse, reply: Reply, failure: PccsFailure | null): void {
    const write = (r: Reply) => {
      res.writeHead(r.status, { ...r.headers, 'Content-Length': String(r.body.byteLength) });
      res.end(r.body);
    };
    if (failure === null) return write(reply);
    switch (failure.kind) {
      case 'status':
        return write(text(failure.status, ''));
      case 'hang':
        return; // the socket stays open until the client gives up or close() destroys it
      case 'delay': {
        const timer = setTimeout(() => write(reply), failure.ms);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'truncate': {
        res.writeHead(reply.status, { ...reply.headers, 'Content-Length': String(reply.body.byteLength) });
        res.write(reply.body.subarray(0, Math.floor(reply.body.byteLength / 2)), () => res.socket?.destroy());
        return;
      }
      case 'oversize': {
        const body = new Uint8Array(failure.bytes).fill(0x20);
        if (failure.chunked) {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          const chunk = 64 * 1024;
          for (let i = 0; i < body.length; i += chunk) res.write(body.subarray(i, i + chunk));
          res.end();
          return;
        }
        return write({ status: 200, headers: { 'Content-Type': 'application/json' }, body });
      }
      case 'body':
        return write({
          ...reply,
          body: typeof failure.body === 'string' ? encoder.encode(failure.body) : failure.body,
        });
      case 'header': {
        const headers = Object.fromEntries(
          Object.entries(reply.headers).filter(([name]) => name.toLowerCase() !== failure.name.toLowerCase()),
        );
        if (failure.value !== null) headers[failure.name] = failure.value;
        return write({ ...reply, headers });
      }
    }
  }
}

function text(status: number, body: string): Reply {
  return { status, headers: { 'Content-Type': 'text/plain' }, body: encoder.encode(body) };
}

function json(body: string, headers: Record<string, string>): Reply {
  return { status: 200, headers: { ...headers, 'Content-Type': 'application/json' }, body: encoder.encode(body) };
}

function binary(body: Uint8Array, contentType: string): Reply {
  return { status: 200, headers: { 'Content-Type': contentType }, body };
}

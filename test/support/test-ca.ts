import { execFileSync } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A throwaway certificate authority for TLS tests, made with the `openssl` CLI (Debian's, present wherever the
 * tests run): a self-signed P-256 CA and leaf certificates for given DNS names and IP addresses, each with a random
 * serial so a test can tell which certificate a server presented. Everything lives in one temp directory, removed
 * by cleanup(). Clients trust it through the `ca` option (node:https / node:tls) or NODE_EXTRA_CA_CERTS.
 */
export interface TestCa {
  /** PEM of the CA certificate. */
  readonly caCert: string;
  readonly caCertFile: string;
  readonly dir: string;
  /** Issues a server certificate for `names` (DNS) and `ips`, valid for two days. */
  issue(subject: { names?: readonly string[]; ips?: readonly string[] }): TestLeaf;
  cleanup(): void;
}

export interface TestLeaf {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  /** As X509Certificate.serialNumber and a TLS peer certificate's `serialNumber` write it (uppercase hex). */
  serial: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates the CA in a fresh temp directory. */
export function createTestCa(): TestCa {
  const dir = mkdtempSync(path.join(tmpdir(), 'clawkeep-test-ca-'));
  let issued = 0;
  try {
    // prettier-ignore
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Clawkeep Test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const caCertFile = path.join(dir, 'ca.crt');
  return {
    caCert: readFileSync(caCertFile, 'utf8'),
    caCertFile,
    dir,
    issue({ names = [], ips = [] }) {
      const n = ++issued;
      const san = [...names.map((d) => `DNS:${d}`), ...ips.map((ip) => `IP:${ip}`)].join(',');
      if (san === '') throw new TypeError('issue: give at least one name or IP address');
      writeFileSync(
        path.join(dir, `leaf${n}.ext`),
        `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
      );
      // prettier-ignore
      openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', `leaf${n}.key`, '-out', `leaf${n}.csr`, '-subj', `/CN=${names[0] ?? ips[0]}`], dir);
      // prettier-ignore
      openssl(['x509', '-req', '-in', `leaf${n}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key',
        '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2',
        '-extfile', `leaf${n}.ext`, '-out', `leaf${n}.crt`], dir);
      const certFile = path.join(dir, `leaf${n}.crt`);
      const keyFile = path.join(dir, `leaf${n}.key`);
      const cert = readFileSync(certFile, 'utf8');
      return {
        certFile,
        keyFile,
        cert,
        key: readFileSync(keyFile, 'utf8'),
        serial: new X509Certificate(cert).serialNumber,
      };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

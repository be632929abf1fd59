// @vitest-environment node
// How the hub listens (issue 16, "Reachable"): the refusals that keep a network-reachable hub from running
// unprotected or under an origin no request could match, TLS from PEM files, and reloading them (SIGHUP in the CLI)
// without ever dropping the pair in use for a bad one. Servers here listen on 127.0.0.1 only; the non-loopback runs
// are in reachable-netns.test.ts.
import { copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackAddress, planListen } from '../../../hub/listener';
import { jsonLinesLogger } from '../../../hub/logger';
import { startHub, type RunningHub } from '../../../hub/server';
import { call } from '../../support/https-client';
import { createTestCa, type TestCa, type TestLeaf } from '../../support/test-ca';
import { runClawkeep } from '../cli/run-clawkeep';
import { tempDir } from './helpers';

let ca: TestCa;
let leaves: TestLeaf[];
beforeAll(() => {
  ca = createTestCa();
  leaves = [1, 2, 3].map(() => ca.issue({ names: ['hub.test'], ips: ['127.0.0.1'] }));
});
afterAll(() => ca?.cleanup());

let hub: RunningHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

describe('planListen: what a listen configuration must have', () => {
  const refused = (options: Parameters<typeof planListen>[0], words: string) => {
    let thrown: unknown;
    try {
      planListen(options);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'listen_refused', message: expect.stringContaining(words) });
  };
  const tls = { certFile: 'c.pem', keyFile: 'k.pem' };

  it('a non-loopback address needs TLS or a trusted proxy, and a public origin', () => {
    refused({ host: '10.77.0.1', port: 8443 }, 'needs TLS (--tls-cert FILE --tls-key FILE) or a trusted reverse');
    refused({ host: '0.0.0.0', port: 8443, publicOrigin: 'https://hub.example.com' }, 'without protection');
    refused({ host: '::', port: 8443, tls }, 'without a public origin');
    refused({ host: '10.77.0.1', port: 8443, trustedProxies: ['10.77.0.3'] }, 'without a public origin');
    expect(planListen({ host: '10.77.0.1', port: 8443, tls, publicOrigin: 'https://hub.test:8443' })).toMatchObject({
      loopback: false,
      scheme: 'https',
    });
    expect(
      planListen({ host: '0.0.0.0', port: 80, trustedProxies: ['::ffff:10.0.0.5'], publicOrigin: 'https://h.test' }),
    ).toMatchObject({ loopback: false, scheme: 'http', trustedProxies: new Set(['10.0.0.5']) });
  });

  it('an origin no request could arrive at is refused; loopback alone stays as it was', () => {
    refused({ host: '127.0.0.1', port: 8787, publicOrigin: 'https://hub.example.com' }, 'trusts no proxy');
    refused({ host: '127.0.0.1', port: 8787, tls, publicOrigin: 'http://localhost:8787' }, 'this hub serves TLS');
    refused({ host: 'hub.example.com', port: 8787 }, 'give an IP address');
    refused({ host: '127.0.0.1', port: 8787, trustedProxies: ['proxy.local'] }, '--trusted-proxy takes IP addresses');
    expect(planListen({ host: '127.0.0.1', port: 8787 })).toMatchObject({ loopback: true, scheme: 'http' });
    expect(planListen({ host: '::1', port: 0, tls })).toMatchObject({ loopback: true, scheme: 'https' });
    expect([
      isLoopbackAddress('127.3.4.5'),
      isLoopbackAddress('::ffff:127.0.0.1'),
      isLoopbackAddress('10.0.0.1'),
    ]).toEqual([true, true, false]);
  });

  it('the CLI refuses the same with exit 2, before it opens or binds anything', async () => {
    const data = path.join(tempDir(), 'hub');
    const r = await runClawkeep(['hub', '--listen', '0.0.0.0:8787', '--data', data]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing to listen on 0.0.0.0 without protection');
    const noOrigin = await runClawkeep(['hub', '--listen', '[::]:8443', '--trusted-proxy', '::1', '--data', data]);
    expect(noOrigin.code).toBe(2);
    expect(noOrigin.stderr).toContain('without a public origin: give --public-origin https://');
    const both = await runClawkeep(['hub', '--listen', '127.0.0.1:1', '--port', '2', '--data', data]);
    expect(both.stderr).toContain('give --listen HOST:PORT or --port N, not both');
    expect(existsSync(data)).toBe(false);
  }, 30_000);
});

describe('TLS', () => {
  it('serves the certificate from the files; a client trusting the test CA gets answers, one that does not is refused', async () => {
    const leaf = leaves[0]!;
    hub = await startHub({
      port: 0,
      dataDir: tempDir(),
      tls: { certFile: leaf.certFile, keyFile: leaf.keyFile },
      logger: jsonLinesLogger(() => {}),
    });
    expect(hub.url).toBe(`https://127.0.0.1:${hub.port}`);
    expect(hub.certificate()?.serial).toBe(leaf.serial);
    const res = await call(`${hub.url}/v1/health`, { ca: ca.caCert });
    expect(res.status).toBe(200);
    expect(res.serial).toBe(leaf.serial);
    expect(JSON.parse(res.body)).toMatchObject({ ok: true, origin: hub.url });
    await expect(call(`${hub.url}/v1/health`)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    // Plain HTTP to the TLS port gets no answer from the app.
    await expect(call(`http://127.0.0.1:${hub.port}/v1/health`)).rejects.toThrow();
  });

  it('reloadTls swaps the certificate for new connections; a bad or missing file keeps the one in use and says why', async () => {
    const dir = tempDir();
    const certFile = path.join(dir, 'hub.crt');
    const keyFile = path.join(dir, 'hub.key');
    const install = (leaf: TestLeaf, key = leaf) => {
      copyFileSync(leaf.certFile, certFile);
      copyFileSync(key.keyFile, keyFile);
    };
    install(leaves[0]!);
    const lines: string[] = [];
    hub = await startHub({
      port: 0,
      dataDir: path.join(dir, 'data'),
      tls: { certFile, keyFile },
      logger: jsonLinesLogger((l) => lines.push(l)),
    });
    const served = async () => (await call(`${hub!.url}/v1/health`, { ca: ca.caCert })).serial;
    expect(await served()).toBe(leaves[0]!.serial);

    install(leaves[1]!);
    expect(hub.reloadTls()).toBe(true);
    expect(await served()).toBe(leaves[1]!.serial);
    expect(leaves[1]!.serial).not.toBe(leaves[0]!.serial);

    // A renewal half written: the new certificate next to the old key.
    copyFileSync(leaves[2]!.certFile, certFile);
    expect(hub.reloadTls()).toBe(false);
    expect(await served()).toBe(leaves[1]!.serial);
    rmSync(keyFile);
    expect(hub.reloadTls()).toBe(false);
    writeFileSync(keyFile, 'not a key');
    expect(hub.reloadTls()).toBe(false);
    expect(await served()).toBe(leaves[1]!.serial);
    expect(hub.certificate()?.serial).toBe(leaves[1]!.serial);

    const events = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => String(e.event).startsWith('tls_'));
    expect(events.map((e) => e.event)).toEqual([
      'tls_loaded',
      'tls_reloaded',
      'tls_reload_failed',
      'tls_reload_failed',
      'tls_reload_failed',
    ]);
    expect(events.slice(2).map((e) => e.reason)).toEqual([
      `${keyFile} is not the key of the certificate ${certFile}`,
      `cannot read the TLS key file ${keyFile} (ENOENT)`,
      `${keyFile} is not a PEM private key`,
    ]);
    expect(events[2]).toMatchObject({ level: 'warn', serial_kept: leaves[1]!.serial });
    // Nothing of a key reaches the log.
    const log = lines.join('\n');
    for (const leaf of leaves) {
      const keyBody = leaf.key.split('\n').filter((l) => l && !l.startsWith('-----'));
      for (const part of keyBody) expect(log).not.toContain(part);
    }
    expect(log).not.toContain('PRIVATE KEY');
  });

  it('unusable files at start are refused and leave no listener', async () => {
    const dir = tempDir();
    await expect(
      startHub({
        port: 0,
        dataDir: path.join(dir, 'data'),
        tls: { certFile: leaves[0]!.certFile, keyFile: leaves[1]!.keyFile },
        logger: jsonLinesLogger(() => {}),
      }),
    ).rejects.toMatchObject({ code: 'tls_files_invalid', message: expect.stringContaining('is not the key of') });
    await expect(
      startHub({
        port: 0,
        dataDir: path.join(dir, 'data'),
        tls: { certFile: path.join(dir, 'missing.crt'), keyFile: leaves[0]!.keyFile },
        logger: jsonLinesLogger(() => {}),
      }),
    ).rejects.toMatchObject({ code: 'tls_files_invalid', message: expect.stringContaining('(ENOENT)') });
  });
});

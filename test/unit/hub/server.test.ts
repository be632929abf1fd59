// @vitest-environment node
import net from 'node:net';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { enrollmentCodeHash, generateEnrollmentCode, normalizeEnrollmentCode } from '../../../hub/enrollment';
import { silentLogger } from '../../../hub/logger';
import { startHub } from '../../../hub/server';
import { StoreError } from '../../../hub/store/errors';
import { key, tempDir } from './helpers';

describe('enrollment codes', () => {
  it('are 8 characters of the 20 consonants, shown XXXX-XXXX, with every letter in use', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const code = generateEnrollmentCode();
      expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
      for (const ch of code.replace('-', '')) seen.add(ch);
    }
    expect(seen.size).toBe(20);
  });

  it('normalize case, dashes and spaces; reject anything else', () => {
    expect(normalizeEnrollmentCode(' bcdf-ghjk ')).toBe('BCDFGHJK');
    expect(normalizeEnrollmentCode('BCDFGHJ')).toBeNull();
    expect(normalizeEnrollmentCode('BCDFGHJA')).toBeNull();
    expect(enrollmentCodeHash('bcdf ghjk')).toEqual(enrollmentCodeHash('BCDF-GHJK'));
    expect(() => enrollmentCodeHash('nope')).toThrow(RangeError);
  });
});

describe('startHub', () => {
  it('issues the code on the first start only, stores just its hash, and the code is one-time', async () => {
    const dataDir = tempDir();
    const first = await startHub({ port: 0, dataDir, logger: silentLogger, now: () => 1000 });
    expect(first.url).toBe(`http://127.0.0.1:${first.port}`);
    const code = first.enrollmentCode!;
    expect(code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    const res = await fetch(`${first.url}/v1/health`);
    expect(res.status).toBe(200);
    // What an enrolment route will do: create the account and consume the code in one transaction.
    await first.store.transaction(async () => {
      await first.store.accounts.create({ accountId: 'a', devicePublicKey: key(1), createdAt: 1000 });
      await first.store.enrollment.consume(enrollmentCodeHash(code), 'a', 1001);
    });
    await expect(first.store.enrollment.consume(enrollmentCodeHash(code), 'a', 1002)).rejects.toThrow(StoreError);
    await first.close();

    const second = await startHub({ port: 0, dataDir, logger: silentLogger });
    expect(second.enrollmentCode).toBeNull();
    await second.close();
  });

  it('refuses a non-loopback host without TLS or a trusted proxy, and without a public origin', async () => {
    const dataDir = path.join(tempDir(), 'hub');
    await expect(startHub({ port: 0, dataDir, host: '0.0.0.0', logger: silentLogger })).rejects.toMatchObject({
      code: 'listen_refused',
      message: expect.stringContaining('needs TLS (--tls-cert FILE --tls-key FILE) or a trusted reverse proxy'),
    });
    await expect(
      startHub({ port: 0, dataDir, host: '0.0.0.0', trustedProxies: ['127.0.0.2'], logger: silentLogger }),
    ).rejects.toMatchObject({ code: 'listen_refused', message: expect.stringContaining('without a public origin') });
    // Refused before anything was opened: no database was created.
    expect(existsSync(dataDir)).toBe(false);
  });

  it('a busy port rejects with EADDRINUSE and does not burn the enrollment code', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const dataDir = path.join(tempDir(), 'hub');
    try {
      await expect(startHub({ port, dataDir, logger: silentLogger })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      blocker.close();
    }
    const hub = await startHub({ port: 0, dataDir, logger: silentLogger });
    expect(hub.enrollmentCode).not.toBeNull();
    await hub.close();
  });

  it('close() does not hang on an idle keep-alive socket, and closes the store', async () => {
    const hub = await startHub({ port: 0, dataDir: tempDir(), logger: silentLogger });
    await fetch(`${hub.url}/v1/health`); // leaves an idle keep-alive socket
    const started = performance.now();
    await hub.close();
    expect(performance.now() - started).toBeLessThan(2000);
    await expect(hub.store.accounts.count()).rejects.toThrow();
  });
});

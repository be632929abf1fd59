// Pages reach the background over a MessagePort posted to the extension's service worker (lib/ext/rpc/port-client.ts,
// port-server.ts; issue 17: structured clone carries a 10,000-item list in a third of runtime messaging's time).
// Here in real Chromium: the page's calls take that path, bytes arrive as bytes, and a call whose worker is stopped
// while it answers ends in an error the person sees instead of a spinner forever.
import net from 'node:net';
import { createVault, PASSPHRASE } from './helpers';
import { expect, test } from './fixtures';

test('an extension page calls the background over the service worker port, bytes structured-cloned', async ({
  openVault,
}) => {
  const vault = await openVault();
  await createVault(vault, PASSPHRASE, 'floor');
  await expect(vault.getByRole('tab', { name: 'Agents' })).toBeVisible();
  // The same message port-client.ts posts, answered by the vault service behind port-server.ts.
  const answer = await vault.evaluate(async () => {
    const worker = (await navigator.serviceWorker.getRegistration())?.active;
    if (!worker) return null;
    const res = await new Promise<{ ok: boolean; value: { state: string; header: { salt: unknown } } }>((resolve) => {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = (e) => resolve(e.data as { ok: boolean; value: { state: string; header: { salt: unknown } } });
      worker.postMessage({ channel: 'clawkeep.vault.rpc', method: 'status', args: [], id: crypto.randomUUID() }, [
        port2,
      ]);
    });
    return { ok: res.ok, state: res.value.state, saltIsBytes: res.value.header.salt instanceof Uint8Array };
  });
  // Bytes cross as bytes, not as `{$bytes: base64}` (which runtime messaging needs).
  expect(answer).toEqual({ ok: true, state: 'unlocked', saltIsBytes: true });
});

test('a call the worker is stopped in the middle of ends with an error on the page, not a spinner forever', async ({
  context,
  openVault,
}) => {
  // A "hub" that accepts connections and never answers: the enroll request stays in flight in the worker.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const vault = await openVault();
    await createVault(vault, PASSPHRASE, 'floor');
    await vault.getByRole('tab', { name: 'Agents' }).click();
    await vault.getByLabel('Hub URL').fill(`http://127.0.0.1:${port}`);
    await vault.getByRole('button', { name: 'Save hub URL' }).click();
    await expect(vault.getByText('Hub URL saved')).toBeVisible();
    await vault.getByLabel('Enrollment code').fill('ABCD-EFGH-IJKL');
    await vault.getByRole('button', { name: 'Enroll' }).click();
    await expect.poll(() => sockets.size, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect(vault.getByRole('button', { name: 'Enroll' })).toBeDisabled();

    const cdp = await context.newCDPSession(vault);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');

    // Two liveness questions answered "no" by the restarted worker (2 s apart), then the page says so.
    await expect(vault.getByText('The Clawkeep background stopped before it answered. Try again.')).toBeVisible({
      timeout: 15_000,
    });
    await expect(vault.getByRole('button', { name: 'Enroll' })).toBeEnabled();
    // Nothing the person typed is lost: the code is still there to try again.
    await expect(vault.getByLabel('Enrollment code')).toHaveValue('ABCD-EFGH-IJKL');
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

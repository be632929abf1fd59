import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { INTEL_SGX_ROOT_CA_DER_BASE64 } from '../../lib/attest/intel-root';
import { EXTENSION_DIR, expect, test } from './fixtures';
import { createVault, PASSPHRASE } from './helpers';
import { selfSignedTestRootDer } from './tee-certificate-test-root';
import { PccsSimulator } from '../../sim/pccs/pccs-simulator';
import { loadCollateralFixtures } from '../sim/collateral-fixtures';

// Real quotes and Intel-signed collateral (copied from ../shared/fixtures/tdx, see test/fixtures/tdx/README.md).
const TDX = fileURLToPath(new URL('../fixtures/tdx/', import.meta.url));
const fixture = (rel: string): string => path.join(TDX, rel);
const UPTODATE_QUOTE = fixture('quotes/tdx-v4-b0c06f-2025.bin');
const TAPPD_QUOTE = fixture('quotes/tdx-v4-b0c06f-tappd-2024.bin');
const COLLATERAL_2025 = fixture('collateral/tdx-b0c06f-2025-06-19.json');
const SIM_2025_QUOTE_HEX = fixture('dstack/sim-2025/quote.hex');
const SIM_2025_EVENT_LOG = fixture('dstack/sim-2025/eventlog.json');
// The fixtures' collateral set is valid 2025-06-19T10:32:27Z .. 2025-07-19T10:00:35Z.
const IN_WINDOW = '2025-07-01T00:00';

const hexOf = (file: string): string => readFileSync(file).toString('hex');
// The pinned root is what a chain to Intel is checked against: code that can verify carries it, code that cannot does not.
const ROOT_MARKER = INTEL_SGX_ROOT_CA_DER_BASE64.slice(0, 48);

function builtJsFiles(dir = EXTENSION_DIR): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .map((f) => path.join(dir, f));
}

/** Every script vault.html loads on the main thread: its module scripts, preloads and their static/dynamic imports. */
function vaultPageScripts(): string[] {
  const html = readFileSync(path.join(EXTENSION_DIR, 'vault.html'), 'utf8');
  const queue = [...html.matchAll(/(?:src|href)="([^"]+\.js)"/g)].map((m) => path.join(EXTENSION_DIR, m[1]!));
  const seen = new Set<string>();
  while (queue.length) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/(?:from\s*|import\(\s*)["'`](\.{1,2}\/[^"'`]+\.js)["'`]/g))
      queue.push(path.resolve(path.dirname(file), m[1]!));
  }
  return [...seen];
}

function attestWorkerChunk(): string {
  const found = builtJsFiles().filter((f) => /attest\.worker[^/]*\.js$/.test(f));
  expect(found, 'exactly one built attest worker chunk').toHaveLength(1);
  return found[0]!;
}

async function openTeeTab(openVault: () => Promise<Page>): Promise<Page> {
  const page = await openVault();
  await createVault(page, PASSPHRASE, 'floor');
  await page.getByRole('tab', { name: 'TEE certificate' }).click();
  await expect(page.getByRole('heading', { name: 'Verify a TEE quote' })).toBeVisible();
  return page;
}

const attestWorkers = (page: Page) => page.workers().filter((w) => /attest\.worker/.test(w.url()));
const verdict = (page: Page) => page.locator('.tee-certificate').getByRole('status');
const row = (page: Page, label: string) =>
  page.locator('.tee-rows dt', { hasText: label }).locator('xpath=following-sibling::dd[1]');

test('pasted up-to-date quote + collateral: "Verified: genuine Intel TDX", UpToDate, computed in the attest worker', async ({
  openVault,
}) => {
  const page = await openTeeTab(openVault);
  await page.getByLabel('Quote (hex)').fill(hexOf(UPTODATE_QUOTE));
  await page.getByLabel('Collateral (JSON)').fill(readFileSync(COLLATERAL_2025, 'utf8'));
  await page.getByLabel('Verification time').fill(IN_WINDOW);

  // The worker starts lazily: none before the first verification.
  expect(attestWorkers(page)).toHaveLength(0);

  // Without Web Workers the page cannot verify at all: it has no verifier of its own to fall back on.
  await page.evaluate(() => {
    const w = window as unknown as { Worker: typeof Worker; realWorker?: typeof Worker };
    w.realWorker = w.Worker;
    w.Worker = class {
      constructor() {
        throw new Error('workers disabled by the test');
      }
    } as unknown as typeof Worker;
  });
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert')).toContainText('Cannot verify');
  await expect(page.locator('.tee-certificate')).toHaveCount(0);
  await page.evaluate(() => {
    const w = window as unknown as { Worker: typeof Worker; realWorker?: typeof Worker };
    w.Worker = w.realWorker!;
  });

  const workerStarted = page.waitForEvent('worker', { predicate: (w) => /attest\.worker/.test(w.url()) });
  await page.getByRole('button', { name: 'Verify' }).click();
  const worker = await workerStarted;
  await expect(verdict(page)).toHaveText('Verified: genuine Intel TDX');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(row(page, "Signed by Intel's root")).toHaveText('Yes');
  await expect(row(page, 'TCB status')).toContainText('UpToDate');
  await expect(row(page, 'TCB status')).toContainText('No security advisories');
  await expect(row(page, 'What code runs')).toContainText('91eb2b44d141d4ec');
  await expect(row(page, 'What code runs')).toContainText('No dstack event log given');
  await expect(row(page, 'Debug mode')).toHaveText('Off');
  await expect(row(page, 'Checked')).toContainText('2025-07-01 00:00:00 UTC');
  await expect(row(page, 'Checked')).toContainText('2025-06-19 10:32:27 UTC to 2025-07-19 10:00:35 UTC');

  // One attest worker, running the built worker chunk, and it is the only code that carries Intel's root.
  expect(attestWorkers(page)).toHaveLength(1);
  const chunk = attestWorkerChunk();
  expect(new URL(worker.url()).pathname).toBe(`/${path.relative(EXTENSION_DIR, chunk).split(path.sep).join('/')}`);
  expect(readFileSync(chunk, 'utf8')).toContain(ROOT_MARKER);
  const pageCode = vaultPageScripts();
  expect(pageCode.length).toBeGreaterThan(1);
  expect(pageCode).not.toContain(chunk);
  for (const file of pageCode)
    expect(readFileSync(file, 'utf8').includes(ROOT_MARKER), `${path.basename(file)} carries the root`).toBe(false);

  // A second verification reuses the same worker.
  await page.getByLabel('Verification time').fill('2025-07-02T12:00');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(row(page, 'Checked')).toContainText('2025-07-02 12:00:00 UTC');
  expect(attestWorkers(page)).toHaveLength(1);

  // Details: every field and every check, and the full JSON.
  await page.getByText('Details', { exact: true }).click();
  const details = page.locator('.tee-fields');
  for (const label of [
    'MRTD',
    'RTMR0',
    'RTMR3',
    'MRCONFIGID',
    'MROWNER',
    'REPORTDATA',
    'TD attributes',
    'FMSPC',
    'PCK CRL',
    'Checks',
  ]) {
    await expect(details.locator('dt', { hasText: label }).first()).toBeVisible();
  }
  await expect(details).toContainText('B0C06F000000');
  await expect(details).toContainText('0000001000000000');
  await expect(page.locator('.tee-checks li').first()).toBeVisible();
  await expect(page.locator('.tee-checks li.tee-no')).toHaveCount(0);
  const json = JSON.parse((await page.locator('.tee-json').textContent()) ?? '');
  expect(json).toMatchObject({
    verified: true,
    status: 'UpToDate',
    teeType: 'TDX',
    fmspc: 'B0C06F000000',
    verifiedAt: '2025-07-02T12:00:00.000Z',
  });
  await page.getByRole('button', { name: 'Copy JSON' }).click();
  await expect(page.getByRole('button', { name: /Copied JSON|Copy failed/ })).toBeVisible();
});

test('uploaded files: a binary quote matching no TCB level is "Not verified: no TCB level …", yet signed by Intel', async ({
  openVault,
}) => {
  const page = await openTeeTab(openVault);
  await page.getByLabel('Quote file').setInputFiles(TAPPD_QUOTE);
  await expect(page.getByText(/Using tdx-v4-b0c06f-tappd-2024\.bin \(\d+ bytes\)/)).toBeVisible();
  await page.getByLabel('Collateral file').setInputFiles(COLLATERAL_2025);
  await expect(page.getByLabel('Collateral (JSON)')).toHaveValue(/"tcb_info"/);
  await page.getByLabel('Verification time').fill(IN_WINDOW);
  await page.getByRole('button', { name: 'Verify' }).click();

  await expect(verdict(page)).toContainText('Not verified: no TCB level matches this machine');
  await expect(row(page, "Signed by Intel's root")).toHaveText('Yes');
  await expect(row(page, 'TCB status')).toContainText('no TCB level');
  const json = JSON.parse((await page.locator('.tee-json').textContent()) ?? '');
  expect(json.verified).toBe(false);
  expect(json.error.code).toBe('tcb_level_not_found');

  // The same binary upload of the up-to-date quote verifies.
  await page.getByLabel('Quote file').setInputFiles(UPTODATE_QUOTE);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(verdict(page)).toHaveText('Verified: genuine Intel TDX');
});

test('dstack sim-2025: hex quote file + event log shows compose hash, app id and key provider', async ({
  openVault,
}) => {
  const page = await openTeeTab(openVault);
  await page.getByLabel('Quote file').setInputFiles(SIM_2025_QUOTE_HEX);
  await page.getByLabel('Collateral (JSON)').fill(readFileSync(COLLATERAL_2025, 'utf8'));
  await page.getByLabel('Event log (JSON)').fill(readFileSync(SIM_2025_EVENT_LOG, 'utf8'));
  await page.getByLabel('Verification time').fill(IN_WINDOW);
  await page.getByRole('button', { name: 'Verify' }).click();

  // Its platform is below every TCB level (expected.json: dstack-sim-2025-no-tcb-level), the identity still reads.
  await expect(verdict(page)).toContainText('Not verified: no TCB level');
  const code = row(page, 'What code runs');
  await expect(code).toContainText('ea549f02e1a25fabd1cb788380e033ec5461b2ffe4328d753642cf035452e48b');
  await expect(code).toContainText('ea549f02e1a25fabd1cb788380e033ec5461b2ff');
  await expect(code).toContainText('The event log replays to the quote’s RTMRs.');
  await page.getByText('Details', { exact: true }).click();
  await expect(page.locator('.tee-fields')).toContainText('59df8036b824b0aac54f8998b9e1fb2a0cfc5d3a');
  await expect(page.locator('.tee-fields')).toContainText('kms');

  // Expected values: the compose file shipped next to the simulator is NOT what it measured (README), the app id is.
  const notMeasured = createHash('sha256')
    .update(readFileSync(fixture('dstack/sim-2025/app-compose.NOT-MEASURED.json')))
    .digest('hex');
  await page.getByLabel('Expected compose hash').fill(notMeasured);
  await page.getByLabel('Expected app id').fill('ea549f02e1a25fabd1cb788380e033ec5461b2ff');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(code).toContainText('✗ Compose hash is not the one you expected');
  await expect(code).toContainText(`expected ${notMeasured.slice(0, 8)}`);
  await expect(code).toContainText('✓ App id is the one you expected.');
  await page
    .getByLabel('Expected compose hash')
    .fill('ea549f02e1a25fabd1cb788380e033ec5461b2ffe4328d753642cf035452e48b');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(code).toContainText('✓ Compose hash is the one you expected.');
  // Still not verified: an identity read from a rejected quote is shown, never trusted.
  await expect(verdict(page)).toContainText('Not verified');
  await expect(code).toContainText('Read from a quote that was not verified');

  await page.getByLabel('Expected compose hash').fill('abc');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert')).toContainText('64 hex digits');
});

test('garbage input: a clear alert, no certificate, and the page and worker keep working', async ({ openVault }) => {
  const page = await openTeeTab(openVault);
  const errors: Error[] = [];
  page.on('pageerror', (e) => errors.push(e));

  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert')).toContainText('Paste the quote as hex');

  await page.getByLabel('Quote (hex)').fill('this is not a quote, zz!');
  await page.getByLabel('Collateral (JSON)').fill(readFileSync(COLLATERAL_2025, 'utf8'));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert')).toContainText('Cannot verify: the quote could not be read');
  await expect(page.locator('.tee-certificate')).toHaveCount(0);

  await page.getByLabel('Quote (hex)').fill(hexOf(UPTODATE_QUOTE));
  await page.getByLabel('Collateral (JSON)').fill('{"tcb_info": ');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert')).toContainText('Cannot verify: the collateral could not be read');

  // Hex that decodes but is no quote (a truncated real one).
  await page.getByLabel('Quote (hex)').fill(hexOf(UPTODATE_QUOTE).slice(0, 600));
  await page.getByLabel('Collateral (JSON)').fill(readFileSync(COLLATERAL_2025, 'utf8'));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert')).toContainText('Cannot verify');

  await page.getByLabel('Verification time').fill(IN_WINDOW);
  await page.getByLabel('Quote (hex)').fill(hexOf(UPTODATE_QUOTE));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(verdict(page)).toHaveText('Verified: genuine Intel TDX');
  await expect(page.getByRole('alert')).toHaveCount(0);
  expect(attestWorkers(page)).toHaveLength(1);
  expect(errors).toEqual([]);
});

test('web vault: the same tab verifies in its own attest worker', async ({ context, webVault }) => {
  const page = await context.newPage();
  await page.goto(webVault.url);
  await createVault(page, PASSPHRASE, 'floor');
  await page.getByRole('tab', { name: 'TEE certificate' }).click();
  await page.getByLabel('Quote (hex)').fill(hexOf(UPTODATE_QUOTE));
  await page.getByLabel('Collateral (JSON)').fill(readFileSync(COLLATERAL_2025, 'utf8'));
  await page.getByLabel('Verification time').fill(IN_WINDOW);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(verdict(page)).toHaveText('Verified: genuine Intel TDX');
  await expect(row(page, 'TCB status')).toContainText('UpToDate');
  expect(attestWorkers(page)).toHaveLength(1);
});

test('the production extension build refuses a test trust anchor (test_anchor_forbidden)', async ({ openVault }) => {
  const page = await openVault();
  const workerUrl = `/${path.relative(EXTENSION_DIR, attestWorkerChunk()).split(path.sep).join('/')}`;
  const anchors = {
    foreign: [...(await selfSignedTestRootDer())],
    intel: [...Buffer.from(INTEL_SGX_ROOT_CA_DER_BASE64, 'base64')],
  };

  // The built worker chunk, started by hand in the extension page and called over comlink's wire protocol:
  // no hook exists in the product for this, and none is needed.
  const results = await page.evaluate(
    async ({ workerUrl, quote, collateral, anchors }) => {
      const worker = new Worker(workerUrl, { type: 'module' });
      let next = 0;
      const call = (options: object) =>
        new Promise<{ verified: boolean; testTrustAnchor: boolean; error: { code: string } | null }>(
          (resolve, reject) => {
            const id = `e2e-${next++}`;
            const onMessage = (e: MessageEvent) => {
              if (e.data?.id !== id) return;
              worker.removeEventListener('message', onMessage);
              if (e.data.type === 'RAW') resolve(e.data.value);
              else reject(new Error(`unexpected reply ${JSON.stringify(e.data)}`));
            };
            worker.addEventListener('message', onMessage);
            const raw = (value: unknown) => ({ type: 'RAW', value });
            worker.postMessage({
              id,
              type: 'APPLY',
              path: ['verify'],
              argumentList: [raw(new Uint8Array(quote)), raw(collateral), raw(options)],
            });
          },
        );
      const now = new Date('2025-07-01T00:00:00Z');
      const out = {
        plain: await call({ now }),
        foreign: await call({ now, testTrustAnchor: { rootCertDer: new Uint8Array(anchors.foreign) } }),
        intel: await call({ now, testTrustAnchor: { rootCertDer: new Uint8Array(anchors.intel) } }),
      };
      worker.terminate();
      return out;
    },
    {
      workerUrl,
      quote: [...readFileSync(UPTODATE_QUOTE)],
      collateral: JSON.parse(readFileSync(COLLATERAL_2025, 'utf8')),
      anchors,
    },
  );

  // The hand-made call reaches the real verifier: without an anchor the same quote verifies.
  expect(results.plain).toMatchObject({ verified: true, testTrustAnchor: false, error: null });
  // Any test root is refused, even one with the very bytes of Intel's root.
  for (const result of [results.foreign, results.intel]) {
    expect(result.verified).toBe(false);
    expect(result.testTrustAnchor).toBe(false);
    expect(result.error?.code).toBe('test_anchor_forbidden');
  }
});

test('"Fetch from a PCCS": the worker fetches the collateral from a PCCS (simulator), verifies, and reuses it from its cache', async ({
  openVault,
}) => {
  const sim = await PccsSimulator.start();
  try {
    const fixtures = await loadCollateralFixtures();
    sim.publish(fixtures.find((f) => f.name === 'tdx-b0c06f-2025-06-19.json')!.collateral);
    const page = await openTeeTab(openVault);
    await page.getByLabel('Quote (hex)').fill(hexOf(UPTODATE_QUOTE));
    await page.getByLabel('Fetch from a PCCS').check();
    await expect(page.getByLabel('Collateral (JSON)')).toHaveCount(0);
    await page.getByLabel('PCCS URL').fill(sim.url);
    await page.getByLabel('Verification time').fill(IN_WINDOW);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(verdict(page)).toHaveText('Verified: genuine Intel TDX');
    await expect(row(page, 'TCB status')).toContainText('UpToDate');
    // TCB info for the quote's own FMSPC, the TDX QE identity, the Platform CA's CRL (read from the PCK leaf).
    expect(sim.requests.some((r) => r.startsWith('/tdx/certification/v4/tcb?fmspc=B0C06F000000'))).toBe(true);
    expect(sim.requests.some((r) => r.startsWith('/tdx/certification/v4/qe/identity'))).toBe(true);
    expect(sim.requests.some((r) => /\/pckcrl\?ca=platform/.test(r))).toBe(true);
    const fetched = sim.requests.length;

    // Still fresh at the second verification time: answered from IndexedDB, no request.
    await page.getByLabel('Verification time').fill('2025-07-02T00:00');
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(row(page, 'Checked')).toContainText('2025-07-02 00:00:00 UTC');
    await expect(verdict(page)).toHaveText('Verified: genuine Intel TDX');
    expect(sim.requests.length).toBe(fetched);

    // A PCCS that fails: a clear message, nothing verified.
    sim.failNext('*', { kind: 'status', status: 500 }, 10);
    await page.getByLabel('Verification time').fill('2025-07-20T00:00'); // past the cached collateral's expiry
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('alert')).toContainText(/collateral|PCCS/i);
    await expect(page.getByText('Verified: genuine Intel TDX')).toHaveCount(0);
  } finally {
    await sim.close();
  }
});

// ---- Issue 15: genuine-but-stale collateral, the UTC time field, chosen files, Verify within reach. ----------------

// README: this set's documents are valid together 2025-06-19T10:32:27Z .. 2025-07-19T10:00:35Z.
const AFTER_WINDOW = '2025-08-01T00:00:00Z';
const staleSection = (page: Page) =>
  page.locator('.tee-certificate').getByRole('region', { name: 'Collateral out of date' });

async function shoot(page: Page, name: string): Promise<void> {
  const shots = process.env.CLAWKEEP_SHOTS_DIR;
  if (!shots) return;
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 800 });
    await page.locator('.tee-certificate').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${shots}/tee-${name}-${width}.png`, fullPage: false });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

test('must-show 5: a genuine quote with expired collateral is "genuine but stale", not "not Intel"; one click verifies it as a historical check', async ({
  openVault,
}) => {
  const page = await openTeeTab(openVault);

  // The time field is UTC text, not a local 12-hour picker, and says so; a local or offset time is refused.
  const timeField = page.getByLabel('Verification time (UTC)');
  await expect(timeField).toHaveAttribute('type', 'text');
  await page.getByLabel('Quote (hex)').fill(hexOf(UPTODATE_QUOTE));

  // A chosen file stays visibly chosen, also after the field is hidden and shown again.
  await page.getByLabel('Collateral file').setInputFiles(COLLATERAL_2025);
  const chosen = page.getByText('Chosen: tdx-b0c06f-2025-06-19.json', { exact: false });
  await expect(chosen).toBeVisible();
  await page.getByLabel('Fetch from a PCCS').check();
  await page.getByLabel('Paste or upload').check();
  await expect(chosen).toBeVisible();
  await expect(page.getByLabel('Collateral (JSON)')).toHaveValue(/"tcb_info"/);

  await timeField.fill('08/01/2025 12:00 PM');
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('ISO 8601 UTC');
  await timeField.fill('2025-08-01T02:00:00+02:00');
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('must be in UTC');
  await expect(page.locator('.tee-certificate')).toHaveCount(0);

  // After the collateral window: genuine (signed by Intel's root) but stale, which documents, which window.
  await timeField.fill(AFTER_WINDOW);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await expect(verdict(page)).toHaveText('Not verified: genuine Intel TDX quote, but its collateral is out of date');
  await expect(row(page, "Signed by Intel's root")).toHaveText('Yes');
  const stale = staleSection(page);
  await expect(stale).toContainText('At 2025-08-01 00:00:00 UTC the TCB info, QE identity and PCK CRL had expired.');
  await expect(stale).toContainText('TCB info: valid 2025-06-19 10:16:03 UTC to 2025-07-19 10:16:03 UTC — expired');
  await expect(stale.getByTestId('tee-collateral-window')).toHaveText(
    'Collateral window (all documents valid): 2025-06-19 10:32:27 UTC to 2025-07-19 10:00:35 UTC.',
  );
  await expect(stale).toContainText('nothing is sealed to it');
  const json = JSON.parse((await page.locator('.tee-json').textContent()) ?? '');
  expect(json).toMatchObject({ verified: false, valid: false, verifiedAt: '2025-08-01T00:00:00.000Z' });
  expect(json.staleCollateral.window).toEqual({ from: '2025-06-19T10:32:27.000Z', to: '2025-07-19T10:00:35.000Z' });
  await shoot(page, 'stale');

  // Fix: verify at a time inside the window, labelled as a historical check; the time field shows that time.
  await stale.getByRole('button', { name: 'Verify at 2025-07-19 10:00:35 UTC (historical check)' }).click();
  await expect(verdict(page)).toHaveText('Verified: genuine Intel TDX');
  await expect(page.getByTestId('tee-historical')).toContainText('as of 2025-07-19 10:00:35 UTC, not now');
  await expect(timeField).toHaveValue('2025-07-19T10:00:35Z');
  await expect(staleSection(page)).toHaveCount(0);
  await shoot(page, 'verified-historical');

  // Attacker: the same expired collateral with an altered quote is NOT "genuine but stale".
  const forged = Buffer.from(readFileSync(UPTODATE_QUOTE));
  forged[700] = forged[700]! ^ 0x01; // inside the quote signature
  await page.getByLabel('Quote (hex)').fill(forged.toString('hex'));
  await timeField.fill(AFTER_WINDOW);
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await expect(verdict(page)).toContainText('Not verified');
  await expect(verdict(page)).not.toContainText('genuine');
  await expect(row(page, "Signed by Intel's root")).not.toHaveText('Yes');
  await expect(staleSection(page)).toHaveCount(0);
});

test('must-show 5: stale collateral from a PCCS (an out-of-date root CRL) is fixed by one click on "Fetch fresh collateral"', async ({
  openVault,
}) => {
  const sim = await PccsSimulator.start();
  try {
    const fixtures = await loadCollateralFixtures();
    const current = fixtures.find((f) => f.name === 'tdx-b0c06f-2025-06-19.json')!.collateral;
    const old = fixtures.find((f) => f.name.startsWith('WRONG-sgx-typed-for-b0c06f-2024-09-02'))!.collateral;
    // A PCCS that stopped refreshing its root CA CRL: every document Intel-signed, the root CRL expired 2025-04-03.
    sim.publish({ ...current, root_ca_crl: old.root_ca_crl });
    const page = await openTeeTab(openVault);
    await page.getByLabel('Quote (hex)').fill(hexOf(UPTODATE_QUOTE));
    await page.getByLabel('Fetch from a PCCS').check();
    await page.getByLabel('PCCS URL').fill(sim.url);
    await page.getByLabel('Verification time (UTC)').fill('2025-07-01T00:00:00Z');
    await page.getByRole('button', { name: 'Verify', exact: true }).click();

    await expect(verdict(page)).toHaveText('Not verified: genuine Intel TDX quote, but its collateral is out of date');
    const stale = staleSection(page);
    await expect(stale).toContainText('Root CA CRL: valid 2024-03-20');
    await expect(stale.getByTestId('tee-collateral-window')).toContainText('never valid at the same time');
    // No time fits every document: no historical check is offered, only fresh collateral.
    await expect(stale.getByRole('button', { name: /Verify at/ })).toHaveCount(0);

    // The PCCS refreshes; one click fetches again (the stale answer was never cached) and verifies at the same time.
    sim.publish(current);
    const before = sim.requests.length;
    await stale.getByRole('button', { name: `Fetch fresh collateral from ${new URL(sim.url).host}` }).click();
    await expect(verdict(page)).toHaveText('Verified: genuine Intel TDX');
    await expect(row(page, 'Checked')).toContainText('2025-07-01 00:00:00 UTC');
    expect(sim.requests.length).toBeGreaterThan(before);
    await expect(page.getByTestId('tee-historical')).toBeVisible(); // 2025 is not now
  } finally {
    await sim.close();
  }
});

test('Verify is on screen without scrolling past the form, at 360 px and 1280 px', async ({ openVault }) => {
  const page = await openTeeTab(openVault);
  for (const [width, height] of [
    [360, 740],
    [1280, 800],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.evaluate(() => window.scrollTo(0, 0));
    await expect(page.getByRole('button', { name: 'Verify', exact: true })).toBeInViewport({ ratio: 1 });
    // Also half-way down the form (e.g. while filling the event log).
    await page.getByLabel('Event log (JSON)').scrollIntoViewIfNeeded();
    await expect(page.getByRole('button', { name: 'Verify', exact: true })).toBeInViewport({ ratio: 1 });
  }
});

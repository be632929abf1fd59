import { readFileSync } from 'node:fs';
import path from 'node:path';
import { render } from 'preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TeeCertificate } from '../../../components/tee/tee-certificate';
import type { AttestRunner, AttestVerifyRequest } from '../../../workers/attest-api';
import { attestWorkerApi } from '../../../workers/attest.worker';
import { waitFor as waitForIn } from './wait-for';

// The real verifier, run in-thread instead of in a Web Worker (happy-dom has none); requests are counted so a test
// can tell the form called the runner and nothing else.
const requests: AttestVerifyRequest[] = [];
const inThreadRunner: AttestRunner = {
  verify: (request) => {
    requests.push(request);
    return attestWorkerApi.verifyInput(request);
  },
  dispose: () => {},
};

const TDX = path.resolve(process.cwd(), 'test/fixtures/tdx');
const read = (rel: string): Buffer => readFileSync(path.join(TDX, rel));
const UPTODATE_HEX = read('quotes/tdx-v4-b0c06f-2025.bin').toString('hex');
const TAPPD_HEX = read('quotes/tdx-v4-b0c06f-tappd-2024.bin').toString('hex');
const COLLATERAL = read('collateral/tdx-b0c06f-2025-06-19.json').toString('utf8');

let root: HTMLElement;

const waitFor = <T,>(find: () => T | null | undefined | false, what: string, timeoutMs?: number): Promise<T> =>
  waitForIn(() => root, find, what, timeoutMs);

function byLabel(text: string): HTMLInputElement | HTMLTextAreaElement {
  const label = [...root.querySelectorAll('label')].find((l) => l.textContent?.trim() === text);
  const el = label?.htmlFor ? root.ownerDocument.getElementById(label.htmlFor) : null;
  if (!el) throw new Error(`no field labelled "${text}"`);
  return el as HTMLInputElement;
}

// Preact renders state changes asynchronously: let it catch up before the next step reads or submits.
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

async function fill(label: string, value: string): Promise<void> {
  const el = byLabel(label);
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  await settle();
}

async function verify(): Promise<void> {
  const button = [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Verify');
  if (!button) throw new Error('no Verify button');
  button.click();
  await settle();
  await waitFor(
    () => [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Verify' && !b.disabled),
    'the verification to end',
  );
  await settle();
}

const verdict = (): string => root.querySelector('.tee-certificate [role="status"]')?.textContent ?? '';
const alerts = (): string[] => [...root.querySelectorAll('[role="alert"]')].map((a) => a.textContent ?? '');
function rowText(label: string): string {
  const dt = [...root.querySelectorAll('.tee-rows dt')].find((d) => d.textContent === label);
  return dt?.nextElementSibling?.textContent ?? '';
}

beforeEach(() => {
  requests.length = 0;
  root = document.createElement('div');
  document.body.append(root);
  render(<TeeCertificate runner={inThreadRunner} />, root);
});

afterEach(() => {
  render(null, root);
  root.remove();
});

describe('TeeCertificate', () => {
  it('labels every input', () => {
    for (const label of [
      'Quote (hex)',
      'Quote file',
      'Collateral (JSON)',
      'Collateral file',
      'Verification time (UTC)',
      'Event log (JSON)',
    ]) {
      expect(byLabel(label)).toBeTruthy();
    }
  });

  it('shows the certificate of an up-to-date quote, read at the given UTC time', async () => {
    await fill('Quote (hex)', UPTODATE_HEX);
    await fill('Collateral (JSON)', COLLATERAL);
    await fill('Verification time (UTC)', '2025-07-01T00:00');
    await verify();
    await waitFor(() => verdict(), 'the verdict');
    expect(verdict()).toBe('Verified: genuine Intel TDX');
    expect(rowText("Signed by Intel's root")).toBe('Yes');
    expect(rowText('TCB status')).toContain('UpToDate');
    expect(rowText('TCB status')).toContain('all of Intel’s current security updates');
    expect(rowText('What code runs')).toContain('No dstack event log given');
    expect(rowText('Debug mode')).toBe('Off');
    expect(rowText('Checked')).toContain('2025-07-01 00:00:00 UTC');
    expect(rowText('Checked')).toContain('Collateral valid 2025-06-19 10:32:27 UTC to 2025-07-19 10:00:35 UTC');
    expect(alerts()).toEqual([]);
    // The form handed raw text to the runner: parsing and verification are the worker's job.
    expect(requests).toHaveLength(1);
    expect(typeof requests[0]!.quote).toBe('string');
    expect(typeof requests[0]!.collateral).toBe('string');
    expect(requests[0]!.options?.now).toEqual(new Date('2025-07-01T00:00:00Z'));
  });

  it('says in words why a quote matching no TCB level is not verified', async () => {
    await fill('Quote (hex)', TAPPD_HEX);
    await fill('Collateral (JSON)', COLLATERAL);
    await fill('Verification time (UTC)', '2025-07-01T00:00');
    await verify();
    await waitFor(() => verdict(), 'the verdict');
    expect(verdict()).toMatch(/^Not verified: no TCB level matches this machine/);
    expect(rowText("Signed by Intel's root")).toBe('Yes');
  });

  it('expired collateral at the current time is a "Not verified" certificate, not a crash', async () => {
    await fill('Quote (hex)', UPTODATE_HEX);
    await fill('Collateral (JSON)', COLLATERAL);
    await verify();
    await waitFor(() => verdict(), 'the verdict');
    expect(verdict()).toMatch(/^Not verified: .*(expired|out of date)/);
  });

  it('genuine quote, expired collateral: stale with its window; "Verify at" re-runs at that time, labelled historical', async () => {
    await fill('Quote (hex)', UPTODATE_HEX);
    await fill('Collateral (JSON)', COLLATERAL);
    await fill('Verification time (UTC)', '2025-08-01T00:00:00Z');
    await verify();
    await waitFor(() => verdict(), 'the verdict');
    expect(verdict()).toBe('Not verified: genuine Intel TDX quote, but its collateral is out of date');
    expect(rowText("Signed by Intel's root")).toBe('Yes');
    const stale = root.querySelector('.tee-stale')!;
    expect(stale.textContent).toContain('2025-06-19 10:32:27 UTC to 2025-07-19 10:00:35 UTC');
    const fix = [...stale.querySelectorAll('button')].find((b) => b.textContent?.startsWith('Verify at'))!;
    expect(fix.textContent).toBe('Verify at 2025-07-19 10:00:35 UTC (historical check)');
    fix.click();
    await waitFor(() => verdict() === 'Verified: genuine Intel TDX', 'the historical verdict');
    expect(requests.at(-1)!.options?.now).toEqual(new Date('2025-07-19T10:00:35Z'));
    expect((byLabel('Verification time (UTC)') as HTMLInputElement).value).toBe('2025-07-19T10:00:35Z');
    expect(root.querySelector('[data-testid="tee-historical"]')?.textContent).toContain('not now');
  });

  it('the time field reads UTC only: offsets other than Z and impossible dates are refused, nothing is verified', async () => {
    await fill('Quote (hex)', UPTODATE_HEX);
    await fill('Collateral (JSON)', COLLATERAL);
    for (const [value, message] of [
      ['07/01/2025 12:00 PM', 'ISO 8601 UTC'],
      ['2025-07-01T02:00:00+02:00', 'must be in UTC'],
      ['2025-02-30T00:00:00Z', 'not a real date'],
      ['2025-07-01T24:30:00Z', 'not a real date'],
    ] as const) {
      await fill('Verification time (UTC)', value);
      await verify();
      expect(alerts().join()).toContain(message);
    }
    expect(requests).toHaveLength(0);
    await fill('Verification time (UTC)', '2025-07-01 00:00:00+00:00');
    await verify();
    await waitFor(() => verdict(), 'the verdict');
    expect(requests[0]!.options?.now).toEqual(new Date('2025-07-01T00:00:00Z'));
  });

  it('shows alerts for missing, non-hex and non-JSON input, without a certificate, and keeps working', async () => {
    await verify();
    expect(alerts().join()).toContain('Paste the quote as hex');
    await fill('Quote (hex)', 'zz not hex');
    await verify();
    expect(alerts().join()).toContain('Paste the collateral JSON');
    await fill('Collateral (JSON)', COLLATERAL);
    await verify();
    await waitFor(() => alerts().join().includes('the quote could not be read'), 'the quote alert');
    await fill('Quote (hex)', UPTODATE_HEX);
    await fill('Collateral (JSON)', '{"tcb_info":');
    await verify();
    await waitFor(() => alerts().join().includes('the collateral could not be read'), 'the collateral alert');
    expect(root.querySelector('.tee-certificate')).toBeNull();
    // After the alerts, the same form still verifies.
    await fill('Collateral (JSON)', COLLATERAL);
    await fill('Verification time (UTC)', '2025-07-01T00:00');
    await verify();
    await waitFor(() => verdict(), 'the verdict');
    expect(verdict()).toBe('Verified: genuine Intel TDX');
    expect(alerts()).toEqual([]);
  });
});

// @vitest-environment node
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyQuote } from '../../../lib/attest/verify';
import { readCollateral, readQuote, TDX_FIXTURES } from './fixtures';

const eventLog = () => readFileSync(resolve(TDX_FIXTURES, 'dstack/sim-2025/eventlog.json'), 'utf8');
const now = Date.parse('2025-07-01T00:00:00Z');

describe('verifyQuote with a dstack event log', () => {
  it('reads the identity of an unverified quote for display, without verifying it', async () => {
    const r = await verifyQuote(
      readQuote('dstack/sim-2025/quote.hex'),
      readCollateral('collateral/tdx-b0c06f-2025-06-19.json'),
      {
        now,
        dstack: { eventLog: eventLog() },
      },
    );
    expect(r.verified).toBe(false);
    expect(r.error?.code).toBe('tcb_level_not_found');
    expect(r.dstack?.replayed).toBe(true);
    expect(r.dstack?.composeHash).toBe('ea549f02e1a25fabd1cb788380e033ec5461b2ffe4328d753642cf035452e48b');
    expect(r.dstack?.appId).toBe('ea549f02e1a25fabd1cb788380e033ec5461b2ff');
  });

  it('a log of another VM does not replay against this quote', async () => {
    const r = await verifyQuote(
      readQuote('quotes/tdx-v4-b0c06f-2025.bin'),
      readCollateral('collateral/tdx-b0c06f-2025-06-19.json'),
      {
        now,
        dstack: { eventLog: eventLog() },
      },
    );
    expect(r.valid).toBe(true);
    expect(r.verified).toBe(false);
    expect(r.error?.code).toBe('event_log_mismatch');
    expect(r.checks.at(-1)).toMatchObject({ id: 'dstack', ok: false });
  });

  it('garbage in place of a log is a typed error', async () => {
    const r = await verifyQuote(
      readQuote('quotes/tdx-v4-b0c06f-2025.bin'),
      readCollateral('collateral/tdx-b0c06f-2025-06-19.json'),
      {
        now,
        dstack: { eventLog: '{not json' },
      },
    );
    expect(r.verified).toBe(false);
    expect(r.error?.code).toBe('event_log_malformed');
  });

  it('an event log with an SGX quote is refused', async () => {
    const r = await verifyQuote(
      readQuote('quotes/sgx-v3-00a067110000.bin'),
      readCollateral('collateral/sgx-00a067110000-2025-06-19.json'),
      {
        now,
        policy: { allowedStatuses: ['ConfigurationAndSWHardeningNeeded'] },
        dstack: { eventLog: eventLog() },
      },
    );
    expect(r.verified).toBe(false);
    expect(r.error?.code).toBe('event_log_malformed');
  });
});

describe('identity of a rejected quote', () => {
  it('is not read when the quote signature does not verify', async () => {
    const quote = readQuote('dstack/sim-2025/quote.hex').slice();
    quote[48 + 136]! ^= 1; // MRTD: signed region
    const r = await verifyQuote(quote, readCollateral('collateral/tdx-b0c06f-2025-06-19.json'), {
      now,
      dstack: { eventLog: eventLog() },
    });
    expect(r.error?.code).toBe('quote_signature_invalid');
    expect(r.dstack).toBeNull();
  });
});

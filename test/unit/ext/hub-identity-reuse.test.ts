// @vitest-environment node
// Which proof of the hub's identity a call may reuse (lib/ext/hub/hub-identity.ts, docs/threat-model.md §1 "A proof
// made while the card is shown"). The boundaries, with an injected clock: a person's decision on a card reuses only a
// proof whose challenge was made at or after the card was shown and is younger than CARD_PROOF_MAX_MS, for the same
// hub URL, and never one recorded across a dropped connection.
import { describe, expect, it } from 'vitest';
import { PREPARE_REFRESH_MS } from '../../../lib/ext/hub/hub-api';
import { CARD_PROOF_MAX_MS, HubIdentityCheck, IDENTITY_REUSE_MS } from '../../../lib/ext/hub/hub-identity';

const HUB = 'http://127.0.0.1:8787';
const T = 1_000_000;

function provedAt(at: number, hub = HUB): HubIdentityCheck {
  const check = new HubIdentityCheck();
  check.proved(hub, at, check.begin());
  return check;
}

describe('a decision on a card reuses only a proof made since the card was shown', () => {
  it('a proof begun at the moment the card was shown, or after, is reused', () => {
    expect(provedAt(T).freshSince(HUB, T, T)).toBe(true);
    expect(provedAt(T + 5).freshSince(HUB, T, T + 10)).toBe(true);
  });

  it('a proof begun 1 ms before the card was shown is not', () => {
    expect(provedAt(T - 1).freshSince(HUB, T, T)).toBe(false);
    // ...even though a background call could still reuse it.
    expect(provedAt(T - 1).fresh(HUB, T)).toBe(true);
  });

  it('is reused until CARD_PROOF_MAX_MS after its challenge, not at that age', () => {
    expect(provedAt(T).freshSince(HUB, T, T + CARD_PROOF_MAX_MS - 1)).toBe(true);
    expect(provedAt(T).freshSince(HUB, T, T + CARD_PROOF_MAX_MS)).toBe(false);
  });

  it('a clock that went backwards reuses nothing', () => {
    expect(provedAt(T).freshSince(HUB, T - 10, T - 1)).toBe(false);
  });

  it('only for the hub URL that proved it', () => {
    expect(provedAt(T).freshSince('http://127.0.0.1:8788', T, T + 1)).toBe(false);
  });

  it('a dropped connection forgets the proof, and a proof that began before the drop is not recorded after it', () => {
    const check = provedAt(T);
    check.forget();
    expect(check.freshSince(HUB, T, T + 1)).toBe(false);
    const started = check.begin();
    check.forget(); // the connection dropped while the proof was under way
    check.proved(HUB, T + 2, started);
    expect(check.freshSince(HUB, T, T + 3)).toBe(false);
    expect(check.fresh(HUB, T + 3)).toBe(false);
    check.proved(HUB, T + 4, check.begin());
    expect(check.freshSince(HUB, T, T + 5)).toBe(true);
  });

  it('the page asks again well before a proof grows too old to reuse', () => {
    expect(PREPARE_REFRESH_MS).toBeLessThan(CARD_PROOF_MAX_MS);
    // A card prepared on display and refreshed still has a proof younger than the limit when the next refresh starts.
    expect(CARD_PROOF_MAX_MS - PREPARE_REFRESH_MS).toBeGreaterThanOrEqual(IDENTITY_REUSE_MS);
  });
});

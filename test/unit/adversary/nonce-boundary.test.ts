// @vitest-environment node
// Someone who captured one signed request (a log, a proxy, a shared machine) replays it at the edge of the ±60 s
// window (issue 13 item 11). The nonce must still be remembered at every instant the timestamp check accepts,
// in both skew directions, including the pruning sweep running just before the replay.
import { describe, expect, it } from 'vitest';
import { signRequest } from '../../../lib/protocol/request-signing';
import { hubFixture, ORIGIN } from '../hub/flow';

/** Signs GET /v1/agents/me at `signedAt` (the agent's clock), delivers it at `sentAt`, replays it at `replayAt`. */
async function replayAt(signedAt: number, sentAt: number, replayAt: number, prune: boolean) {
  const hub = await hubFixture();
  const agent = await hub.registeredAgent();
  const base = hub.clock.now;
  const headers = signRequest({
    role: 'agent',
    keyId: agent.keyId,
    privateKey: agent.privateKey,
    method: 'GET',
    path: '/v1/agents/me',
    hub: ORIGIN,
    now: base + signedAt,
  });
  const req = () => hub.app.request('/v1/agents/me', { headers: { ...headers } });
  hub.clock.now = base + sentAt;
  expect((await req()).status).toBe(200);
  hub.clock.now = base + replayAt;
  if (prune) await hub.store.nonces.prune(hub.clock.now);
  const res = await req();
  return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
}

describe('a captured signed request replayed at the edge of the window', () => {
  // `base` is a whole second (the fixture's start), so signing at base puts the timestamp exactly at base.
  for (const prune of [false, true]) {
    const sweep = prune ? ', right after the pruning sweep' : '';
    it(`is refused at exactly ts+60 s and at ts+59 s${sweep}`, async () => {
      expect(await replayAt(0, 0, 60_000, prune)).toEqual({ status: 401, code: 'auth_replayed' });
      expect(await replayAt(0, 0, 59_000, prune)).toEqual({ status: 401, code: 'auth_replayed' });
    });

    it(`is stale (not accepted) at ts+61 s${sweep}`, async () => {
      expect(await replayAt(0, 0, 61_000, prune)).toEqual({ status: 401, code: 'auth_stale' });
    });

    it(`signed 60 s in the future, is refused from ts-60 s to ts+60 s${sweep}`, async () => {
      // Signed with a clock 60 s ahead: first seen at ts-60 s, replayed at ts-59 s, ts and ts+60 s.
      for (const at of [61_000, 120_000, 180_000]) {
        expect(await replayAt(120_000, 60_000, at, prune)).toEqual({ status: 401, code: 'auth_replayed' });
      }
      expect(await replayAt(120_000, 60_000, 181_000, prune)).toEqual({ status: 401, code: 'auth_stale' });
    });
  }
});

describe('the ±60 s window (docs/protocol.md §5): inclusive, to the millisecond, on both sides', () => {
  /** Signs GET /v1/agents/me with the agent's clock at base + signedAt and delivers it once at base + sentAt. */
  async function deliver(signedAt: number, sentAt: number) {
    const hub = await hubFixture();
    const agent = await hub.registeredAgent();
    const base = hub.clock.now;
    const headers = signRequest({
      role: 'agent',
      keyId: agent.keyId,
      privateKey: agent.privateKey,
      method: 'GET',
      path: '/v1/agents/me',
      hub: ORIGIN,
      now: base + signedAt,
    });
    hub.clock.now = base + sentAt;
    const res = await hub.app.request('/v1/agents/me', { headers: { ...headers } });
    return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
  }

  it('accepts a timestamp exactly 60 s old and refuses it 1 ms later', async () => {
    expect((await deliver(0, 60_000)).status).toBe(200);
    expect(await deliver(0, 60_001)).toEqual({ status: 401, code: 'auth_stale' });
  });

  it('accepts a timestamp exactly 60 s ahead and refuses one 1 ms further ahead', async () => {
    expect((await deliver(60_000, 0)).status).toBe(200);
    expect(await deliver(60_000, -1)).toEqual({ status: 401, code: 'auth_stale' });
  });

  it('compares the hub clock in milliseconds with the whole-second timestamp (the signer floors 0.999 s)', async () => {
    // Signed at base + 0.999 s: the timestamp says base, so the window ends at base + 60 s, not base + 60.999 s.
    expect((await deliver(999, 60_000)).status).toBe(200);
    expect(await deliver(999, 60_001)).toEqual({ status: 401, code: 'auth_stale' });
  });
});

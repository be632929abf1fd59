// @vitest-environment node
// Issue 13 item 15: the extension remembers the hub's identity key from enrolment and refuses a hub at the same URL
// that cannot prove it (a second hub started on the port, or a squatter that copied the public key).
import { describe, expect, it } from 'vitest';
import { AgentClient, isAgentError } from '../../../lib/agent';
import type { HubSettings } from '../../../lib/ext/hub/hub-core';
import { HUB_SETTINGS } from '../../../lib/storage/persisted-keys';
import { MaliciousHub } from '../../adversary/malicious-hub';
import { hubFixture, ORIGIN } from '../hub/flow';
import { enrolledDevice } from './enrolled-device';

const HUB_SETTINGS_KEY = HUB_SETTINGS.key;

const MISMATCH = /This is not the hub you enrolled with/;

describe('a hub at the enrolled URL must prove the pinned identity key', () => {
  it('enrolment pins the hub key the hub proved', async () => {
    const real = await hubFixture();
    const { local } = await enrolledDevice(real);
    expect((local.data[HUB_SETTINGS_KEY] as HubSettings).hubKeys).toEqual({ [ORIGIN]: real.identity.hubKey });
  });

  it('a second hub at the same URL with another key is refused: nothing signed, a clear message', async () => {
    const real = await hubFixture();
    const { svc, target, signedTo } = await enrolledDevice(real);
    const other = await hubFixture(real.clock.now);
    // The second hub even knows this device (same device key enrolled there): only the pin tells them apart.
    target.fetch = async (url, init) => other.app.request(url, init);
    signedTo.length = 0;
    await expect(svc.activity()).rejects.toThrow(MISMATCH);
    await expect(svc.lookupClaim('BCDF-GHJK')).rejects.toThrow(MISMATCH);
    await svc.pollOnce();
    expect((await svc.state()).lastError).toMatch(MISMATCH);
    expect(signedTo).toEqual([]);
  });

  it('a squatter that copies the real public key but cannot sign the challenge is refused', async () => {
    const real = await hubFixture();
    const { svc, target, signedTo } = await enrolledDevice(real);
    const squatter = await hubFixture(real.clock.now);
    const proxy = MaliciousHub.inProcess(squatter.app.request);
    // Present the real hub's key everywhere it is named, and the real hub's old proof as its own.
    const realProof = await (await real.app.request(`/v1/hub-key?challenge=${'A'.repeat(43)}`)).json();
    proxy.rewriteJson('GET /v1/hub-key', (json) => ({
      ...json,
      hub_key: real.identity.hubKey,
      fingerprint: real.identity.fingerprint,
      proof: realProof.proof,
    }));
    proxy.rewriteJson('GET /v1/health', (json) => ({ ...json, hub_key: real.identity.hubKey }));
    target.fetch = (url, init) => proxy.fetch(url, init as never);
    signedTo.length = 0;
    await expect(svc.activity()).rejects.toThrow(MISMATCH);
    await svc.pollOnce();
    expect((await svc.state()).lastError).toMatch(MISMATCH);
    expect(signedTo).toEqual([]);
  });

  it('an honest restart of the same hub (same key file, same data) is accepted', async () => {
    const real = await hubFixture();
    const { svc, target } = await enrolledDevice(real);
    const restarted = await hubFixture(real.clock.now + 60_000, { identity: real.identity, store: real.store });
    target.fetch = async (url, init) => restarted.app.request(url, init);
    target.clock = restarted.clock;
    const page = await svc.activity();
    expect(page.entries.map((e) => e.action)).toContain('account.enroll');
    await svc.pollOnce();
    expect((await svc.state()).lastError).toBeNull();
  });
});

describe('the agent SDK pins the hub key at registration', () => {
  it('a second hub at the registered URL gets no signed request; the same hub restarted does', async () => {
    const real = await hubFixture();
    let target = real;
    const signed: string[] = [];
    const agent = new AgentClient({
      fetch: async (url, init) => {
        if (init?.headers && 'ck-signature' in init.headers) signed.push(url);
        return target.app.request(url, init);
      },
      now: () => target.clock.now,
    });
    await agent.register({
      hub: ORIGIN,
      name: 'bot',
      manifest: { markdown: '# bot' },
      requestedScopes: ['secret:read:x'],
    });
    expect(agent.state?.hub_key).toBe(real.identity.hubKey);
    await agent.status();

    target = await hubFixture(real.clock.now + 60_000);
    signed.length = 0;
    const refused = await agent.status().catch((e) => e);
    expect(isAgentError(refused, 'hub_identity_invalid')).toBe(true);
    expect(refused.message).toMatch(/not the hub this agent registered with/);
    expect(signed).toEqual([]);

    target = await hubFixture(real.clock.now + 120_000, { identity: real.identity, store: real.store });
    expect((await agent.status()).status).toBe('unclaimed');
  });
});

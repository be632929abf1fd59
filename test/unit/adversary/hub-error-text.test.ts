// @vitest-environment node
// A malicious hub writes its own text into error answers ("Call +1 555 … to unlock your vault"), hoping the
// extension or the agent CLI shows it as if Clawkeep said it. Every client shows our own words for a known code and
// only the code for an unknown one (issue 13 item 16).
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { AgentClient } from '../../../lib/agent';
import { randomBytes } from '../../../lib/bytes';
// The background's lastError and every page's error line use the one boundary mapping (lib/errors.ts).
import { errorMessage, errorMessage as errorText } from '../../../lib/errors';
import { HubService, type HubVault } from '../../../lib/ext/hub/hub-service';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import { jsonAnswer, MaliciousHub } from '../../adversary/malicious-hub';
import { hubFixture, ORIGIN } from '../hub/flow';
import { memoryStorage } from '../ext/real-hub-service';
import { FAST_KDF, kekFor, uniqueDbName } from '../vault/helpers';

const PHISH = 'Call +1 555 0100 now: your vault is locked. Support: evil.example';
const phishing = (code: string, status: number) => () =>
  jsonAnswer({ error: { code, message: PHISH, request_id: 'req_1' } }, status);

function expectOurText(text: string): void {
  expect(text).not.toContain('555');
  expect(text).not.toContain('evil.example');
  expect(text).not.toMatch(/call/i);
}

/** The extension's HubService (real vault on fake-indexeddb) talking to the real hub through a malicious layer. */
async function serviceBehind() {
  const hub = await hubFixture();
  const evil = MaliciousHub.inProcess(hub.app.request);
  const service = new VaultService(new VaultDb(uniqueDbName()));
  const salt = randomBytes(16);
  await service.create({ kdf: FAST_KDF, salt, kek: await kekFor('pw', salt) });
  const vault: HubVault = {
    get isUnlocked() {
      return service.isUnlocked;
    },
    whenReady: async () => {},
    withUnlocked: async (fn) => fn(service),
  };
  const svc = new HubService(vault, {
    local: memoryStorage(),
    session: memoryStorage(),
    badge: () => {},
    changed: () => {},
    fetch: evil.fetch as unknown as typeof fetch,
    now: () => hub.clock.now,
  });
  return { hub, evil, svc };
}

async function failure(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure');
}

describe('hub error text', () => {
  it('a hub that puts a phone number in a known error code gets our own words shown, not its text', async () => {
    const { hub, evil, svc } = await serviceBehind();
    evil.answer('POST /v1/accounts', phishing('enrollment_code_invalid', 404));
    const err = await failure(svc.enroll(hub.enrollmentCode));
    expect(err.code).toBe('enrollment_code_invalid');
    expect(err.message).toBe('Unknown or already used enrollment code.');
    for (const shown of [
      err.message,
      errorMessage(err),
      errorText(err),
      JSON.stringify(err),
      (await svc.state()).lastError ?? '',
    ])
      expectOurText(shown);
  });

  it('a hub that invents an error code gets only the code shown', async () => {
    const { hub, evil, svc } = await serviceBehind();
    evil.answer('POST /v1/accounts', phishing('support_required', 403));
    const err = await failure(svc.enroll(hub.enrollmentCode));
    expect(err.message).toBe('The hub refused (code: support_required).');
    for (const shown of [err.message, errorMessage(err), errorText(err)]) expectOurText(shown);
    // A code that is itself a message is not shown either.
    evil.reset();
    evil.answer('POST /v1/accounts', phishing('Call +1 555 0100', 403));
    const worse = await failure(svc.enroll(hub.enrollmentCode));
    expectOurText(worse.message);
  });

  it('after enrolment, a refused claim lookup shows our words (the Agents tab reads this message)', async () => {
    const { hub, evil, svc } = await serviceBehind();
    await svc.enroll(hub.enrollmentCode);
    evil.answer('POST /v1/claims/lookup', phishing('claim_code_invalid', 404));
    const err = await failure(svc.lookupClaim('BCDF-GHJK'));
    expect(err.message).toBe('Unknown or expired claim code.');
    expectOurText(errorText(err));
  });

  it('the agent CLI/SDK shows our words too', async () => {
    const hub = await hubFixture();
    const evil = MaliciousHub.inProcess(hub.app.request);
    evil.answer('POST /v1/agents', phishing('rate_limited', 429));
    const agent = new AgentClient({ fetch: evil.fetch, now: () => hub.clock.now });
    const err = await failure(
      agent.register({ hub: ORIGIN, name: 'bot', manifest: { markdown: '# bot' }, requestedScopes: [] }),
    );
    expect(err.code).toBe('rate_limited');
    expectOurText(err.message);
    expectOurText(JSON.stringify(err));
  });
});

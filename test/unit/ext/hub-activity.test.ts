import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { policyFromChoice, defaultPolicyChoice } from '../../../components/agents/claim-policy';
import { describeAuditEntry } from '../../../lib/hub-client/activity';
import { HubClient } from '../../../lib/hub-client/client';
import { deviceKeyId } from '../../../lib/protocol/keys';
import type { AuditEntry } from '../../../lib/protocol/wire';

const H = 'a'.repeat(64);
const entry = (over: Partial<AuditEntry>): AuditEntry => ({
  seq: 5,
  time: 1,
  actor: 'hub',
  agent: 'ag_1',
  resource: null,
  action: 'x',
  request_id: null,
  prev_hash: H,
  entry_hash: H,
  ...over,
});
const names = { agentName: (id: string) => (id === 'ag_1' ? 'research-bot' : null) };
const secret = { kind: 'secret.request', payload: { item: 'arxiv-key', reason: 'papers' } };

describe('Activity: audit entries in plain words', () => {
  it('names the agent, says "You" for the account and what was asked', () => {
    expect(
      describeAuditEntry(
        entry({ actor: 'account:acc_1', action: 'installation.claim', resource: 'installation:ins_1' }),
        names,
      ),
    ).toBe('You claimed research-bot');
    expect(
      describeAuditEntry(
        entry({ actor: 'agent:ag_1', action: 'intent.create', resource: 'intent:i1', intent: secret }),
        names,
      ),
    ).toBe('research-bot asked for the secret “arxiv-key”');
    expect(
      describeAuditEntry(
        entry({ actor: 'account:acc_1', action: 'intent.approve', resource: 'intent:i1', intent: secret }),
        names,
      ),
    ).toBe("You approved research-bot's request for the secret “arxiv-key”");
    const action = { kind: 'action.approve', payload: { summary: 'Deploy', risk: 'low' } };
    expect(
      describeAuditEntry(entry({ action: 'intent.auto_approve', resource: 'intent:i2', intent: action }), names),
    ).toBe(
      "The hub approved research-bot's request for “Deploy” (approve an action the agent describes) without asking (your policy)",
    );
    expect(describeAuditEntry(entry({ action: 'installation.lock' }), names)).toBe(
      'The hub locked research-bot after repeated denials',
    );
    expect(
      describeAuditEntry(
        entry({ actor: 'account:acc_1', action: 'config.deliver', resource: 'installation:ins_1' }),
        names,
      ),
    ).toBe('You delivered an agent config to research-bot');
    expect(
      describeAuditEntry(
        entry({ actor: 'account:acc_1', action: 'config.unassign', resource: 'installation:ins_1' }),
        names,
      ),
    ).toBe('You unassigned the agent config from research-bot');
    expect(
      describeAuditEntry(
        entry({ actor: 'account:acc_1', agent: null, action: 'device.add', resource: 'device:dev_b' }),
        names,
      ),
    ).toBe('You added a device (dev_b) to the account');
    expect(
      describeAuditEntry(
        entry({ actor: 'account:acc_1', agent: null, action: 'device.remove', resource: 'device:dev_b' }),
        names,
      ),
    ).toBe('You removed a device (dev_b) from the account');
  });

  it('falls back to the agent id and shows unknown actions as they are', () => {
    expect(
      describeAuditEntry(
        entry({ agent: 'ag_9', actor: 'agent:ag_9', action: 'agent.register', resource: 'agent:ag_9' }),
        names,
      ),
    ).toBe('ag_9 registered with the hub');
    expect(describeAuditEntry(entry({ action: 'future.thing', resource: 'thing:1' }), names)).toBe(
      'The hub did something this version of Clawkeep cannot describe (future.thing)',
    );
  });
});

describe('claim screen policy', () => {
  it('defaults to asking for every kind and no limit; secret.request and http.request can never be dropped', () => {
    expect(policyFromChoice(defaultPolicyChoice())).toEqual({
      policy: {
        approval_required: [
          'action.approve',
          'http.request',
          'message.send',
          'payment.send',
          'secret.request',
          'shell.exec',
        ],
        daily_limit: null,
      },
    });
    expect(policyFromChoice({ ask: new Set(['shell.exec']), dailyLimit: ' 2 ' })).toEqual({
      policy: { approval_required: ['http.request', 'secret.request', 'shell.exec'], daily_limit: 2 },
    });
    for (const dailyLimit of ['0', '10001', '1.5', '-3', 'abc'])
      expect(policyFromChoice({ ask: new Set(), dailyLimit })).toHaveProperty('error');
  });
});

describe('hub client: GET /v1/audit', () => {
  it('sends limit and before in the signed path and parses the page', async () => {
    const priv = ed25519.utils.randomSecretKey();
    const urls: string[] = [];
    const page = { entries: [entry({ action: 'intent.create' })], next_before: 5, head: { seq: 9, entry_hash: H } };
    const client = new HubClient({
      hub: 'http://127.0.0.1:8787',
      signer: {
        role: 'human',
        keyId: deviceKeyId(ed25519.getPublicKey(priv)),
        sign: async (m) => ed25519.sign(m, priv),
      },
      fetch: (async (url: string) => (urls.push(url), Response.json(page))) as unknown as typeof fetch,
    });
    expect(await client.audit({ limit: 20, before: 12 })).toEqual(page);
    await client.audit();
    expect(urls).toEqual(['http://127.0.0.1:8787/v1/audit?limit=20&before=12', 'http://127.0.0.1:8787/v1/audit']);
  });
});

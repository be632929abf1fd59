import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIVITY_SENTENCES, describeAuditEntry } from '../../../lib/hub-client/activity-sentences';
import { AGENT_REFUSALS, AUDIT_ACTIONS, vaultPushResource } from '../../../lib/protocol/audit-actions';
import type { AuditEntry } from '../../../lib/protocol/wire';

const H = 'a'.repeat(64);
const entry = (over: Partial<AuditEntry>): AuditEntry => ({
  seq: 5,
  time: 1,
  actor: 'hub',
  agent: 'ag_1',
  resource: null,
  action: 'intent.create',
  request_id: null,
  prev_hash: H,
  entry_hash: H,
  ...over,
});
const names = { agentName: (id: string) => (id === 'ag_1' ? 'research-bot' : null) };
const secret = { kind: 'secret.request', payload: { item: 'GitHub token', reason: 'open a pull request' } };

/** Every audit action literal the hub's source writes (`action: 'x.y'`, `refused('x.y', …)`). */
function hubActionLiterals(): Set<string> {
  const root = path.resolve(__dirname, '../../../hub');
  const found = new Set<string>();
  for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    for (const line of readFileSync(path.join(root, file), 'utf8').split('\n')) {
      if (!/\baction:|refused\(/.test(line)) continue;
      for (const m of line.matchAll(/'([a-z_]+(?:\.[a-z_]+)+)'/g)) found.add(m[1]!);
    }
  }
  return found;
}

describe('Activity sentences: one per audit action', () => {
  it('every action in the registry reads as a sentence, never as its raw name', () => {
    for (const action of AUDIT_ACTIONS) {
      const text = describeAuditEntry(
        entry({ action, actor: 'account:acc_1', resource: 'installation:ins_1', intent: secret }),
        names,
      );
      expect(text, action).not.toContain(action);
      expect(text, action).not.toMatch(/cannot describe|\(vault:|\binstallation:|\bintent:/);
      // A sentence with words around the names, not a bare label.
      expect(text.split(' ').length, action).toBeGreaterThanOrEqual(3);
    }
    expect(Object.keys(ACTIVITY_SENTENCES).sort()).toEqual([...AUDIT_ACTIONS].sort());
  });

  it('every action the hub writes is in the registry (a new kind without a sentence fails here)', () => {
    const literals = hubActionLiterals();
    // The scan itself works: it sees actions from several routes.
    for (const known of ['intent.create', 'vault.push', 'device.remove', 'request.refused.locked'])
      expect(literals, known).toContain(known);
    for (const action of literals) expect(AUDIT_ACTIONS as readonly string[], action).toContain(action);
    for (const action of Object.values(AGENT_REFUSALS)) expect(AUDIT_ACTIONS).toContain(action);
  });

  it('says internal operations as a person would', () => {
    expect(
      describeAuditEntry(
        entry({ actor: 'account:acc_1', agent: null, action: 'vault.push', resource: vaultPushResource(7, 3) }),
        names,
      ),
    ).toBe('Synced 3 changes');
    expect(
      describeAuditEntry(
        entry({ actor: 'account:acc_1', agent: null, action: 'vault.push', resource: vaultPushResource(8, 1) }),
        names,
      ),
    ).toBe('Synced 1 change');
    // Written before the count was recorded.
    expect(
      describeAuditEntry(
        entry({ actor: 'account:acc_1', agent: null, action: 'vault.push', resource: 'vault:1' }),
        names,
      ),
    ).toBe('Synced the vault');
    expect(
      describeAuditEntry(
        entry({ actor: 'account:acc_1', action: 'intent.approve', resource: 'intent:i1', intent: secret }),
        names,
      ),
    ).toBe("You approved research-bot's request for the secret “GitHub token”");
    expect(describeAuditEntry(entry({ actor: 'hub', agent: null, action: 'enrollment_code.issued' }), names)).toBe(
      'The hub issued a new enrollment code',
    );
    expect(
      describeAuditEntry(
        entry({ actor: 'device:dev_b', agent: null, action: 'pairing.create', resource: 'pairing:p1' }),
        names,
      ),
    ).toBe('A new device asked to join this account');
  });

  it('lists refused attempts in plain words, naming the agent and why', () => {
    const refusal = (action: string, over: Partial<AuditEntry> = {}) =>
      describeAuditEntry(entry({ actor: 'agent:ag_1', action, resource: 'installation:ins_1', ...over }), names);
    expect(refusal('request.refused.scope')).toBe('Refused research-bot: it asked for something it was not granted');
    expect(refusal('request.refused.rate_limit')).toBe('Refused research-bot: it asked too often (rate limit)');
    expect(refusal('request.refused.locked')).toBe('Refused research-bot: it is locked after repeated denials');
    expect(refusal('request.refused.revoked')).toBe('Refused research-bot: it was revoked and asked again');
    expect(refusal('request.refused.scope', { agent: 'ag_9', actor: 'agent:ag_9' })).toBe(
      'Refused ag_9: it asked for something it was not granted',
    );
    expect(
      describeAuditEntry(
        entry({ actor: 'device:dev_x', agent: null, action: 'device.refused.revoked', resource: 'account:acc_1' }),
        names,
      ),
    ).toBe('Refused a removed device (dev_x) that tried to reach the hub');
  });

  it('an action from a newer hub is said to be unknown, in words, and not dropped', () => {
    expect(describeAuditEntry(entry({ action: 'future.thing', resource: 'thing:1' }), names)).toBe(
      'The hub did something this version of Clawkeep cannot describe (future.thing)',
    );
  });
});

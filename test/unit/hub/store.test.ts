// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../hub/store/sqlite';
import { StoreError } from '../../../hub/store/errors';
import type { HubStore, NewIntent } from '../../../hub/store/port';
import { key } from './helpers';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof StoreError) return err.code;
    throw err;
  }
  throw new Error('expected a StoreError');
}

/** A store with one account, one agent and one active installation `inst-1`. */
function seeded(): HubStore {
  const store = openSqliteStore({ file: ':memory:' });
  store.accounts.create({ accountId: 'acct', devicePublicKey: key(1), createdAt: 1 });
  store.agents.create({
    agentId: 'agent',
    name: 'Mail bot',
    signingKey: key(2),
    boxKey: key(3),
    manifestSnapshot: '{"name":"Mail bot"}',
    manifestSha256: key(4),
    requestedScopes: [{ type: 'email', actions: ['send'] }],
    claimCodeHash: key(5),
    claimExpiresAt: 100,
    createdAt: 1,
  });
  store.installations.create({
    installationId: 'inst-1',
    agentId: 'agent',
    accountId: 'acct',
    grantedScopes: [{ type: 'email', actions: ['send'] }],
    policy: { lockAfterDenials: 3 },
    claimStatement: { sig: 'x' },
    createdAt: 2,
  });
  return store;
}

const intent = (over: Partial<NewIntent> = {}): NewIntent => ({
  agentNonce: null,
  intentId: 'int-1',
  installationId: 'inst-1',
  kind: 'email.send',
  payload: '{"to":"a@example.com"}',
  payloadHash: key(9),
  idempotencyKey: 'idem-1',
  risk: 'medium',
  createdAt: 10,
  expiresAt: 1000,
  ...over,
});

describe('hub store repositories', () => {
  it('accounts: unique id and device key; round-trip bytes as Uint8Array', () => {
    const store = seeded();
    const got = store.accounts.getByDeviceKey(key(1))!;
    expect(got.devicePublicKey).toBeInstanceOf(Uint8Array);
    expect(got.devicePublicKey.constructor).toBe(Uint8Array);
    expect(code(() => store.accounts.create({ accountId: 'other', devicePublicKey: key(1), createdAt: 1 }))).toBe(
      'conflict',
    );
    expect(
      code(() => store.accounts.create({ accountId: 'short', devicePublicKey: new Uint8Array(16), createdAt: 1 })),
    ).toBe('invalid_value');
  });

  it('enrollment: consume once, and only with an existing account', () => {
    const store = seeded();
    store.enrollment.create(key(8), 1);
    expect(code(() => store.enrollment.consume(key(8), 'ghost', 2))).toBe('invalid_reference');
    expect(store.enrollment.consume(key(8), 'acct', 2)).toMatchObject({ usedAt: 2, accountId: 'acct' });
    expect(code(() => store.enrollment.consume(key(8), 'acct', 3))).toBe('not_found');
    expect(store.enrollment.count()).toBe(1);
  });

  it('agents: JSON columns round-trip; claim code lookups honour expiry and are one-time', () => {
    const store = seeded();
    expect(store.agents.get('agent')!.requestedScopes).toEqual([{ type: 'email', actions: ['send'] }]);
    expect(store.agents.getBySigningKey(key(2))?.agentId).toBe('agent');
    expect(store.agents.findByClaimCode(key(5), 99)?.agentId).toBe('agent');
    expect(store.agents.findByClaimCode(key(5), 100)).toBeNull();
    store.agents.clearClaimCode('agent');
    expect(store.agents.findByClaimCode(key(5), 50)).toBeNull();
    expect(code(() => store.agents.clearClaimCode('nobody'))).toBe('not_found');
  });

  it('installations: foreign keys, status values, denial counter', () => {
    const store = seeded();
    const base = { grantedScopes: [], policy: {}, claimStatement: {}, createdAt: 3 };
    expect(
      code(() => store.installations.create({ ...base, installationId: 'x', agentId: 'nope', accountId: 'acct' })),
    ).toBe('invalid_reference');
    expect(store.installations.recordDecision('inst-1', false, 5).consecutiveDenials).toBe(1);
    expect(store.installations.recordDecision('inst-1', false, 6).consecutiveDenials).toBe(2);
    expect(store.installations.recordDecision('inst-1', true, 7)).toMatchObject({
      consecutiveDenials: 0,
      lastActivity: 7,
    });
    expect(store.installations.setStatus('inst-1', 'locked', 8).status).toBe('locked');
    expect(code(() => store.installations.setStatus('inst-1', 'bogus' as never, 8))).toBe('invalid_value');
    expect(code(() => store.installations.touch('nope', 9))).toBe('not_found');
    expect(store.installations.listByAccount('acct').map((i) => i.installationId)).toEqual(['inst-1']);
    expect(store.installations.updateGrant('inst-1', { grantedScopes: ['a'], policy: { x: 1 } }, 9)).toMatchObject({
      grantedScopes: ['a'],
      policy: { x: 1 },
    });
  });

  it('intents: idempotency key unique per installation; decide once while pending; execute once when approved', () => {
    const store = seeded();
    store.intents.create(intent());
    expect(code(() => store.intents.create(intent({ intentId: 'int-2' })))).toBe('conflict');
    expect(store.intents.getByIdempotencyKey('inst-1', 'idem-1')?.intentId).toBe('int-1');
    expect(store.intents.listPendingForAccount('acct', 10).map((i) => i.intentId)).toEqual(['int-1']);

    expect(code(() => store.intents.markExecuted('int-1', 11))).toBe('invalid_state');
    const approved = store.intents.decide('int-1', {
      status: 'approved',
      decidedAt: 20,
      decisionStatement: { sig: 'y' },
    });
    expect(approved).toMatchObject({ status: 'approved', decidedAt: 20, decisionStatement: { sig: 'y' } });
    expect(code(() => store.intents.decide('int-1', { status: 'denied', decidedAt: 21, decisionStatement: {} }))).toBe(
      'invalid_state',
    );
    expect(store.intents.markExecuted('int-1', 22).executedAt).toBe(22);
    expect(code(() => store.intents.markExecuted('int-1', 23))).toBe('invalid_state');
    expect(code(() => store.intents.decide('nope', { status: 'denied', decidedAt: 1, decisionStatement: {} }))).toBe(
      'not_found',
    );
  });

  it('intents: an expired intent cannot be decided and expireDue marks it', () => {
    const store = seeded();
    store.intents.create(intent({ expiresAt: 50 }));
    expect(
      code(() => store.intents.decide('int-1', { status: 'approved', decidedAt: 50, decisionStatement: {} })),
    ).toBe('invalid_state');
    expect(store.intents.listPendingForAccount('acct', 50)).toEqual([]);
    expect(store.intents.expireDue(50)).toEqual(['int-1']);
    expect(store.intents.get('int-1')!.status).toBe('expired');
    expect(store.intents.expireDue(60)).toEqual([]);
  });

  it('sealed secrets: one per intent, removed with it', () => {
    const store = seeded();
    store.intents.create(intent());
    store.sealedSecrets.put('int-1', new Uint8Array([1, 2, 3]));
    expect(code(() => store.sealedSecrets.put('int-1', new Uint8Array([4])))).toBe('conflict');
    expect(code(() => store.sealedSecrets.put('nope', new Uint8Array([4])))).toBe('invalid_reference');
    expect(store.sealedSecrets.get('int-1')).toEqual(new Uint8Array([1, 2, 3]));
    expect(store.sealedSecrets.delete('int-1')).toBe(true);
    expect(store.sealedSecrets.get('int-1')).toBeNull();
  });

  it('nonces: accepted once until expiry, then prunable', () => {
    const store = seeded();
    expect(store.nonces.remember('key', 'n1', 100, 0)).toBe(true);
    expect(store.nonces.remember('key', 'n1', 100, 50)).toBe(false);
    expect(store.nonces.remember('other-key', 'n1', 100, 50)).toBe(true);
    expect(store.nonces.remember('key', 'n1', 200, 100)).toBe(true); // the old entry had expired
    expect(store.nonces.prune(150)).toBe(1);
    expect(store.nonces.prune(200)).toBe(1);
  });

  it('transaction: rolls back everything on a throw, nests, and refuses an async function', () => {
    const store = seeded();
    expect(() =>
      store.transaction(() => {
        store.intents.create(intent());
        store.transaction(() => store.sealedSecrets.put('int-1', new Uint8Array([1])));
        throw new StoreError('invalid_state', 'route decided to abort');
      }),
    ).toThrow('route decided to abort');
    expect(store.intents.get('int-1')).toBeNull();
    expect(() => store.transaction(async () => store.intents.create(intent()))).toThrow(TypeError);
    expect(store.intents.get('int-1')).toBeNull();
  });
});

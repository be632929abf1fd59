import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../../hub/store/errors';
import type { AuditRow, HubStore, NewIntent } from '../../../hub/store/port';
import { key } from './helpers';

/**
 * The store conformance suite: every behaviour of the storage port (hub/store/port.ts) that routes rely on, run
 * against each adapter (store-sqlite.test.ts, store-postgres.test.ts). `open` gives an empty, migrated store of its
 * own for each test; the suite closes it.
 */
export type OpenEmptyStore = () => Promise<HubStore>;

async function code(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof StoreError) return err.code;
    throw err;
  }
  throw new Error('expected a StoreError');
}

const opened: HubStore[] = [];

/** A store with one account, one agent and one active installation `inst-1`. */
async function seeded(open: OpenEmptyStore): Promise<HubStore> {
  const store = await open();
  opened.push(store);
  await store.accounts.create({ accountId: 'acct', devicePublicKey: key(1), createdAt: 1 });
  await store.agents.create({
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
  await store.installations.create({
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

/** Resolves after `ms` on the timer queue: lets other requests' statements run while a transaction is open. */
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function describeStoreConformance(label: string, open: OpenEmptyStore): void {
  describe(`hub store conformance: ${label}`, () => {
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    it('accounts: unique id and device key; round-trip bytes as Uint8Array', async () => {
      const store = await seeded(open);
      const got = (await store.accounts.getByDeviceKey(key(1)))!;
      expect(got.devicePublicKey).toBeInstanceOf(Uint8Array);
      expect(got.devicePublicKey.constructor).toBe(Uint8Array);
      expect(
        await code(() => store.accounts.create({ accountId: 'other', devicePublicKey: key(1), createdAt: 1 })),
      ).toBe('conflict');
      expect(
        await code(() =>
          store.accounts.create({ accountId: 'short', devicePublicKey: new Uint8Array(16), createdAt: 1 }),
        ),
      ).toBe('invalid_value');
    });

    it('enrollment: consume once, and only with an existing account', async () => {
      const store = await seeded(open);
      await store.enrollment.create(key(8), 1);
      expect(await code(() => store.enrollment.consume(key(8), 'ghost', 2))).toBe('invalid_reference');
      expect(await store.enrollment.consume(key(8), 'acct', 2)).toMatchObject({ usedAt: 2, accountId: 'acct' });
      expect(await code(() => store.enrollment.consume(key(8), 'acct', 3))).toBe('not_found');
      expect(await store.enrollment.count()).toBe(1);
    });

    it('agents: JSON columns round-trip; claim code lookups honour expiry and are one-time', async () => {
      const store = await seeded(open);
      expect((await store.agents.get('agent'))!.requestedScopes).toEqual([{ type: 'email', actions: ['send'] }]);
      expect((await store.agents.getBySigningKey(key(2)))?.agentId).toBe('agent');
      expect((await store.agents.findByClaimCode(key(5), 99))?.agentId).toBe('agent');
      expect(await store.agents.findByClaimCode(key(5), 100)).toBeNull();
      await store.agents.clearClaimCode('agent');
      expect(await store.agents.findByClaimCode(key(5), 50)).toBeNull();
      expect(await code(() => store.agents.clearClaimCode('nobody'))).toBe('not_found');
    });

    it('installations: foreign keys, status values, denial counter', async () => {
      const store = await seeded(open);
      const base = { grantedScopes: [], policy: {}, claimStatement: {}, createdAt: 3 };
      expect(
        await code(() =>
          store.installations.create({ ...base, installationId: 'x', agentId: 'nope', accountId: 'acct' }),
        ),
      ).toBe('invalid_reference');
      expect((await store.installations.recordDecision('inst-1', false, 5)).consecutiveDenials).toBe(1);
      expect((await store.installations.recordDecision('inst-1', false, 6)).consecutiveDenials).toBe(2);
      expect(await store.installations.recordDecision('inst-1', true, 7)).toMatchObject({
        consecutiveDenials: 0,
        lastActivity: 7,
      });
      expect((await store.installations.setStatus('inst-1', 'locked', 8)).status).toBe('locked');
      expect(await code(() => store.installations.setStatus('inst-1', 'bogus' as never, 8))).toBe('invalid_value');
      expect(await code(() => store.installations.touch('nope', 9))).toBe('not_found');
      expect((await store.installations.listByAccount('acct')).map((i) => i.installationId)).toEqual(['inst-1']);
      expect(
        await store.installations.updateGrant('inst-1', { grantedScopes: ['a'], policy: { x: 1 } }, 9),
      ).toMatchObject({
        grantedScopes: ['a'],
        policy: { x: 1 },
      });
    });

    it('intents: idempotency key unique per installation; decide once while pending; execute once when approved', async () => {
      const store = await seeded(open);
      await store.intents.create(intent());
      expect(await code(() => store.intents.create(intent({ intentId: 'int-2' })))).toBe('conflict');
      expect((await store.intents.getByIdempotencyKey('inst-1', 'idem-1'))?.intentId).toBe('int-1');
      expect((await store.intents.listPendingForAccount('acct', 10)).map((i) => i.intentId)).toEqual(['int-1']);

      expect(await code(() => store.intents.markExecuted('int-1', 11))).toBe('invalid_state');
      const approved = await store.intents.decide('int-1', {
        status: 'approved',
        decidedAt: 20,
        decisionStatement: { sig: 'y' },
      });
      expect(approved).toMatchObject({ status: 'approved', decidedAt: 20, decisionStatement: { sig: 'y' } });
      expect(
        await code(() => store.intents.decide('int-1', { status: 'denied', decidedAt: 21, decisionStatement: {} })),
      ).toBe('invalid_state');
      expect((await store.intents.markExecuted('int-1', 22)).executedAt).toBe(22);
      expect(await code(() => store.intents.markExecuted('int-1', 23))).toBe('invalid_state');
      expect(
        await code(() => store.intents.decide('nope', { status: 'denied', decidedAt: 1, decisionStatement: {} })),
      ).toBe('not_found');
    });

    it('intents: an expired intent cannot be decided and expireDue marks it', async () => {
      const store = await seeded(open);
      await store.intents.create(intent({ expiresAt: 50 }));
      expect(
        await code(() => store.intents.decide('int-1', { status: 'approved', decidedAt: 50, decisionStatement: {} })),
      ).toBe('invalid_state');
      expect(await store.intents.listPendingForAccount('acct', 50)).toEqual([]);
      expect(await store.intents.anyDue(49)).toBe(false);
      expect(await store.intents.anyDue(50)).toBe(true);
      expect(await store.intents.expireDue(50)).toEqual(['int-1']);
      expect((await store.intents.get('int-1'))!.status).toBe('expired');
      expect(await store.intents.anyDue(60)).toBe(false);
      expect(await store.intents.expireDue(60)).toEqual([]);
    });

    it('sealed secrets: one per intent, removed with it', async () => {
      const store = await seeded(open);
      await store.intents.create(intent());
      await store.sealedSecrets.put('int-1', new Uint8Array([1, 2, 3]));
      expect(await code(() => store.sealedSecrets.put('int-1', new Uint8Array([4])))).toBe('conflict');
      expect(await code(() => store.sealedSecrets.put('nope', new Uint8Array([4])))).toBe('invalid_reference');
      expect(await store.sealedSecrets.get('int-1')).toEqual(new Uint8Array([1, 2, 3]));
      expect(await store.sealedSecrets.delete('int-1')).toBe(true);
      expect(await store.sealedSecrets.get('int-1')).toBeNull();
    });

    it('sealed secrets: purgeDelivered deletes only blobs of intents executed by the cutoff, a bounded batch at a time', async () => {
      const store = await seeded(open);
      const approve = (id: string) =>
        store.intents.decide(id, { status: 'approved', decidedAt: 20, decisionStatement: {} });
      for (const n of [1, 2, 3, 4]) {
        await store.intents.create(intent({ intentId: `int-${n}`, idempotencyKey: `idem-${n}` }));
        await store.sealedSecrets.put(`int-${n}`, new Uint8Array([n]));
      }
      // int-1 and int-2 executed early, int-3 late, int-4 approved but never executed.
      for (const id of ['int-1', 'int-2', 'int-3', 'int-4']) await approve(id);
      await store.intents.markExecuted('int-1', 30);
      await store.intents.markExecuted('int-2', 31);
      await store.intents.markExecuted('int-3', 100);
      expect(await store.sealedSecrets.purgeDelivered(50, 1)).toBe(1);
      expect(await store.sealedSecrets.get('int-1')).toBeNull();
      expect(await store.sealedSecrets.get('int-2')).not.toBeNull();
      expect(await store.sealedSecrets.purgeDelivered(50, 10)).toBe(1);
      expect(await store.sealedSecrets.get('int-2')).toBeNull();
      expect(await store.sealedSecrets.get('int-3')).toEqual(new Uint8Array([3]));
      expect(await store.sealedSecrets.get('int-4')).toEqual(new Uint8Array([4]));
      expect(await store.sealedSecrets.purgeDelivered(50, 10)).toBe(0);
    });

    it('nonces: accepted once until expiry, then prunable', async () => {
      const store = await seeded(open);
      const fresh = async (key: string, nonce: string, expiresAt: number, now: number) => {
        const r = await store.nonces.remember(key, nonce, expiresAt, now);
        await r.durable;
        return r.fresh;
      };
      expect(await fresh('key', 'n1', 100, 0)).toBe(true);
      expect(await fresh('key', 'n1', 100, 50)).toBe(false);
      expect(await fresh('other-key', 'n1', 100, 50)).toBe(true);
      expect(await fresh('key', 'n1', 200, 100)).toBe(true); // the old entry had expired
      expect(await store.nonces.prune(150)).toBe(1);
      expect(await store.nonces.prune(200)).toBe(1);
    });

    it('enrollment: retiring unused codes keeps used ones; count covers both', async () => {
      const store = await seeded(open);
      await store.enrollment.create(key(8), 1);
      await store.enrollment.create(key(7), 1);
      await store.enrollment.consume(key(8), 'acct', 2);
      expect(await code(() => store.enrollment.create(key(8), 3))).toBe('conflict');
      expect(await store.enrollment.retireUnused()).toBe(1);
      expect(await store.enrollment.count()).toBe(1);
      expect(await code(() => store.enrollment.consume(key(7), 'acct', 4))).toBe('not_found');
      expect(await store.accounts.count()).toBe(1);
      expect(await store.accounts.get('nobody')).toBeNull();
    });

    it('agents: unclaimed registrations past their claim expiry are purged, a bounded batch at a time; claimed ones stay', async () => {
      const store = await seeded(open);
      for (let i = 0; i < 3; i++)
        await store.agents.create({
          agentId: `stray-${i}`,
          name: 'Stray',
          signingKey: key(40 + i),
          boxKey: key(3),
          manifestSnapshot: '{}',
          manifestSha256: key(4),
          requestedScopes: [],
          claimCodeHash: key(50 + i),
          claimExpiresAt: 10 + i,
          createdAt: 1,
          keyBinding: { statement: 'kb', signature: 's' },
        });
      const stray = (await store.agents.get('stray-0'))!;
      expect(await code(() => store.agents.create({ ...stray, agentId: 'dup' }))).toBe('conflict');
      expect((await store.agents.get('stray-0'))!.keyBinding).toEqual({ statement: 'kb', signature: 's' });
      await store.agents.clearClaimCode('agent');
      expect((await store.agents.purgeUnclaimed(11, 10)).sort()).toEqual(['stray-0', 'stray-1']);
      expect(await store.agents.purgeUnclaimed(1000, 10)).toEqual(['stray-2']);
      expect(await store.agents.get('agent')).not.toBeNull();
    });

    it('installations: revocation keeps the signed statement; lists by agent; unknown ids are not_found', async () => {
      const store = await seeded(open);
      const revoked = await store.installations.revoke('inst-1', 9, { statement: 'CKIR', signature: 'sig' });
      expect(revoked).toMatchObject({ status: 'revoked', lastActivity: 9 });
      expect(revoked.revocationStatement).toEqual({ statement: 'CKIR', signature: 'sig' });
      expect((await store.installations.listByAgent('agent')).map((i) => i.installationId)).toEqual(['inst-1']);
      expect(await code(() => store.installations.revoke('nope', 9, {}))).toBe('not_found');
      expect(await code(() => store.installations.recordDecision('nope', true, 9))).toBe('not_found');
      expect(await store.installations.get('nope')).toBeNull();
    });

    it('intents: daily window count, oldest-first pending list, revocation expiry, retention purge', async () => {
      const store = await seeded(open);
      await store.intents.create(intent({ intentId: 'b', idempotencyKey: 'k2', createdAt: 20 }));
      await store.intents.create(intent({ intentId: 'a', idempotencyKey: 'k1', createdAt: 15 }));
      await store.intents.create(intent({ intentId: 'c', idempotencyKey: 'k3', createdAt: 20, expiresAt: 30 }));
      expect(await store.intents.countCreatedSince('inst-1', 16)).toEqual({ count: 2, oldest: 20 });
      expect(await store.intents.countCreatedSince('inst-1', 100)).toEqual({ count: 0, oldest: null });
      expect((await store.intents.listPendingForAccount('acct', 25)).map((i) => i.intentId)).toEqual(['a', 'b', 'c']);
      expect((await store.intents.listPendingForAccount('acct', 30)).map((i) => i.intentId)).toEqual(['a', 'b']);
      await store.intents.decide('a', { status: 'approved', decidedAt: 21, decisionStatement: { s: 1 } });
      await store.sealedSecrets.put('a', new Uint8Array([9]));
      expect((await store.intents.expireForInstallation('inst-1')).sort()).toEqual(['b', 'c']);
      // Retention: only non-pending intents expired by the cutoff, at most `limit`, payload blanked, secret gone.
      expect(await store.intents.purgePayloads(29, 10)).toEqual([]);
      expect((await store.intents.purgePayloads(1000, 1)).length).toBe(1);
      expect((await store.intents.purgePayloads(1000, 10)).length).toBe(2);
      const purged = (await store.intents.get('a'))!;
      expect(purged).toMatchObject({ payload: '', status: 'approved', decisionStatement: { s: 1 } });
      expect(purged.payloadHash).toEqual(key(9));
      expect(await store.sealedSecrets.get('a')).toBeNull();
    });

    it('agent configs: one row per installation, replaced in place, deleted once', async () => {
      const store = await seeded(open);
      const row = {
        installationId: 'inst-1',
        configId: 'cfg',
        revision: 1,
        statement: { statement: 'CKCD', signature: 's' },
        sealed: new Uint8Array([1, 2]),
        updatedAt: 5,
      };
      await store.agentConfigs.put(row);
      await store.agentConfigs.put({ ...row, revision: 2, sealed: new Uint8Array([3]), updatedAt: 6 });
      expect(await store.agentConfigs.get('inst-1')).toEqual({
        ...row,
        revision: 2,
        sealed: new Uint8Array([3]),
        updatedAt: 6,
      });
      expect(await code(() => store.agentConfigs.put({ ...row, installationId: 'nope' }))).toBe('invalid_reference');
      expect(await store.agentConfigs.delete('inst-1')).toBe(true);
      expect(await store.agentConfigs.delete('inst-1')).toBe(false);
      expect(await store.agentConfigs.get('inst-1')).toBeNull();
    });

    it('devices and pairings: add, list, revoke once with the signed removal; pairing approve/deny only while pending', async () => {
      const store = await seeded(open);
      const device = {
        deviceKeyId: 'dev-2',
        accountId: 'acct',
        publicKey: key(20),
        name: 'Laptop',
        statement: { statement: 'CKDA', signature: 's' },
        addedAt: 3,
      };
      expect(await store.devices.create(device)).toMatchObject({ ...device, revokedAt: null, removalStatement: null });
      expect(await code(() => store.devices.create(device))).toBe('conflict');
      expect(await code(() => store.devices.create({ ...device, deviceKeyId: 'x', accountId: 'ghost' }))).toBe(
        'invalid_reference',
      );
      expect(await store.vault.deviceKeys('acct')).toEqual([key(1), key(20)]);
      expect((await store.devices.revoke('dev-2', 4, { statement: 'CKDR' })).revokedAt).toBe(4);
      expect(await code(() => store.devices.revoke('dev-2', 5, { statement: 'CKDR' }))).toBe('not_found');
      expect((await store.devices.get('dev-2'))!.removalStatement).toEqual({ statement: 'CKDR' });
      expect((await store.devices.listByAccount('acct')).length).toBe(1);
      expect(await store.vault.deviceKeys('acct')).toEqual([key(1)]);

      const pairing = (id: string, codeHash: Uint8Array, expiresAt: number) => ({
        pairingId: id,
        codeHash,
        deviceKey: key(30),
        boxKey: key(31),
        name: null,
        createdAt: 1,
        expiresAt,
      });
      expect((await store.pairings.create(pairing('p1', key(60), 100))).status).toBe('pending');
      await store.pairings.create(pairing('p2', key(61), 100));
      await store.pairings.create(pairing('p3', key(62), 10));
      expect(await code(() => store.pairings.create(pairing('p4', key(60), 100)))).toBe('conflict');
      expect((await store.pairings.findPendingByCode(key(60), 50))?.pairingId).toBe('p1');
      expect(await store.pairings.findPendingByCode(key(62), 10)).toBeNull();
      const approved = await store.pairings.approve(
        'p1',
        { accountId: 'acct', statement: { s: 1 }, sealed: new Uint8Array([7]) },
        50,
      );
      expect(approved).toMatchObject({ status: 'approved', accountId: 'acct', sealed: new Uint8Array([7]) });
      expect(await code(() => store.pairings.deny('p1', 51))).toBe('invalid_state');
      expect((await store.pairings.deny('p2', 51)).status).toBe('denied');
      expect(
        await code(() => store.pairings.approve('nope', { accountId: 'acct', statement: {}, sealed: key(1) }, 1)),
      ).toBe('not_found');
      expect(await store.pairings.expireDue(10)).toBe(1);
      expect((await store.pairings.get('p3'))!.status).toBe('expired');
    });

    it('vault: items by seq, upserted; a deletion keeps a null envelope; the head replaces itself', async () => {
      const store = await seeded(open);
      const item = (itemId: string, seq: number, envelope: Uint8Array | null) => ({
        accountId: 'acct',
        itemId,
        kind: 'secret',
        revision: seq,
        envelope,
        seq,
        deviceKeyId: 'acct',
        updatedAt: seq,
      });
      await store.vault.put(item('i1', 1, new Uint8Array([1])));
      await store.vault.put(item('i2', 2, new Uint8Array([2])));
      await store.vault.put(item('i1', 3, null));
      expect((await store.vault.items('acct')).map((r) => [r.itemId, r.seq])).toEqual([
        ['i2', 2],
        ['i1', 3],
      ]);
      expect((await store.vault.items('acct', 2)).map((r) => r.itemId)).toEqual(['i1']);
      expect((await store.vault.get('acct', 'i1'))!.envelope).toBeNull();
      expect(await store.vault.head('acct')).toBeNull();
      await store.vault.setHead('acct', 1, { statement: 'h1' });
      await store.vault.setHead('acct', 2, { statement: 'h2' });
      expect(await store.vault.head('acct')).toEqual({ counter: 2, statement: { statement: 'h2' } });
    });

    it('watch tokens: one per device, replaced; a hash belongs to one device', async () => {
      const store = await seeded(open);
      await store.watchTokens.put({ deviceKeyId: 'acct', accountId: 'acct', tokenSha256: key(70), createdAt: 1 });
      await store.watchTokens.put({ deviceKeyId: 'acct', accountId: 'acct', tokenSha256: key(71), createdAt: 2 });
      expect(await store.watchTokens.findByHash(key(70))).toBeNull();
      expect(await store.watchTokens.findByHash(key(71))).toEqual({
        deviceKeyId: 'acct',
        accountId: 'acct',
        tokenSha256: key(71),
        createdAt: 2,
      });
      expect(await store.watchTokens.remove('acct')).toBe(true);
      expect(await store.watchTokens.remove('acct')).toBe(false);
    });

    it('audit: append-only rows, head, per-account listing newest first, paged scan in seq order', async () => {
      const store = await seeded(open);
      const row = (seq: number, resource: string | null, actor = 'hub'): AuditRow => ({
        seq,
        time: seq,
        actor,
        agent: null,
        resource,
        action: 'x.y',
        requestId: null,
        idempotencyKey: null,
        prevHash: '0'.repeat(64),
        entryHash: seq.toString(16).padStart(64, '0'),
      });
      expect(await store.audit.head()).toBeNull();
      // More rows than one scan page (1,000), so paging is exercised.
      await store.transaction(async () => {
        for (let seq = 1; seq <= 1203; seq++)
          await store.audit.insert(
            row(seq, seq % 3 === 0 ? 'installation:inst-1' : seq % 3 === 1 ? 'account:other' : null),
          );
      });
      expect(await code(() => store.audit.insert(row(5, null)))).toBe('conflict');
      expect((await store.audit.head())!.seq).toBe(1203);
      expect(await store.audit.count()).toBe(1203);
      const seqs: number[] = [];
      for await (const r of store.audit.scan()) seqs.push(r.seq);
      expect(seqs).toEqual(Array.from({ length: 1203 }, (_, i) => i + 1));
      const mine = await store.audit.listForAccount('acct', { limit: 3 });
      expect(mine.map((r) => r.seq)).toEqual([1203, 1200, 1197]);
      expect((await store.audit.listForAccount('acct', { beforeSeq: 1197, limit: 2 })).map((r) => r.seq)).toEqual([
        1194, 1191,
      ]);
    });

    it('intents: pending list in keyset pages (created_at, then intent_id), unchanged by intents created meanwhile', async () => {
      const store = await seeded(open);
      // Two share a created_at: the id breaks the tie.
      for (const [id, at] of [
        ['e', 14],
        ['a', 10],
        ['c', 12],
        ['b', 12],
        ['d', 13],
      ] as const)
        await store.intents.create(intent({ intentId: id, idempotencyKey: `k-${id}`, createdAt: at }));
      const page1 = await store.intents.listPendingForAccount('acct', 5, { limit: 2 });
      expect(page1.map((i) => i.intentId)).toEqual(['a', 'b']);
      await store.intents.create(intent({ intentId: 'f', idempotencyKey: 'k-f', createdAt: 15 }));
      const last = page1.at(-1)!;
      const page2 = await store.intents.listPendingForAccount('acct', 5, {
        after: { createdAt: last.createdAt, intentId: last.intentId },
        limit: 10,
      });
      expect(page2.map((i) => i.intentId)).toEqual(['c', 'd', 'e', 'f']);
      expect((await store.intents.listPendingForAccount('other', 5, { limit: 10 })).length).toBe(0);
      expect((await store.intents.listPendingForAccount('acct', 5)).map((i) => i.intentId)).toEqual([
        'a',
        'b',
        'c',
        'd',
        'e',
        'f',
      ]);
    });

    it('audit: intentChanges lists one account’s intent rows in a seq range, in order, bounded', async () => {
      const store = await seeded(open);
      await store.accounts.create({ accountId: 'acct-2', devicePublicKey: key(21), createdAt: 1 });
      await store.agents.create({
        agentId: 'agent-2',
        name: 'Other',
        signingKey: key(22),
        boxKey: key(23),
        manifestSnapshot: '{}',
        manifestSha256: key(24),
        requestedScopes: [],
        claimCodeHash: key(25),
        claimExpiresAt: 100,
        createdAt: 1,
      });
      await store.installations.create({
        installationId: 'inst-2',
        agentId: 'agent-2',
        accountId: 'acct-2',
        grantedScopes: [],
        policy: {},
        claimStatement: {},
        createdAt: 2,
      });
      await store.intents.create(intent({ intentId: 'mine' }));
      await store.intents.create(intent({ intentId: 'theirs', installationId: 'inst-2' }));
      const rows: [string, string][] = [
        ['intent:mine', 'intent.create'],
        ['intent:theirs', 'intent.create'],
        ['installation:inst-1', 'installation.lock'],
        ['intent:mine', 'intent.approve'],
        ['intent:gone', 'intent.create'],
        ['intent:mine', 'intent.execute'],
      ];
      await store.transaction(async () => {
        let seq = 0;
        for (const [resource, action] of rows)
          await store.audit.insert({
            seq: ++seq,
            time: seq,
            actor: 'hub',
            agent: null,
            resource,
            action,
            requestId: null,
            idempotencyKey: null,
            prevHash: '0'.repeat(64),
            entryHash: seq.toString(16).padStart(64, '0'),
          });
      });
      expect(await store.audit.intentChanges('acct', 0, 6, 100)).toEqual([
        { seq: 1, action: 'intent.create', intentId: 'mine' },
        { seq: 4, action: 'intent.approve', intentId: 'mine' },
        { seq: 6, action: 'intent.execute', intentId: 'mine' },
      ]);
      expect((await store.audit.intentChanges('acct', 1, 5, 100)).map((r) => r.seq)).toEqual([4]);
      expect((await store.audit.intentChanges('acct', 0, 6, 2)).map((r) => r.seq)).toEqual([1, 4]);
      expect(await store.audit.intentChanges('acct-2', 0, 6, 100)).toEqual([
        { seq: 2, action: 'intent.create', intentId: 'theirs' },
      ]);
      expect(await store.audit.intentChanges('nobody', 0, 6, 100)).toEqual([]);
    });

    it('transaction: a throw rolls back everything; a nested failure undoes only its own writes', async () => {
      const store = await seeded(open);
      await expect(
        store.transaction(async () => {
          await store.intents.create(intent());
          await store.transaction(async () => store.sealedSecrets.put('int-1', new Uint8Array([1])));
          throw new StoreError('invalid_state', 'route decided to abort');
        }),
      ).rejects.toThrow('route decided to abort');
      expect(await store.intents.get('int-1')).toBeNull();

      await store.transaction(async () => {
        await store.intents.create(intent());
        await expect(
          store.transaction(async () => {
            await store.sealedSecrets.put('int-1', new Uint8Array([1]));
            throw new Error('inner fails');
          }),
        ).rejects.toThrow('inner fails');
      });
      expect(await store.intents.get('int-1')).not.toBeNull();
      expect(await store.sealedSecrets.get('int-1')).toBeNull();
    });

    it('transaction: a joined call is part of the caller’s transaction (commits and rolls back with it); alone it is its own', async () => {
      const store = await seeded(open);
      await expect(
        store.transaction(async () => {
          await store.intents.create(intent());
          await store.transaction(async () => store.sealedSecrets.put('int-1', new Uint8Array([1])), { join: true });
          throw new StoreError('invalid_state', 'route decided to abort');
        }),
      ).rejects.toThrow('route decided to abort');
      expect(await store.intents.get('int-1')).toBeNull();
      expect(await store.sealedSecrets.get('int-1')).toBeNull();

      await store.transaction(async () => {
        await store.intents.create(intent());
        await store.transaction(async () => store.sealedSecrets.put('int-1', new Uint8Array([2])), { join: true });
      });
      expect(await store.sealedSecrets.get('int-1')).toEqual(new Uint8Array([2]));

      await expect(
        store.transaction(
          async () => {
            await store.sealedSecrets.delete('int-1');
            throw new Error('alone, it rolls back');
          },
          { join: true },
        ),
      ).rejects.toThrow('alone, it rolls back');
      expect(await store.sealedSecrets.get('int-1')).toEqual(new Uint8Array([2]));
    });

    it('transaction: a statement from outside waits for an open transaction and is not rolled back with it', async () => {
      const store = await seeded(open);
      // Another request's async context: what it runs must not join this transaction (captured outside it).
      const anotherRequest = AsyncLocalStorage.snapshot();
      let outside: Promise<void> | undefined;
      await expect(
        store.transaction(async () => {
          await store.intents.create(intent());
          // Another request writes while this transaction awaits: it must neither join nor be lost.
          outside = anotherRequest(() => store.enrollment.create(key(90), 1));
          await pause(20);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      await outside;
      expect(await store.intents.get('int-1')).toBeNull();
      expect(await store.enrollment.count()).toBe(1);
    });

    it('transactions are serializable: 20 concurrent read-check-write appends make one chain without gaps or conflicts', async () => {
      const store = await seeded(open);
      const append = (i: number) =>
        store.transaction(async () => {
          const head = await store.audit.head();
          await pause(i % 3); // let the others run while this one holds what it read
          const seq = (head?.seq ?? 0) + 1;
          await store.audit.insert({
            seq,
            time: i,
            actor: 'hub',
            agent: null,
            resource: null,
            action: 'race',
            requestId: null,
            idempotencyKey: null,
            prevHash: head?.entryHash ?? '0'.repeat(64),
            entryHash: seq.toString(16).padStart(64, '0'),
          });
          return seq;
        });
      const seqs = await Promise.all(Array.from({ length: 20 }, (_, i) => append(i)));
      expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      let prev = '0'.repeat(64);
      for await (const r of store.audit.scan()) {
        expect(r.prevHash).toBe(prev);
        prev = r.entryHash;
      }
    });

    it('at most once under concurrency: one execute, one decision, one nonce, one pairing approval win', async () => {
      const store = await seeded(open);
      await store.intents.create(intent());
      const decisions = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          store.intents.decide('int-1', {
            status: i % 2 ? 'approved' : 'denied',
            decidedAt: 20,
            decisionStatement: {},
          }),
        ),
      );
      expect(decisions.filter((d) => d.status === 'fulfilled')).toHaveLength(1);
      await store.intents.create(intent({ intentId: 'int-2', idempotencyKey: 'k2' }));
      await store.intents.decide('int-2', { status: 'approved', decidedAt: 20, decisionStatement: {} });
      const executes = await Promise.allSettled(
        Array.from({ length: 10 }, () =>
          store.transaction(async () => {
            const executed = await store.intents.markExecuted('int-2', 30);
            await store.sealedSecrets.delete('int-2');
            return executed;
          }),
        ),
      );
      expect(executes.filter((d) => d.status === 'fulfilled')).toHaveLength(1);
      const nonces = await Promise.all(Array.from({ length: 10 }, () => store.nonces.remember('k', 'n', 100, 1)));
      expect(nonces.filter((n) => n.fresh)).toHaveLength(1);
      await Promise.all(nonces.map((n) => n.durable));
    });
  });
}

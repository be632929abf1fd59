// @vitest-environment node
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubApp } from '../../../hub/app';
import { jsonLinesLogger } from '../../../hub/logger';
import type { HubStore } from '../../../hub/store/port';
import { openPostgresStore } from '../../../hub/store/postgres';
import { startPostgresCluster, type PostgresCluster } from '../../support/postgres-cluster';
import { auditRows } from './audit-rows';
import { ACTION, atOrigin, hubFixture, ORIGIN } from './flow';
import { verifyAudit } from '../../../hub/audit';

/**
 * Issue 16 must-show 3: three hub instances on one PostgreSQL behave as one hub. Each instance is a hub app with its
 * own store (its own connection pool, its own LISTEN connection, its own event bus and rate limiters), sharing
 * only the database and the hub identity, exactly what separate processes share.
 */
let cluster: PostgresCluster | undefined;
let schemas = 0;
const opened: HubStore[] = [];

beforeAll(async () => {
  cluster = await startPostgresCluster();
}, 60_000);
afterAll(async () => {
  for (const store of opened.splice(0)) await store.close();
  cluster?.stop();
});

/** Instance A (the fixture's own app) plus B and C on the same schema, same identity, same clock. */
async function threeInstances() {
  const schema = `multi_${++schemas}`;
  const open = async () => {
    const store = await openPostgresStore({ url: cluster!.url, schema, maxConnections: 8 });
    opened.push(store);
    return store;
  };
  const hub = await hubFixture(undefined, { store: await open() });
  const instance = async () => {
    const store = await open();
    const app = atOrigin(
      createHubApp({
        store,
        now: () => hub.clock.now,
        logger: jsonLinesLogger(() => {}),
        origin: ORIGIN,
        identity: hub.identity,
      }),
    );
    return { app, store };
  };
  const b = await instance();
  const c = await instance();
  // Every instance hears the others before traffic starts (what startHub awaits).
  const { intentEvents } = await import('../../../hub/events');
  await Promise.all([hub.store, b.store, c.store].map((s) => intentEvents(s).ready()));
  return { hub, a: hub.app, b: b.app, c: c.app };
}

describe('three hub instances on one PostgreSQL', () => {
  it('register via A, approve via B, execute via C; an agent held on C hears the approval made on B', async () => {
    const { hub, a, b, c } = await threeInstances();
    hub.routeTo(a);
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device);
    const intent = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    expect(intent.status).toBe('pending');

    // The agent waits on C; the device decides on B: only NOTIFY can tell C.
    hub.routeTo(c);
    const held = agent.send('GET', `/v1/intents/${intent.intent_id}?wait=20`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    hub.routeTo(b);
    const t0 = performance.now();
    const decided = await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(device, intent),
    });
    expect(decided.json.status).toBe('approved');
    expect((await held).json.status).toBe('approved');
    console.log(`approval on B reached the agent held on C after ${(performance.now() - t0).toFixed(1)} ms`);

    hub.routeTo(c);
    const executed = await agent.send('POST', `/v1/intents/${intent.intent_id}/execute`);
    expect(executed.json.intent.status).toBe('executed');
    // Asked again through A (a lost answer): the same result, not a second execution (idempotent for 10 minutes).
    hub.routeTo(a);
    const again = await agent.send('POST', `/v1/intents/${intent.intent_id}/execute`);
    expect(again.json).toEqual(executed.json);
    expect((await auditRows(hub.store)).filter((r) => r.action === 'intent.execute')).toHaveLength(1);
    const result = await verifyAudit(hub.store);
    expect(result.ok).toBe(true);
  });

  it('a signed request replayed to another instance is refused', async () => {
    const { hub, a, b, c } = await threeInstances();
    hub.routeTo(a);
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device);
    let captured: { headers: Record<string, string>; body?: string } = { headers: {} };
    const first = await agent.send(
      'POST',
      '/v1/intents',
      ACTION(1),
      (init) => void (captured = { headers: { ...init.headers }, body: init.body }),
    );
    expect(first.status).toBe(201);
    for (const other of [b, c]) {
      const replay = await other.request('/v1/intents', {
        method: 'POST',
        headers: captured.headers,
        body: captured.body,
      });
      expect([replay.status, ((await replay.json()) as { error: { code: string } }).error.code]).toEqual([
        401,
        'auth_replayed',
      ]);
    }
  });

  it('50 parallel executes spread over the instances: executed exactly once, every answer the same; one audit chain', async () => {
    const { hub, a, b, c } = await threeInstances();
    hub.routeTo(a);
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device);
    const intent = (await agent.send('POST', '/v1/intents', ACTION(1))).json;
    await device.send('POST', `/v1/intents/${intent.intent_id}/decision`, {
      approval: hub.approvalFor(device, intent),
    });
    // Each execute is signed by the agent (own nonce) and sent straight to one instance, all at once.
    const instances = [a, b, c];
    const path = `/v1/intents/${intent.intent_id}/execute`;
    const answers = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const res = await instances[i % 3]!.request(path, {
          method: 'POST',
          headers: hub.signedHeaders(agent, 'POST', path),
        });
        return { status: res.status, json: (await res.json()) as { error?: { code: string } } };
      }),
    );
    // One execution in effect: one intent.execute entry and one executed_at. The other 49 are the same agent asking
    // again, which the hub answers with the identical result (idempotent execute), never a second execution.
    expect(answers.map((r) => r.status)).toEqual(Array<number>(50).fill(200));
    for (const r of answers) expect(r.json).toEqual(answers[0]!.json);
    const rows = await auditRows(hub.store);
    expect(rows.filter((r) => r.action === 'intent.execute')).toHaveLength(1);
    const stored = (await hub.store.intents.get(intent.intent_id))!;
    expect(stored.executedAt).not.toBeNull();
    // Another agent (another installation of the account) gets nothing for it, on any instance.
    const other = await hub.claimedAgent(device, { name: 'other-bot' });
    for (const app of instances) {
      const res = await app.request(path, { method: 'POST', headers: hub.signedHeaders(other, 'POST', path) });
      expect(((await res.json()) as { error?: { code: string } }).error?.code).toBe('not_found');
    }
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    expect((await verifyAudit(hub.store)).ok).toBe(true);
  });

  it('claims and enrolment codes are once across instances: the same claim sent to all three creates one installation', async () => {
    const { hub, a, b, c } = await threeInstances();
    hub.routeTo(a);
    const device = await hub.enrolledDevice();
    const agent = await hub.registeredAgent();
    const claim = hub.claimFor(device, agent);
    const body = JSON.stringify({ claim });
    const answers = await Promise.all(
      [a, b, c].map(async (app) =>
        app.request('/v1/claims', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...hub.signedHeaders(device, 'POST', '/v1/claims', body) },
          body,
        }),
      ),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(await hub.store.installations.listByAgent(agent.agentId)).toHaveLength(1);
    // The one enrolment code is spent: a second device cannot enrol on another instance with it.
    hub.routeTo(b);
    await expect(hub.enrolledDevice()).rejects.toThrow(/enrol failed/);
  });
});

describe('hub processes joining one PostgreSQL', () => {
  it('a process with another identity file is refused; one with a copy of the first identity joins', async () => {
    const { startHub } = await import('../../../hub/server');
    const { mkdtempSync, copyFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { IDENTITY_FILE } = await import('../../../hub/identity');
    // A database of its own (startHub takes a URL; the hub uses its default schema).
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: cluster!.url });
    await admin.connect();
    const db = `join_${++schemas}`;
    await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    const url = new URL(cluster!.url);
    url.pathname = `/${db}`;
    const dirs = [0, 1, 2].map(() => mkdtempSync(path.join(tmpdir(), 'clawkeep-join-')));
    const quiet = jsonLinesLogger(() => {});
    const store = { engine: 'postgres' as const, url: url.toString() };
    try {
      const first = await startHub({ port: 0, dataDir: dirs[0]!, store, logger: quiet });
      expect(first.enrollmentCode).not.toBeNull();
      await expect(startHub({ port: 0, dataDir: dirs[1]!, store, logger: quiet })).rejects.toThrow(
        /belongs to the hub whose key is .*copy the identity file/,
      );
      copyFileSync(path.join(dirs[0]!, IDENTITY_FILE), path.join(dirs[2]!, IDENTITY_FILE));
      const second = await startHub({ port: 0, dataDir: dirs[2]!, store, logger: quiet });
      // Joining an existing hub issues no second first-enrolment code.
      expect(second.enrollmentCode).toBeNull();
      expect(second.identity.hubKey).toBe(first.identity.hubKey);
      await second.close();
      await first.close();
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('rate limits shared by the instances', () => {
  it('registrations from one address share one budget over three instances: the 11th is refused wherever it lands', async () => {
    const { hub, a, b, c } = await threeInstances();
    // All app.request callers are the address `in-process`; the registration budget is 10 at once per address.
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      hub.routeTo([a, b, c][i % 3]!);
      statuses.push(
        await hub.registeredAgent(`bot-${i}`).then(
          () => 201,
          (err: Error) => (/rate_limited/.test(err.message) ? 429 : 0),
        ),
      );
    }
    // In memory per instance, each would have allowed 10 of its own.
    expect(statuses).toEqual([...Array<number>(10).fill(201), 429]);
  });

  it('buckets are taken atomically: 30 parallel takes of a burst of 10 over three stores give exactly 10', async () => {
    const stores = await Promise.all(
      [0, 1, 2].map(() => openPostgresStore({ url: cluster!.url, schema: `limits_${schemas}`, maxConnections: 8 })),
    );
    opened.push(...stores);
    const limit = { burst: 10, sustained: 100, perSeconds: 3600 };
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => stores[i % 3]!.sharedLimits!.consume('test:k', limit, 1_000_000)),
    );
    expect(answers.filter((r) => r.allowed)).toHaveLength(10);
    const refused = answers.find((r) => !r.allowed);
    expect(refused).toMatchObject({ allowed: false });
    // One token refills in perSeconds / burst = 360 s.
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBe(360);
    expect((await stores[0]!.sharedLimits!.consume('test:k', limit, 1_000_000 + 360_000)).allowed).toBe(true);
  });
});

// @vitest-environment node
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../lib/bytes';
import { claimCodeHash } from '../../../lib/protocol/claim-code';
import { encodePublicKey } from '../../../lib/protocol/keys';
import { signKeyBinding, type KeyBindingStatement } from '../../../lib/protocol/key-binding';
import { createHubApp } from '../../../hub/app';
import { atOrigin } from './flow';
import { verifyAudit } from '../../../hub/audit';
import { jsonLinesLogger } from '../../../hub/logger';
import { openSqliteStore } from '../../../hub/store/sqlite';
import { CLAIM_TTL_MS } from '../../../hub/routes/agents';
import { auditRows } from './audit-rows';

const NOW = 1_700_000_000_000;

function setup() {
  const store = openSqliteStore({ file: ':memory:' });
  const lines: string[] = [];
  const app = atOrigin(
    createHubApp({
      store,
      now: () => NOW,
      logger: jsonLinesLogger((l) => lines.push(l)),
      origin: 'http://127.0.0.1:8787',
    }),
  );
  return { app, store, lines };
}

const ORIGIN = 'http://127.0.0.1:8787';

/** A registration body with the CKKB binding a real agent signs; `binding` overrides the signed fields (attacks). */
function registration(name = 'research-bot', binding: Partial<KeyBindingStatement> = {}) {
  const seed = ed25519.utils.randomSecretKey();
  const signing_key = encodePublicKey(ed25519.getPublicKey(seed));
  const box_key = encodePublicKey(x25519.getPublicKey(x25519.utils.randomSecretKey()));
  return {
    name,
    signing_key,
    box_key,
    manifest: { markdown: '# Research bot\nReads papers; asks for the arXiv key.' },
    requested_scopes: ['secret:read:arxiv-key'],
    key_binding: signKeyBinding(seed, {
      hub: ORIGIN,
      role: 'agent',
      signing_key,
      box_key,
      name,
      time: NOW,
      ...binding,
    }) as unknown,
  };
}

const post = (app: ReturnType<typeof setup>['app'], body: unknown) =>
  app.request('/v1/agents', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('POST /v1/agents', () => {
  it('registers an agent: 201 with id, claim code and expiry; stores only the code hash; audits it', async () => {
    const { app, store } = setup();
    const res = await post(app, registration());
    expect(res.status).toBe(201);
    const body = (await res.json()) as { agent_id: string; claim_code: string; expires_at: number };
    expect(body.agent_id).toMatch(/^agt_[A-Za-z0-9_-]{22}$/);
    expect(body.claim_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(body.expires_at).toBe(NOW + CLAIM_TTL_MS);
    const agent = (await store.agents.get(body.agent_id))!;
    expect(agent.name).toBe('research-bot');
    expect(toHex(agent.claimCodeHash!)).toBe(claimCodeHash(body.claim_code));
    expect(agent.manifestSnapshot).toContain('Research bot');
    expect(await verifyAudit(store)).toMatchObject({ ok: true, count: 1 });
    expect((await auditRows(store))[0]).toMatchObject({ action: 'agent.register', agent: body.agent_id });
  });

  it('stores the key binding and hands it out with the claim lookup keys', async () => {
    const { app, store } = setup();
    const reg = registration();
    const res = await post(app, reg);
    const { agent_id } = (await res.json()) as { agent_id: string };
    expect((await store.agents.get(agent_id))!.keyBinding).toEqual(reg.key_binding);
  });

  it('refuses a key binding that is missing, for another hub, box key, name or role, or badly signed: key_binding_invalid, nothing stored', async () => {
    const { app, store } = setup();
    const otherBox = encodePublicKey(x25519.getPublicKey(x25519.utils.randomSecretKey()));
    const good = registration();
    const signed = good.key_binding as { statement: KeyBindingStatement; signature: string };
    const { key_binding: _omit, ...missing } = good;
    const cases: [string, unknown][] = [
      ['missing', missing],
      ['null', { ...good, key_binding: null }],
      ['another hub', registration('research-bot', { hub: 'https://other.example' })],
      ['another name', registration('research-bot', { name: 'other-bot' })],
      ['role device', registration('research-bot', { role: 'device' })],
      ['box key swapped in body', { ...good, box_key: otherBox }],
      [
        'box key swapped in body and statement',
        {
          ...good,
          box_key: otherBox,
          key_binding: { ...signed, statement: { ...signed.statement, box_key: otherBox } },
        },
      ],
      [
        'signature of another agent',
        {
          ...good,
          key_binding: { ...signed, signature: (registration().key_binding as { signature: string }).signature },
        },
      ],
    ];
    for (const [what, body] of cases) {
      const res = await post(app, body);
      expect([what, res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([
        what,
        400,
        'key_binding_invalid',
      ]);
    }
    expect(await store.audit.count()).toBe(0);
  });

  it('rejects malformed bodies with protocol_invalid and writes nothing', async () => {
    const { app, store } = setup();
    for (const bad of [
      { ...registration(), signing_key: 'not-a-key' },
      { ...registration(), name: '' },
      { ...registration(), requested_scopes: ['nonsense scope'] },
      { ...registration(), manifest: { url: 'http://127.0.0.1/manifest.md' } },
      { ...registration(), extra: 1 },
    ]) {
      const res = await post(app, bad);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('protocol_invalid');
    }
    const raw = await app.request('/v1/agents', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(raw.status).toBe(400);
    expect(await store.audit.count()).toBe(0);
  });

  it('rate-limits registrations from one client with 429 and Retry-After', async () => {
    const { app } = setup();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await post(app, registration(`bot-${i}`))).status);
    expect(statuses.slice(0, 10).every((s) => s === 201)).toBe(true);
    const limited = await post(app, registration('one-too-many'));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

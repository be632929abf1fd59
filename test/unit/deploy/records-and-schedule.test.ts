import { describe, expect, it } from 'vitest';
import { envCandidates, normalizeEnvName, suggestCandidate } from '../../../lib/deploy/env-prefill';
import { scheduleReverify } from '../../../lib/deploy/operations';
import { StepTracker, type StepStatus } from '../../../lib/deploy/steps';
import type { DeploymentRecord, TrustPins } from '../../../lib/deploy/types';
import {
  listDeployments,
  loadTrustPins,
  resolveEnv,
  saveDeployment,
  saveTrustPins,
} from '../../../lib/deploy/vault-records';
import { VaultDb } from '../../../lib/vault/db';
import { createLocalVaultClient } from '../../../lib/web-vault/local-client';
import type { VaultItem } from '../../../lib/vault/types';
import { dumpDatabase, FAST_KDF, inProcessKdf, uniqueDbName } from '../vault/helpers';

const h = (byte: string, bytes: number) => byte.repeat(bytes);
const PINS: TrustPins = {
  kms: { id: 'kms-1', k256Pubkey: `02${h('ab', 32)}`, caPubkey: `3059${h('cd', 40)}` },
  osImages: [{ name: 'dstack-0.5.4', mrtd: h('11', 48), rtmr0: h('22', 48), rtmr1: h('33', 48), rtmr2: h('44', 48) }],
  pccsUrl: 'https://pccs.example',
};

describe('deploy records in the vault', () => {
  it('trust pins and deployment records round-trip as encrypted vault items; none of their text is in IndexedDB', async () => {
    const dbName = uniqueDbName();
    const vault = createLocalVaultClient(inProcessKdf, new VaultDb(dbName));
    await vault.create('deploy records passphrase', FAST_KDF);
    expect(await loadTrustPins(vault)).toBeNull();
    const pinsId = await saveTrustPins(vault, PINS);
    expect(await loadTrustPins(vault)).toEqual({ itemId: pinsId, pins: PINS });

    const secretFields = {
      name: 'gateway token',
      value: 'tok-unit-9f8e7d',
      notes: '',
      tags: [],
      expiresAt: null,
      allowedHosts: [],
    };
    const secret = await vault.save({ kind: 'secret', fields: secretFields });
    const agent = await vault.save({
      kind: 'agentConfig',
      fields: {
        name: 'agent',
        model: 'm',
        providerKeys: [{ key: 'ANTHROPIC_API_KEY', value: 'sk-ant-unit-5a4b3c' }],
        env: [],
        json: '{}',
      },
    });
    const record: DeploymentRecord = {
      version: 1,
      name: 'unit-app',
      cvmId: 'c'.repeat(32),
      appId: 'a'.repeat(40),
      kmsId: 'kms-1',
      apiBaseUrl: 'http://127.0.0.1:1/api/v1',
      apiKeyItemId: secret.id,
      appCompose: '{"marker":"compose-text-unit"}',
      allowedEnvs: ['ANTHROPIC_API_KEY', 'TOKEN', 'MODEL'],
      envSources: [
        { key: 'ANTHROPIC_API_KEY', itemId: agent.id, field: 'providerKeys', name: 'ANTHROPIC_API_KEY' },
        { key: 'TOKEN', itemId: secret.id, field: 'value' },
        { key: 'MODEL', literal: 'model-literal-unit' },
      ],
      envSpec: [],
      createdAt: new Date().toISOString(),
    };
    const recordId = await saveDeployment(vault, record);
    expect(await listDeployments(vault)).toEqual([{ itemId: recordId, record }]);
    expect(await resolveEnv(vault, record.envSources)).toEqual([
      { key: 'ANTHROPIC_API_KEY', value: 'sk-ant-unit-5a4b3c' },
      { key: 'TOKEN', value: 'tok-unit-9f8e7d' },
      { key: 'MODEL', value: 'model-literal-unit' },
    ]);
    // A vault edit is what the next "Update secrets" seals.
    await vault.save({ id: secret.id, kind: 'secret', fields: { ...secretFields, value: 'tok-unit-rotated' } });
    expect((await resolveEnv(vault, record.envSources))[1]).toEqual({ key: 'TOKEN', value: 'tok-unit-rotated' });

    const raw = await dumpDatabase(dbName);
    for (const needle of [
      PINS.kms.k256Pubkey,
      PINS.pccsUrl,
      'compose-text-unit',
      'model-literal-unit',
      record.appId,
      'clawkeep:deploy',
    ]) {
      expect(raw.includes(needle), needle).toBe(false);
    }
  });

  it('damaged pins are refused with a message; a damaged record is skipped', async () => {
    const vault = createLocalVaultClient(inProcessKdf, new VaultDb(uniqueDbName()));
    await vault.create('pass', FAST_KDF);
    await saveTrustPins(vault, { ...PINS, osImages: [{ ...PINS.osImages[0]!, mrtd: 'zz' }] });
    await expect(loadTrustPins(vault)).rejects.toMatchObject({ code: 'invalid_request' });
    await vault.save({
      kind: 'secret',
      fields: {
        name: 'Deployment: x',
        value: '{"version":2}',
        notes: '',
        tags: ['clawkeep:deployment'],
        expiresAt: null,
        allowedHosts: [],
      },
    });
    expect(await listDeployments(vault)).toEqual([]);
  });
});

describe('env prefill', () => {
  const item = (over: Partial<VaultItem> & Pick<VaultItem, 'kind' | 'fields'>): VaultItem => ({
    id: Math.random().toString(36).slice(2),
    revision: 1,
    createdAt: 0,
    updatedAt: 0,
    ...over,
  });
  const items: VaultItem[] = [
    item({
      kind: 'secret',
      fields: { name: 'Anthropic API key', value: 'a', notes: '', tags: [], expiresAt: null, allowedHosts: [] },
    }),
    item({
      kind: 'agentConfig',
      fields: {
        name: 'bot',
        model: '',
        providerKeys: [{ key: 'ANTHROPIC_API_KEY', value: 'b' }],
        env: [{ key: 'openclaw-gateway-token', value: 'c' }],
        json: '',
      },
    }),
    item({
      kind: 'secret',
      fields: {
        name: 'pins',
        value: '{}',
        notes: '',
        tags: ['clawkeep:deploy-trust'],
        expiresAt: null,
        allowedHosts: [],
      },
    }),
    // Clawkeep's other records, and one a newer version synced here: the whole namespace is reserved.
    item({
      kind: 'secret',
      fields: {
        name: 'installations',
        value: '[]',
        notes: '',
        tags: ['clawkeep:installations'],
        expiresAt: null,
        allowedHosts: [],
      },
    }),
    item({
      kind: 'secret',
      fields: {
        name: 'later',
        value: '{}',
        notes: '',
        tags: ['team', 'clawkeep:not-yet-invented'],
        expiresAt: null,
        allowedHosts: [],
      },
    }),
  ];

  it('matches names regardless of case and separators; an agent config key wins over a secret name; no clawkeep: record is offered', () => {
    expect(normalizeEnvName(' openclaw-gateway token ')).toBe('OPENCLAW_GATEWAY_TOKEN');
    const candidates = envCandidates(items);
    expect(candidates.map((c) => c.label)).toEqual([
      'Anthropic API key (secret)',
      'bot › ANTHROPIC_API_KEY (agent config)',
      'bot › openclaw-gateway-token (agent config)',
    ]);
    expect(suggestCandidate('ANTHROPIC_API_KEY', candidates)?.label).toBe('bot › ANTHROPIC_API_KEY (agent config)');
    expect(suggestCandidate('OPENCLAW_GATEWAY_TOKEN', candidates)?.source).toMatchObject({
      field: 'env',
      name: 'openclaw-gateway-token',
    });
    expect(suggestCandidate('OPENCLAW_MODEL', candidates)).toBeNull();
    // No candidate carries a value.
    expect(JSON.stringify(candidates)).not.toMatch(/"value":"[abc]"/);
  });
});

describe('steps and the re-verify schedule', () => {
  it('a failed step skips every step still pending', () => {
    const seen: StepStatus[][] = [];
    const t = new StepTracker(['health', 'seal', 'start', 'verify'], (s) => seen.push(s));
    t.start('start');
    t.done('start');
    t.start('verify');
    t.fail('verify', 'no');
    // Always in the flow's order, whatever order the ids were given in.
    expect(seen.at(-1)!.map((s) => s.state)).toEqual(['done', 'failed', 'skipped', 'skipped']);
    expect(seen[0]!.map((s) => s.label)).toEqual([
      'Start (no secrets yet)',
      'Verify attestation',
      'Seal secrets',
      'Health',
    ]);
  });

  it('runs one interval after the last verification (at once when overdue), never overlapping, until stopped', async () => {
    let clock = 10_000_000;
    const timers: Array<{ fn: () => void; at: number; id: number }> = [];
    let nextId = 0;
    const setTimer = (fn: () => void, ms: number) => {
      const t = { fn, at: clock + ms, id: nextId++ };
      timers.push(t);
      return t.id;
    };
    const clearTimer = (id: unknown) => {
      const i = timers.findIndex((t) => t.id === id);
      if (i >= 0) timers.splice(i, 1);
    };
    const fire = async () => {
      timers.sort((a, b) => a.at - b.at);
      const t = timers.shift()!;
      clock = t.at;
      t.fn();
      await new Promise((r) => setTimeout(r, 0));
    };
    let runs = 0;
    const hour = 3_600_000;
    const stop = scheduleReverify(async () => void runs++, {
      lastVerifiedAt: clock - 15 * 60_000,
      now: () => clock,
      setTimer,
      clearTimer,
    });
    expect(timers[0]!.at - clock).toBe(45 * 60_000);
    await fire();
    expect(runs).toBe(1);
    expect(timers).toHaveLength(1);
    expect(timers[0]!.at - clock).toBe(hour);
    await fire();
    expect(runs).toBe(2);
    stop();
    expect(timers).toHaveLength(0);

    const overdue = scheduleReverify(async () => void runs++, {
      lastVerifiedAt: clock - 5 * hour,
      now: () => clock,
      setTimer,
      clearTimer,
    });
    expect(timers[0]!.at).toBe(clock);
    overdue();
  });
});

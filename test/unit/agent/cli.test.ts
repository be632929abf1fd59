// @vitest-environment node
import { readFileSync, statSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runClawkeep as clawkeep } from '../cli/run-clawkeep';
import { tempDir } from '../hub/helpers';
import { enrolledDevice, registerAgent, startHub, stopHubs } from './cli-fixture';

afterEach(stopHubs);

describe('clawkeep agent (against a real hub)', () => {
  it('register --json prints agent_id, claim_code, expires_at and no private key; the state file is 0600; status works', async () => {
    const hub = await startHub();
    const dir = tempDir();
    const { res, state } = await registerAgent(hub, dir);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out).toMatchObject({
      agent_id: expect.stringMatching(/^agt_/),
      claim_code: expect.stringMatching(/^[A-Z]{4}-[A-Z]{4}$/),
      expires_at: expect.any(Number),
    });
    const saved = JSON.parse(readFileSync(state, 'utf8'));
    expect(saved).toMatchObject({ version: 1, hub: hub.url, agent_id: out.agent_id });
    for (const secret of [saved.signing_private, saved.box_private]) {
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(res.stdout + res.stderr).not.toContain(secret);
    }
    expect(res.stdout).not.toMatch(/private/i);
    if (process.platform !== 'win32') expect(statSync(state).mode & 0o777).toBe(0o600);

    // Human text mentions the code and the extension.
    const human = await clawkeep([
      'agent',
      'register',
      '--hub',
      hub.url,
      '--name',
      'b',
      '--manifest',
      path.join(dir, 'manifest.md'),
      '--state',
      path.join(dir, 'b.json'),
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Clawkeep extension and enter this claim code: [A-Z]{4}-[A-Z]{4}/);

    // Never overwrites an existing agent.
    const again = await registerAgent(hub, dir);
    expect(again.res.code).toBe(2);
    expect(JSON.parse(readFileSync(state, 'utf8')).agent_id).toBe(out.agent_id);

    const unclaimed = await clawkeep(['agent', 'status', '--state', state, '--json']);
    expect(unclaimed.code).toBe(0);
    expect(JSON.parse(unclaimed.stdout)).toMatchObject({ agent_id: out.agent_id, status: 'unclaimed' });

    const device = await enrolledDevice(hub);
    await device.claim(out.claim_code, ['action:action.approve', 'secret:read:GitHub token']);
    const claimedStatus = await clawkeep(['agent', 'status', '--state', state]);
    expect(claimedStatus.code, claimedStatus.stderr).toBe(0);
    expect(claimedStatus.stdout).toContain('claimed');
    expect(claimedStatus.stdout).toContain('verified and pinned now');
    expect(JSON.parse(readFileSync(state, 'utf8')).device_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    if (process.platform !== 'win32') expect(statSync(state).mode & 0o777).toBe(0o600);
  }, 60_000);

  it('refuses a group/world readable state file, and usage errors exit 2', async () => {
    const dir = tempDir();
    const state = path.join(dir, 'agent.json');
    writeFileSync(state, '{}', { mode: 0o644 });
    chmodSync(state, 0o644);
    if (process.platform !== 'win32') {
      const open = await clawkeep(['agent', 'status', '--state', state]);
      expect(open.code).toBe(2);
      expect(open.stderr).toContain('chmod 600');
    }
    chmodSync(state, 0o600);
    const invalid = await clawkeep(['agent', 'status', '--state', state]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('state is invalid');

    const cases = [
      ['agent'],
      ['agent', 'bogus'],
      ['agent', 'status'],
      ['agent', 'status', '--state', state, '--kind', 'x.y'],
      ['agent', 'register', '--hub', 'http://127.0.0.1:1', '--name', 'x', '--state', path.join(dir, 'n.json')],
      [
        'agent',
        'register',
        '--hub',
        'http://127.0.0.1:1',
        '--name',
        'x',
        '--manifest',
        'a',
        '--manifest-url',
        'https://x',
        '--state',
        path.join(dir, 'n.json'),
      ],
      [
        'agent',
        'register',
        '--hub',
        'http://127.0.0.1:1',
        '--name',
        'x',
        '--manifest-url',
        'https://x',
        '--state',
        path.join(dir, 'n.json'),
        '--scopes',
        'bad scope',
      ],
      ['agent', 'request', '--state', state, '--kind', 'action.approve', '--payload', 'not json'],
      ['agent', 'request', '--state', state, '--kind', 'action.approve', '--payload', '[1]'],
      ['agent', 'request', '--state', state, '--kind', 'secret.request', '--payload', '{}'],
      ['agent', 'secret', '--state', state],
      ['agent', 'secret', 'a', 'b', '--state', state],
      ['agent', 'secret', 'a', '--state', state, '--timeout', '-1'],
      ['agent', 'status', '--state', path.join(dir, 'missing.json')],
    ];
    const results = await Promise.all(cases.map((args) => clawkeep(args)));
    results.forEach((res, i) => {
      expect(res.code, cases[i]!.join(' ')).toBe(2);
      expect(res.stdout, cases[i]!.join(' ')).toBe('');
    });
    // A failed registration leaves no state file behind.
    expect(existsSync(path.join(dir, 'n.json'))).toBe(false);
  }, 60_000);

  it('secret prints only the value (0), denied is 3, timeout is 4; request --wait executes after approval', async () => {
    const hub = await startHub();
    const dir = tempDir();
    const { res, state } = await registerAgent(hub, dir);
    const { claim_code } = JSON.parse(res.stdout);
    const device = await enrolledDevice(hub);
    const { box_key } = await device.claim(claim_code, ['action:action.approve', 'secret:read:GitHub token']);

    const asking = clawkeep(['agent', 'secret', 'GitHub token', '--state', state, '--reason', 'open a PR']);
    const intent = await device.decideNext('approve', box_key, 'ghp_exampleToken123');
    expect(intent.payload).toEqual({ item: 'GitHub token', reason: 'open a PR' });
    const got = await asking;
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe('ghp_exampleToken123');
    expect(got.stderr).not.toContain('ghp_exampleToken123');

    const refused = clawkeep(['agent', 'secret', 'GitHub token', '--state', state]);
    await device.decideNext('deny');
    const denied = await refused;
    expect(denied.code).toBe(3);
    expect(denied.stdout).toBe('');

    const timedOut = await clawkeep(['agent', 'secret', 'GitHub token', '--state', state, '--timeout', '1']);
    expect(timedOut.code).toBe(4);
    expect(timedOut.stdout).toBe('');
    // Leave no pending intent behind for the next step.
    await device.decideNext('deny');

    const waiting = clawkeep([
      'agent',
      'request',
      '--state',
      state,
      '--kind',
      'action.approve',
      '--payload',
      '{"summary":"Merge PR 7","risk":"medium"}',
      '--wait',
      '--json',
    ]);
    await device.decideNext('approve');
    const approved = await waiting;
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({
      decision: 'approved',
      intent: { status: 'executed', kind: 'action.approve' },
      approval: { decision: 'approve' },
    });

    const created = await clawkeep([
      'agent',
      'request',
      '--state',
      state,
      '--kind',
      'action.approve',
      '--payload',
      '{"summary":"later","risk":"low"}',
      '--json',
    ]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ status: 'pending', kind: 'action.approve' });

    // Not granted: an authorization error (2), reported as JSON with --json.
    const notGranted = await clawkeep(['agent', 'secret', 'Bank password', '--state', state, '--json']);
    expect(notGranted.code).toBe(2);
    expect(JSON.parse(notGranted.stdout)).toMatchObject({ error: { code: 'scope_not_granted' } });
  }, 90_000);

  it('config: --env prints KEY=value lines, --json everything, a new revision arrives, none after unassign (exit 1)', async () => {
    const hub = await startHub();
    const dir = tempDir();
    const { res, state } = await registerAgent(hub, dir);
    const device = await enrolledDevice(hub);
    const claimed = await device.claim(JSON.parse(res.stdout).claim_code, []);
    const none = await clawkeep(['agent', 'config', '--state', state, '--json']);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout)).toMatchObject({ error: { code: 'config_not_assigned' } });

    const v1 = {
      name: 'test-bot',
      model: 'm-1',
      provider_keys: [{ key: 'OPENAI_API_KEY', value: 'sk-cli-one' }],
      env: [{ key: 'MODE', value: 'a b' }],
      json: '',
    };
    expect((await device.deliverConfig(claimed, 4, v1)).status).toBe(200);
    const env = await clawkeep(['agent', 'config', '--state', state, '--env']);
    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout).toBe('OPENAI_API_KEY=sk-cli-one\nMODE=a b\n');
    expect(env.stderr).toContain('revision 4 verified');
    expect(env.stderr).not.toContain('sk-cli-one');
    const summary = await clawkeep(['agent', 'config', '--state', state]);
    expect(summary.stdout).toContain('revision 4');
    expect(summary.stdout).toContain('OPENAI_API_KEY');
    expect(summary.stdout).not.toContain('sk-cli-one');

    expect(
      (
        await device.deliverConfig(claimed, 5, {
          ...v1,
          provider_keys: [{ key: 'OPENAI_API_KEY', value: 'sk-cli-two' }],
        })
      ).status,
    ).toBe(200);
    const json = await clawkeep(['agent', 'config', '--state', state, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      config_id: 'cfg-cli',
      revision: 5,
      config: { provider_keys: [{ key: 'OPENAI_API_KEY', value: 'sk-cli-two' }] },
    });
    expect(JSON.parse(readFileSync(state, 'utf8')).config_seen).toMatchObject({ config_id: 'cfg-cli', revision: 5 });

    expect((await clawkeep(['agent', 'config', '--state', state, '--json', '--env'])).code).toBe(2);
    await device.send('DELETE', `/v1/installations/${claimed.installation_id}/config`);
    const gone = await clawkeep(['agent', 'config', '--state', state, '--env']);
    expect(gone.code).toBe(1);
    expect(gone.stdout).toBe('');
    expect(gone.stderr).toContain('config_not_assigned');
  }, 90_000);
});

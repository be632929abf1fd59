// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { utf8Decode } from '../../../lib/bytes';
import { parseStandingApprovals } from '../../../lib/ext/approvals/hub-standing-approvals';
import { STANDING_APPROVALS_TAG } from '../../../lib/storage/vault-tags';
import { kekFor } from '../vault/helpers';
import { realHubService } from './real-hub-service';

const ITEM = 'mock/apiKey';
const VALUE = 'sk-standing-approval-test-value';
const REASON = 'OpenClaw gateway "home" loads "mock/apiKey" through its exec secret provider "clawkeep".';

/** The real pieces: an in-process hub, a real vault (fake-indexeddb), the extension's HubService and an agent SDK client. */
async function setUp() {
  const r = await realHubService([
    {
      kind: 'secret',
      fields: { name: ITEM, value: `${VALUE}-${ITEM}`, notes: '', tags: [], expiresAt: null, allowedHosts: [] },
    },
    {
      kind: 'secret',
      fields: {
        name: 'other/key',
        value: `${VALUE}-other/key`,
        notes: '',
        tags: [],
        expiresAt: null,
        allowedHosts: [],
      },
    },
  ]);
  const { agent, installation_id } = await r.claimAgent('openclaw-gateway', [
    `secret:read:${ITEM}`,
    'secret:read:other/key',
  ]);
  const ask = (item = ITEM, reason = REASON) =>
    agent.createIntent({ kind: 'secret.request', payload: { item, reason } });
  const executeValue = async (id: string, item = ITEM, reason = REASON) => {
    const res = await agent.execute(id, { kind: 'secret.request', payload: { item, reason } });
    return utf8Decode(res.secret!);
  };
  /** The live subscription (started by enrolling) or pollOnce may approve it: wait for the hub to say so. */
  const statusBecomes = async (id: string, status: string) => {
    for (let i = 0; i < 100 && (await agent.getIntent(id)).status !== status; i++)
      await new Promise((res) => setTimeout(res, 20));
    return (await agent.getIntent(id)).status;
  };
  return { ...r, agent, installation_id, ask, executeValue, statusBecomes };
}

describe('standing approvals ("Always approve")', () => {
  it('approves the exact same request again without a prompt, counts uses, and stops once revoked', async () => {
    const t = await setUp();
    const first = await t.ask();
    await t.svc.pollOnce();
    let state = await t.svc.state();
    expect(state.pending.map((p) => p.intent.intent_id)).toEqual([first.intent_id]);
    expect(state.pending[0]!.canAlwaysApprove).toBe(true);
    expect(t.notices.map((n) => n.intent_id)).toEqual([first.intent_id]);

    state = await t.svc.decide(first.intent_id, first.payload_hash, 'approve', true);
    expect(await t.executeValue(first.intent_id)).toBe(`${VALUE}-${ITEM}`);
    expect(state.standingApprovals).toHaveLength(1);
    expect(state.standingApprovals[0]).toMatchObject({
      item: ITEM,
      reason: REASON,
      installation_id: t.installation_id,
      agentName: 'openclaw-gateway',
      uses: 0,
      payload_hash: first.payload_hash,
    });

    // The same request again (a config reload): approved by the background, never shown or announced.
    const again = await t.ask();
    expect(again.payload_hash).toBe(first.payload_hash);
    await t.svc.pollOnce();
    expect(await t.statusBecomes(again.intent_id, 'approved')).toBe('approved');
    state = await t.svc.state();
    expect(state.pending).toEqual([]);
    expect(t.notices.map((n) => n.intent_id)).toEqual([first.intent_id]);
    expect(await t.executeValue(again.intent_id)).toBe(`${VALUE}-${ITEM}`);
    // The use is counted right after the approval was sent.
    for (let i = 0; i < 100 && state.standingApprovals[0]!.uses !== 1; i++) state = await t.svc.state();
    expect(state.standingApprovals[0]).toMatchObject({ uses: 1 });
    expect(state.standingApprovals[0]!.last_used_at).not.toBeNull();

    // Anything else asks: another reason (another payload hash), another item.
    const otherReason = await t.ask(ITEM, 'something else');
    const otherItem = await t.ask('other/key', REASON);
    await t.svc.pollOnce();
    state = await t.svc.state();
    expect(state.pending.map((p) => p.intent.intent_id).sort()).toEqual(
      [otherReason.intent_id, otherItem.intent_id].sort(),
    );
    for (const p of state.pending) await t.svc.decide(p.intent.intent_id, p.intent.payload_hash, 'deny');

    // Revoked: the next identical request waits for the person again.
    state = await t.svc.revokeStandingApproval(state.standingApprovals[0]!.id);
    expect(state.standingApprovals).toEqual([]);
    const afterRevoke = await t.ask();
    await t.svc.pollOnce();
    state = await t.svc.state();
    expect(state.pending.map((p) => p.intent.intent_id)).toEqual([afterRevoke.intent_id]);
    expect((await t.agent.getIntent(afterRevoke.intent_id)).status).toBe('pending');
    await expect(t.svc.revokeStandingApproval('no-such-id')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('stores them only inside the encrypted vault; a locked vault approves nothing until unlocked', async () => {
    const t = await setUp();
    const first = await t.ask();
    await t.svc.pollOnce();
    await t.svc.decide(first.intent_id, first.payload_hash, 'approve', true);
    const summary = (await t.service.list()).find((s) => s.tags.includes(STANDING_APPROVALS_TAG))!;
    const item = await t.service.get({ id: summary.id });
    expect(item.kind === 'secret' && parseStandingApprovals(item.fields.value)).toHaveLength(1);
    expect(JSON.stringify([t.local.data, t.session.data])).not.toContain(first.payload_hash);

    await t.svc.stop(true);
    await t.service.lock();
    const whileLocked = await t.ask();
    await t.svc.pollOnce();
    expect((await t.agent.getIntent(whileLocked.intent_id)).status).toBe('pending');
    await t.service.unlock({ kek: await kekFor('pw', t.salt) });
    await t.svc.pollOnce();
    expect(await t.statusBecomes(whileLocked.intent_id, 'approved')).toBe('approved');
  });

  it('is refused for anything but an approved secret request, and dropped when the agent is revoked', async () => {
    const t = await setUp();
    const first = await t.ask();
    await t.svc.pollOnce();
    await expect(t.svc.decide(first.intent_id, first.payload_hash, 'deny', true)).rejects.toMatchObject({
      code: 'protocol_invalid',
    });
    await t.svc.decide(first.intent_id, first.payload_hash, 'approve', true);
    expect((await t.svc.state()).standingApprovals).toHaveLength(1);
    const state = await t.svc.revoke(t.installation_id);
    expect(state.standingApprovals).toEqual([]);
  });

  it("never releases Clawkeep's own records, even to an agent granted their name", async () => {
    const t = await setUp();
    const first = await t.ask();
    await t.svc.pollOnce();
    await t.svc.decide(first.intent_id, first.payload_hash, 'approve', true);
    // The standing approvals item is a `clawkeep:`-tagged secret; claim an agent that asks for it by name.
    const name = (await t.service.list()).find((s) => s.tags.includes(STANDING_APPROVALS_TAG))!.name;
    const { agent } = await t.claimAgent('curious', [`secret:read:${name}`]);
    const sneaky = await agent.createIntent({
      kind: 'secret.request',
      payload: { item: name, reason: 'just looking' },
    });
    await t.svc.pollOnce();
    const view = (await t.svc.state()).pending.find((p) => p.intent.intent_id === sneaky.intent_id)!;
    expect(view.blocked).toContain(`no secret named "${name}"`);
    expect(view.canAlwaysApprove).toBe(false);
    await expect(t.svc.decide(sneaky.intent_id, sneaky.payload_hash, 'approve')).rejects.toMatchObject({
      code: 'secret_missing',
    });
  });
});

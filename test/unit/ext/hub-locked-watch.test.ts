// @vitest-environment node
// Issue 15, "A locked vault hides every agent request": the real HubService, enrolled at an in-process hub, registers
// a watch token while unlocked and, once locked, still counts the agent's requests (badge, HubState.waiting, the
// approval window for a new one) without knowing anything else about them and without being able to decide.
import { describe, expect, it } from 'vitest';
import { waitingSentence } from '../../../components/unlock/use-waiting';
import { lockedNotificationText } from '../../../lib/ext/approvals/hub-approval-browser';
import { parseWatchSnapshot } from '../../../lib/hub-client/watch-client';
import { HUB_WATCH } from '../../../lib/storage/persisted-keys';
import { kekFor } from '../vault/helpers';
import { realHubService } from './real-hub-service';

const until = async (ok: () => boolean | Promise<boolean>, ms = 8000, what = '') => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('the locked watcher', () => {
  it(
    'counts requests while locked, announces only new ones, and hands over to the signed subscription at unlock',
    { timeout: 30_000 },
    async () => {
      const badge: number[] = [];
      const announced: number[] = [];
      const r = await realHubService(
        [
          {
            kind: 'secret',
            fields: {
              name: 'arxiv-key',
              value: 'sk-arxiv-123',
              notes: '',
              tags: [],
              expiresAt: null,
              allowedHosts: [],
            },
          },
        ],
        {
          realTime: true,
          ports: { badge: (n) => void badge.push(n), waitingWhileLocked: (n) => void announced.push(n) },
        },
      );
      const { agent } = await r.claimAgent('research-bot', ['secret:read:arxiv-key']);
      // Enrolment registered a watch token for this device (stored in the clear; the hub keeps its hash).
      await until(() => Array.isArray(r.local.data[HUB_WATCH.key]), 8000, 'registered');
      const [record] = r.local.data[HUB_WATCH.key] as { hub: string; token: string }[];
      expect(record!.hub).toBe('http://127.0.0.1:8787');

      // A request the person saw while unlocked is not announced again after the lock.
      const seen = await agent.createIntent({ kind: 'secret.request', payload: { item: 'arxiv-key', reason: 'one' } });
      await r.svc.pollOnce();
      expect((await r.svc.state()).pending.map((p) => p.intent.intent_id)).toEqual([seen.intent_id]);
      await r.service.lock();
      await r.svc.stop(true);
      await r.svc.ensureRunning();
      await until(() => badge.at(-1) === 1, 8000, `badge 1 ${JSON.stringify(badge)}`);

      const fresh = await agent.createIntent({ kind: 'secret.request', payload: { item: 'arxiv-key', reason: 'two' } });
      await until(() => badge.at(-1) === 2, 8000, 'badge 2');
      await until(() => announced.length === 1, 8000, 'announced');
      expect(announced).toEqual([1]);
      const locked = await r.svc.state();
      expect(locked).toMatchObject({ unlocked: false, waiting: 2, pending: [] });
      // Nothing but the count reaches a page: no agent, kind or payload.
      expect(JSON.stringify(locked)).not.toContain('arxiv-key');
      // Locked, deciding is impossible: the device key is in the vault.
      await expect(r.svc.decide(fresh.intent_id, fresh.payload_hash, 'approve')).rejects.toThrow();
      expect((await agent.getIntent(fresh.intent_id)).status).toBe('pending');

      // Unlock: the signed subscription shows both cards; the watcher stops counting.
      await r.service.unlock({ kek: await kekFor('pw', r.salt) });
      await r.svc.ensureRunning();
      await until(async () => (await r.svc.state()).pending.length === 2);
      const open = await r.svc.state();
      expect(open.waiting).toBe(2);
      await r.svc.decide(fresh.intent_id, fresh.payload_hash, 'approve');
      expect((await agent.getIntent(fresh.intent_id)).status).toBe('approved');
      await r.svc.stop(false);
    },
  );
});

describe('what the locked watcher shows and accepts', () => {
  it('says the count in words, singular for one', () => {
    expect(waitingSentence(1)).toBe('1 request waiting — unlock to review');
    expect(waitingSentence(3)).toBe('3 requests waiting — unlock to review');
    expect(lockedNotificationText(1).message).toBe('A request is waiting. Unlock Clawkeep to review.');
    expect(lockedNotificationText(2).message).toBe('2 requests are waiting. Unlock Clawkeep to review.');
  });

  it('refuses a watch answer that is not ids and a count (a hub cannot slip anything else through)', () => {
    const id = 'int_q60J7GLzeRbmCfBSfJAqPw';
    expect(parseWatchSnapshot({ pending: 2, intent_ids: [id] })).toEqual({ pending: 2, intent_ids: [id] });
    for (const bad of [
      { pending: 0, intent_ids: [id] },
      { pending: 1, intent_ids: ['<img src=x>'] },
      { pending: -1, intent_ids: [] },
      { pending: 1, intent_ids: [id], payload: { item: 'arxiv-key' } },
      { pending: 1.5, intent_ids: [] },
      { pending: 501, intent_ids: Array.from({ length: 501 }, () => id) },
    ])
      expect(() => parseWatchSnapshot(bad), JSON.stringify(bad).slice(0, 60)).toThrow(/malformed watch answer/);
  });
});

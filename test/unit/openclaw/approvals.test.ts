// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { ApprovalBook, type PendingExecApproval, normalizeApproval } from '../../../lib/openclaw/approvals';
import { DEFAULT_BACKOFF, backoffDelay } from '../../../lib/openclaw/backoff';

/** An `exec.approval.requested` payload as the gateway sends it (spec §2, seen in a real run). */
export const execRecord = (id: string, createdAtMs: number, over: Record<string, unknown> = {}) => ({
  approvalKind: 'exec',
  id,
  createdAtMs,
  expiresAtMs: createdAtMs + 1_800_000,
  request: {
    command: 'echo hello-from-agent',
    commandArgv: ['echo', 'hello-from-agent'],
    cwd: '/home/agent',
    host: 'gateway',
    nodeId: null,
    agentId: 'main',
    sessionKey: 'agent:main:main',
    runId: 'run-1',
    toolCallId: 'call-1',
    resolvedPath: '/usr/bin/echo',
    security: 'allowlist',
    ask: 'on-miss',
    allowedDecisions: ['allow-once', 'deny'],
    unavailableDecisions: ['allow-always'],
    commandAnalysis: { commandCount: 1, riskKinds: ['network'], warningLines: ['Contacts the network'] },
    warningText: 'Runs outside the sandbox',
    ...over,
  },
});

describe('openclaw approvals', () => {
  it('normalises an exec record', () => {
    expect(normalizeApproval(execRecord('a1', 1000), 'exec')).toEqual({
      kind: 'exec',
      id: 'a1',
      createdAtMs: 1000,
      expiresAtMs: 1_801_000,
      agentId: 'main',
      sessionKey: 'agent:main:main',
      allowedDecisions: ['allow-once', 'deny'],
      command: 'echo hello-from-agent',
      cwd: '/home/agent',
      host: 'gateway',
      nodeId: null,
      resolvedPath: '/usr/bin/echo',
      warnings: ['Contacts the network', 'Runs outside the sandbox'],
      riskKinds: ['network'],
    });
    expect(
      normalizeApproval(execRecord('a2', 1, { allowedDecisions: ['allow-once', 'bogus', 'deny', 'deny'] }), 'exec')
        ?.allowedDecisions,
    ).toEqual(['allow-once', 'deny']);
    expect(normalizeApproval(execRecord('a3', 1, { allowedDecisions: undefined }), 'exec')?.allowedDecisions).toEqual([
      'allow-once',
      'deny',
    ]);
    expect(normalizeApproval(execRecord('a4', 1, { command: undefined }), 'exec')).toMatchObject({
      command: 'echo hello-from-agent',
    });
    expect(normalizeApproval({ ...execRecord('a5', 1), approvalKind: 'plugin' }, 'exec')).toBeNull();
    expect(normalizeApproval({ id: 'x', request: {} }, 'exec')).toBeNull();
  });

  it('normalises a plugin record', () => {
    const rec = {
      id: 'p1',
      createdAtMs: 5,
      expiresAtMs: 100,
      request: {
        pluginId: 'fs-guard',
        title: 'Delete files?',
        description: 'rm in ~/Documents',
        severity: 'critical',
        toolName: 'fs.delete',
        agentId: 'main',
      },
    };
    expect(normalizeApproval(rec, 'plugin')).toEqual({
      kind: 'plugin',
      id: 'p1',
      createdAtMs: 5,
      expiresAtMs: 100,
      agentId: 'main',
      sessionKey: null,
      allowedDecisions: ['allow-once', 'allow-always', 'deny'],
      title: 'Delete files?',
      description: 'rm in ~/Documents',
      severity: 'critical',
      toolName: 'fs.delete',
      pluginId: 'fs-guard',
    });
  });

  it('merges by id, drops on resolve and on expiry, keeps live items across a backfill', () => {
    let now = 10_000;
    const book = new ApprovalBook(() => now);
    const a = normalizeApproval(execRecord('a', 1000), 'exec') as PendingExecApproval;
    const b = normalizeApproval(execRecord('b', 2000), 'exec')!;
    book.upsert(b);
    book.upsert(a);
    book.upsert({ ...a, command: 'echo updated' });
    expect(book.list().map((x) => [x.id, x.kind === 'exec' && x.command])).toEqual([
      ['a', 'echo updated'],
      ['b', 'echo hello-from-agent'],
    ]);
    // Backfill replaces the exec list, but keeps `b` because it arrived live during the list call.
    const c = normalizeApproval(execRecord('c', 3000), 'exec')!;
    book.backfill('exec', [c], new Set(['b']));
    expect(book.list().map((x) => x.id)).toEqual(['b', 'c']);
    expect(book.remove('exec', 'b')).toBe(true);
    expect(book.remove('exec', 'b')).toBe(false);
    expect(book.nextExpiry()).toBe(1_803_000);
    now = 1_803_000;
    expect(book.list()).toEqual([]);
    expect(book.prune()).toBe(true);
    expect(book.nextExpiry()).toBeNull();
    // An already-expired record is never added.
    expect(book.upsert(normalizeApproval(execRecord('old', 0), 'exec')!)).toBe(false);
  });

  it('guards decisions against allowedDecisions', () => {
    const book = new ApprovalBook(() => 0);
    book.upsert(normalizeApproval(execRecord('a', 1), 'exec')!);
    expect(book.assertDecision('exec', 'a', 'allow-once').id).toBe('a');
    expect(() => book.assertDecision('exec', 'a', 'allow-always')).toThrow(
      expect.objectContaining({ code: 'decision_not_allowed' }),
    );
    expect(() => book.assertDecision('exec', 'zzz', 'deny')).toThrow(
      expect.objectContaining({ code: 'approval_unknown' }),
    );
    expect(() => book.assertDecision('plugin', 'a', 'deny')).toThrow(
      expect.objectContaining({ code: 'approval_unknown' }),
    );
  });

  it('backs off exponentially with bounded jitter and a cap', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, DEFAULT_BACKOFF, mid))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0)).toBe(800);
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0.999999)).toBe(1200);
    expect(backoffDelay(20, DEFAULT_BACKOFF, () => 0.999999)).toBe(30000);
    expect(backoffDelay(20, DEFAULT_BACKOFF, () => 0)).toBe(24000);
  });
});

import { describe, expect, it } from 'vitest';
import { describeScope } from '../../../components/agents/scope-words';
import { INTENT_KIND_NAMES } from '../../../lib/protocol/intent-kinds';

describe('describeScope', () => {
  it('names the secret a read scope gives, quoted literally', () => {
    expect(describeScope('secret:read:GitHub token')).toBe('Read the secret “GitHub token”');
    expect(describeScope('secret:read:a:b')).toBe('Read the secret “a:b”');
  });

  it('says what each known action kind lets the agent ask for, and never echoes an id as the words', () => {
    expect(describeScope('action:shell.exec')).toBe('Ask you to approve: run a shell command');
    for (const kind of INTENT_KIND_NAMES) {
      const words = describeScope(`action:${kind}`);
      expect(words).toMatch(/^Ask you to approve: [a-z]/);
      expect(words).not.toContain(kind);
    }
    expect(describeScope('action:deploy.rollout')).toBe('Ask you to approve “deploy.rollout” requests');
  });

  it('does not dress up something outside the scope grammar', () => {
    expect(describeScope('secret:write:x')).toMatch(/^Unknown scope/);
    expect(describeScope('secret:read:')).toMatch(/^Unknown scope/);
  });
});

import { describe, expect, it } from 'vitest';
import { decisionSentence, denyAllSentence, QUOTE_CHARS, quoted } from '../../../lib/hub-client/decision-text';
import { INTENT_KIND_NAMES } from '../../../lib/protocol/intent-kinds';

const secret = {
  agentName: 'research-bot',
  kind: 'secret.request',
  payload: { item: 'GitHub token', reason: 'x' },
  valid: true,
};

describe('the confirmation after a decision on the approval card', () => {
  it('says what was sent to whom for a secret', () => {
    expect(decisionSentence(secret, 'approve')).toBe('Sent “GitHub token” to research-bot.');
    expect(decisionSentence(secret, 'always')).toBe(
      "Sent “GitHub token” to research-bot. It won't need to ask again for this.",
    );
    expect(decisionSentence(secret, 'deny')).toBe(
      "Denied research-bot's request for “GitHub token”. Nothing was sent.",
    );
  });

  it('names every other kind by what it is, with the summary the card showed', () => {
    const of = (kind: string) => ({ agentName: 'ops-bot', kind, payload: { summary: 'Ship 2.4' }, valid: true });
    expect(decisionSentence(of('shell.exec'), 'approve')).toBe("Approved ops-bot's command “Ship 2.4”.");
    expect(decisionSentence(of('action.approve'), 'deny')).toBe("Denied ops-bot's action “Ship 2.4”.");
    expect(decisionSentence(of('payment.send'), 'approve')).toBe("Approved ops-bot's payment “Ship 2.4”.");
    expect(decisionSentence(of('message.send'), 'approve')).toBe("Approved ops-bot's message “Ship 2.4”.");
    for (const kind of INTENT_KIND_NAMES) expect(decisionSentence(of(kind), 'deny')).not.toContain('undefined');
  });

  it('an invalid payload is named only as a request: its fields were not trusted text', () => {
    expect(
      decisionSentence(
        { agentName: 'ops-bot', kind: 'shell.exec', payload: { summary: 'evil\u202e' }, valid: false },
        'deny',
      ),
    ).toBe("Denied ops-bot's request.");
    expect(decisionSentence({ agentName: 'ops-bot', kind: 'future.kind', payload: {}, valid: false }, 'deny')).toBe(
      "Denied ops-bot's request.",
    );
  });

  it('cuts a long summary to one short line, on a character boundary', () => {
    const long = '😀'.repeat(200);
    const q = quoted(long);
    expect([...q].length).toBe(QUOTE_CHARS + 2);
    expect(q.endsWith('…”')).toBe(true);
    expect(quoted('two\n  lines')).toBe('“two lines”');
  });

  it('deny all says how many', () => {
    expect(denyAllSentence('ops-bot', 3)).toBe('Denied all 3 requests from ops-bot.');
    expect(denyAllSentence('ops-bot', 1)).toBe("Denied ops-bot's request.");
  });
});

import { describe, expect, it } from 'vitest';
import { assessPassphrase, MIN_PASSPHRASE_LENGTH } from '../../../lib/crypto/passphrase-policy';

describe('the master passphrase floor', () => {
  it('refuses a one-character passphrase and says how long it must be', async () => {
    const verdict = await assessPassphrase('a');
    expect(verdict.acceptable).toBe(false);
    expect(verdict.message).toContain(`at least ${MIN_PASSPHRASE_LENGTH} characters`);
    expect(verdict.message).not.toContain('"a"');
  });

  it('refuses long but guessable passphrases (common password, repetition)', async () => {
    for (const weak of ['password1234', 'aaaaaaaaaaaaaaaa', 'qwertyuiop123']) {
      const verdict = await assessPassphrase(weak);
      expect(verdict.acceptable, weak).toBe(false);
      expect(verdict.message, weak).toMatch(/too easy to guess/);
      expect(verdict.message, weak).not.toContain(weak);
    }
  });

  it('accepts several unrelated words', async () => {
    const verdict = await assessPassphrase('tangerine-orbit-velvet-42');
    expect(verdict).toMatchObject({ acceptable: true, score: 4, message: 'Strong.' });
  });

  it('a strong 11-character password is still refused for its length', async () => {
    const verdict = await assessPassphrase('xV9#qL2!mZ7');
    expect(verdict.acceptable).toBe(false);
    expect(verdict.message).toMatch(/^Too short/);
  });
});

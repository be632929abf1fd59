// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { planBitwardenImport } from '../../../lib/import/bitwarden';
import { ImportError } from '../../../lib/import/errors';
import { RESERVED_TAG_PREFIX } from '../../../lib/storage/vault-tags';
import { importFixture } from './fixtures';

const byName = (plan: ReturnType<typeof planBitwardenImport>) =>
  new Map(plan.candidates.map((c) => [c.fields.name, c] as const));

describe('Bitwarden JSON export', () => {
  const plan = planBitwardenImport(importFixture('bitwarden-export.json'));
  const items = byName(plan);

  it('a login: the password is the value; username, URIs and text/boolean fields go into the notes; folder → tag', () => {
    const gh = items.get('GitHub')!;
    expect(gh.fields.value).toBe('fixture-gh-password-4f1c');
    expect(gh.becomes).toBe('the password');
    expect(gh.fields.notes).toBe(
      [
        'Username: jdoe',
        'URL: https://github.com/login',
        'URL: https://gist.github.com',
        'recovery email: jdoe@example.com',
        'sso only: false',
        '',
        'Personal account, 2FA on.',
      ].join('\n'),
    );
    expect(gh.fields.tags).toEqual(['Work']);
  });

  it('the TOTP seed and each hidden field become items of their own; a linked field is skipped', () => {
    expect(items.get('GitHub — TOTP')!.fields.value).toBe('JBSWY3DPEHPK3PXP');
    expect(items.get('GitHub — deploy token')!.fields.value).toBe('ghp_fixtureHiddenFieldValue0001');
    expect(plan.skipped.map((s) => s.source)).toContain('item 1 “GitHub”, field “login name”');
  });

  it('a secure note: the note text is the value; an SSH key: the private key, public key in the notes', () => {
    expect(items.get('OpenAI API key')!.fields.value).toBe('sk-fixture-secure-note-value-9b3e');
    const ssh = items.get('deploy SSH key')!;
    expect(ssh.fields.value).toContain('BEGIN OPENSSH PRIVATE KEY');
    expect(ssh.fields.notes).toContain('Public key: ssh-ed25519');
    expect(ssh.fields.notes).toContain('Fingerprint: SHA256:fixtureFingerprint');
    expect(ssh.fields.tags).toEqual(['Infra/Cloud']);
  });

  it('cards and identities are listed as skipped, never imported', () => {
    expect(plan.candidates.map((c) => c.fields.name)).toEqual([
      'GitHub',
      'GitHub — TOTP',
      'GitHub — deploy token',
      'AWS console',
      'OpenAI API key',
      'deploy SSH key',
    ]);
    expect(plan.skipped.map((s) => s.source)).toEqual(expect.arrayContaining(['item 4 “Company Visa”', 'item 6 “Me”']));
  });

  it('a truncated file is a typed error naming where it ends', () => {
    const text = importFixture('bitwarden-export-truncated.json');
    const err = (() => {
      try {
        planBitwardenImport(text);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ImportError);
    expect(err).toMatchObject({ code: 'import_malformed' });
    const lines = text.split('\n');
    expect((err as ImportError).position).toEqual({ line: lines.length, column: lines.at(-1)!.length + 1 });
    expect((err as Error).message).toMatch(/truncated/);
    expect((err as Error).message).not.toContain('fixture');
  });

  it('an encrypted export is refused with what to do instead', () => {
    const text = JSON.stringify({ encrypted: true, encKeyValidation_DO_NOT_EDIT: '2.x', folders: [], items: [] });
    expect(() => planBitwardenImport(text)).toThrow(/encrypted Bitwarden export/);
  });

  it('a folder named in the clawkeep: namespace never becomes a tag', () => {
    const doc = {
      encrypted: false,
      folders: [{ id: 'f', name: `${RESERVED_TAG_PREFIX}installations` }],
      items: [{ type: 2, name: 'n', notes: 'v', folderId: 'f' }],
    };
    const p = planBitwardenImport(JSON.stringify(doc));
    expect(p.candidates[0]!.fields.tags).toEqual([]);
    expect(p.notes.join(' ')).toMatch(/reserved for Clawkeep/);
  });

  it('JSON that is not an export, and an export with nothing importable, are typed errors', () => {
    expect(() => planBitwardenImport('[1,2]')).toThrow(ImportError);
    expect(() => planBitwardenImport('{"encrypted":false,"items":[{"type":3,"name":"card"}]}')).toThrow(
      expect.objectContaining({ code: 'import_empty' }),
    );
  });
});

// @vitest-environment node
/**
 * A secret's allowed hosts (issue 18, lib/vault/secret-hosts.ts): what the person may type, what is stored, what is
 * refused and how the message reads, and the check the approval code runs before a card is shown.
 */
import { describe, expect, it } from 'vitest';
import { ClawkeepError } from '../../../lib/errors';
import { decodeFields, encodeFields, normalizeDraft, normalizeSecretFields } from '../../../lib/vault/item-codec';
import { MAX_ALLOWED_HOSTS, normalizeAllowedHosts, secretAllowsHost } from '../../../lib/vault/secret-hosts';
import { utf8Encode } from '../../../lib/bytes';
import { STANDING_APPROVALS_TAG } from '../../../lib/storage/vault-tags';
import type { SecretFields } from '../../../lib/vault/types';

const base = { name: 'GitHub token', value: 'ghp_NOT-IN-ANY-MESSAGE', notes: '', tags: [], expiresAt: null };

/** The item_invalid message for `entries`, failing the test if they are accepted or something else is thrown. */
function refusal(entries: unknown): string {
  try {
    normalizeAllowedHosts(entries);
  } catch (err) {
    expect(err).toBeInstanceOf(ClawkeepError);
    expect((err as ClawkeepError).code).toBe('item_invalid');
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(entries)}`);
}

describe('normalizeAllowedHosts', () => {
  it('stores hosts as a request names them: trimmed, lower-case, scheme and trailing slash and :443 dropped', () => {
    expect(
      normalizeAllowedHosts([
        '  API.GitHub.com ',
        'https://uploads.github.com',
        'https://Example.org/',
        'HTTPS://api.stripe.com:443/',
        'localhost:8443',
        '10.0.0.2:9000',
        '192.168.1.1',
      ]),
    ).toEqual([
      'api.github.com',
      'uploads.github.com',
      'example.org',
      'api.stripe.com',
      'localhost:8443',
      '10.0.0.2:9000',
      '192.168.1.1',
    ]);
  });

  it('absent or empty is [] (fail closed); blanks dropped; duplicates kept once, first spelling order', () => {
    expect(normalizeAllowedHosts(undefined)).toEqual([]);
    expect(normalizeAllowedHosts(null)).toEqual([]);
    expect(normalizeAllowedHosts([])).toEqual([]);
    expect(normalizeAllowedHosts(['', '  '])).toEqual([]);
    expect(normalizeAllowedHosts(['b.example', 'a.example', 'https://B.example/', 'b.example:443'])).toEqual([
      'b.example',
      'a.example',
    ]);
  });

  it('an internationalised name is stored as its A-label, which is what a request URL holds', () => {
    expect(normalizeAllowedHosts(['bücher.example'])).toEqual(['xn--bcher-kva.example']);
  });

  it('refuses http with a message naming the entry and the https spelling', () => {
    const message = refusal(['api.github.com', 'http://example.com']);
    expect(message).toBe(
      'Allowed host "http://example.com" is not https: a secret is only ever sent over https ' +
        '(to allow the https address, write "example.com").',
    );
    expect(refusal(['ftp://files.example'])).toContain('is not https');
    expect(refusal(['wss://socket.example/'])).toContain('is not https');
  });

  it('refuses a path, query or fragment without quoting what followed the host', () => {
    const path = refusal(['https://api.github.com/repos/o/r?access_token=TOKEN123']);
    expect(path).toBe(
      'Allowed host "https://api.github.com/…" must be a host alone, without a path, query or fragment.',
    );
    expect(path).not.toContain('TOKEN123');
    expect(refusal(['api.github.com/v3'])).toContain('"api.github.com/…"');
    expect(refusal(['https://api.github.com?x=1'])).toContain('without a path');
    expect(refusal(['https://api.github.com/#frag'])).toContain('without a path');
  });

  it('refuses a user name or password, naming the entry by position only', () => {
    const message = refusal(['a.example', 'https://me:hunter2@api.example']);
    expect(message).toBe('Allowed host 2 must not hold a user name or password.');
    expect(message).not.toContain('hunter2');
  });

  it('refuses what is not a DNS name or IPv4 address with a port other than 443', () => {
    for (const entry of [
      '[::1]',
      'https://[2001:db8::1]/',
      'api.github.com.',
      'under_score.example',
      '-lead.example',
      'a..b',
      'host:0',
      'host:65536',
      'host:port',
      '*.github.com',
    ])
      expect(refusal([entry]), entry).toMatch(/is not a host name: write a DNS name such as api\.github\.com/);
    expect(refusal(['two words.example'])).toContain('holds a space');
  });

  it('refuses a spelling the URL parser would rewrite, giving the form to write', () => {
    expect(refusal(['127.1'])).toBe('Allowed host "127.1" is not written in full: write 127.0.0.1.');
    expect(refusal(['0x7f.0.0.1'])).toContain('write 127.0.0.1');
    expect(refusal(['%61pi.github.com'])).toContain('write api.github.com');
  });

  it('bounds the list and each entry', () => {
    const many = Array.from({ length: MAX_ALLOWED_HOSTS + 1 }, (_, i) => `h${i}.example`);
    expect(normalizeAllowedHosts(many.slice(0, MAX_ALLOWED_HOSTS))).toHaveLength(MAX_ALLOWED_HOSTS);
    expect(refusal(many)).toBe(`Allowed hosts: at most ${MAX_ALLOWED_HOSTS} hosts.`);
    expect(refusal(Array.from({ length: 1000 }, () => 'a.example'))).toContain('at most');
    expect(refusal([`${'a'.repeat(400)}.example`])).toBe('Allowed host 1 is too long to be a host name.');
    expect(refusal('api.github.com')).toContain('must be a list');
    expect(refusal([42])).toBe('Allowed hosts must be text.');
  });

  it('quotes at most a short, printable part of an entry', () => {
    const message = refusal([`http://${'x'.repeat(200)}.example\u202e`]);
    expect(message.length).toBeLessThan(300);
    expect(message).not.toMatch(/[^\x20-\x7e…“”]/);
  });
});

describe('secret fields carry allowedHosts through the item codec', () => {
  it('an item saved before the field existed reads as [] and re-encodes with it', () => {
    const old = utf8Encode(JSON.stringify(base));
    const fields = decodeFields('secret', old) as SecretFields;
    expect(fields.allowedHosts).toEqual([]);
    expect(decodeFields('secret', encodeFields(fields))).toEqual(fields);
  });

  it('a draft is normalised, and a bad host refuses the whole save', () => {
    const draft = normalizeDraft({
      kind: 'secret',
      fields: { ...base, allowedHosts: ['https://API.github.com/', 'api.github.com'] },
    });
    expect(draft.fields).toEqual({ ...base, allowedHosts: ['api.github.com'] });
    expect(() => normalizeSecretFields({ ...base, allowedHosts: ['http://example.com'] })).toThrow(
      /Allowed host "http:\/\/example\.com" is not https/,
    );
  });

  it('no message carries the secret value', () => {
    for (const allowedHosts of [['http://x.example'], ['x.example/p'], ['@'], [1], 'x']) {
      try {
        normalizeSecretFields({ ...base, allowedHosts });
      } catch (err) {
        expect((err as Error).message).not.toContain(base.value);
        continue;
      }
      throw new Error('accepted');
    }
  });
});

describe('secretAllowsHost', () => {
  const fields = (allowedHosts: string[], tags: string[] = []) => ({ allowedHosts, tags });

  it('allows exactly the listed hosts', () => {
    const f = fields(['api.github.com', 'localhost:8443']);
    expect(secretAllowsHost(f, 'api.github.com')).toBe(true);
    expect(secretAllowsHost(f, 'localhost:8443')).toBe(true);
    expect(secretAllowsHost(f, 'localhost')).toBe(false);
    expect(secretAllowsHost(f, 'uploads.github.com')).toBe(false);
    expect(secretAllowsHost(f, 'github.com')).toBe(false);
    expect(secretAllowsHost(f, 'evil.api.github.com')).toBe(false);
  });

  it('an empty list allows nothing', () => {
    expect(secretAllowsHost(fields([]), 'api.github.com')).toBe(false);
  });

  it('a host not in canonical form matches nothing', () => {
    const f = fields(['api.github.com']);
    for (const host of ['API.github.com', 'api.github.com:443', 'https://api.github.com', 'api.github.com.', ''])
      expect(secretAllowsHost(f, host), host).toBe(false);
  });

  it("one of Clawkeep's own records is never sent, whatever its list says", () => {
    expect(secretAllowsHost(fields(['api.github.com'], [STANDING_APPROVALS_TAG]), 'api.github.com')).toBe(false);
    expect(secretAllowsHost(fields(['api.github.com'], ['CLAWKEEP:later']), 'api.github.com')).toBe(false);
  });
});

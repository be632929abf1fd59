// @vitest-environment node
/**
 * Property tests for a secret's allowed hosts (lib/vault/secret-hosts.ts): any input gives a list of hosts a request
 * can name, or item_invalid, nothing else; the result is a fixed point (what is stored reads back the same); the ways
 * a person writes a host all give the same stored host; and the check allows exactly the listed hosts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClawkeepError } from '../../../lib/errors';
import { isHttpHost } from '../../../lib/protocol/http-request';
import { MAX_ALLOWED_HOSTS, normalizeAllowedHosts, secretAllowsHost } from '../../../lib/vault/secret-hosts';
import { check, httpHost, typedOnly } from './arbitraries';

/** Entries weighted towards what matters here: hosts, schemes, ports, slashes, case and space. */
const entry = fc.oneof(
  httpHost,
  fc
    .tuple(
      fc.constantFrom('', 'https://', 'HTTPS://', 'http://', 'ftp://', ' '),
      httpHost,
      fc.constantFrom('', '/', ':443', ':443/', '/x', '?q', '#f', ' ', '.'),
    )
    .map(([a, h, b]) => a + h + b),
  fc.string({ maxLength: 30 }),
);

describe('normalizeAllowedHosts', () => {
  it('any entries: canonical unique hosts (at most 32) or item_invalid, never anything else', () => {
    check(
      fc.array(fc.oneof(entry, fc.anything()), { maxLength: 40 }),
      (entries) => {
        let hosts: string[] | undefined;
        const outcome = typedOnly(
          () => {
            hosts = normalizeAllowedHosts(entries);
          },
          ClawkeepError,
          ['item_invalid'],
        );
        if (outcome !== 'ok') return;
        expect(hosts!.every(isHttpHost)).toBe(true);
        expect(new Set(hosts).size).toBe(hosts!.length);
        expect(hosts!.length).toBeLessThanOrEqual(MAX_ALLOWED_HOSTS);
      },
      400,
    );
  });

  it('is a fixed point: a stored list normalises to itself', () => {
    check(
      fc.array(entry, { maxLength: 12 }),
      (entries) => {
        let hosts: string[];
        try {
          hosts = normalizeAllowedHosts(entries);
        } catch {
          return;
        }
        expect(normalizeAllowedHosts(hosts)).toEqual(hosts);
      },
      300,
    );
  });

  it('every way of writing a host stores the host', () => {
    check(
      fc.tuple(
        httpHost,
        fc.constantFrom('', 'https://', 'HTTPS://'),
        fc.constantFrom('', '/'),
        fc.boolean(),
        fc.boolean(),
      ),
      ([host, scheme, slash, upper, padded]) => {
        // ":443" can be added only to a host without a port of its own.
        const port = host.includes(':') || !padded ? '' : ':443';
        let written = `${scheme}${host}${port}${slash}`;
        if (upper) written = written.toUpperCase();
        if (padded) written = ` ${written}\t`;
        expect(normalizeAllowedHosts([written])).toEqual([host]);
      },
      300,
    );
  });

  it('http:// is always refused', () => {
    check(
      httpHost,
      (host) => {
        expect(() => normalizeAllowedHosts([`http://${host}`])).toThrow(/is not https/);
      },
      100,
    );
  });
});

describe('secretAllowsHost', () => {
  it('true exactly for a listed host', () => {
    check(
      fc.tuple(fc.uniqueArray(httpHost, { maxLength: 5 }), httpHost),
      ([allowedHosts, host]) => {
        expect(secretAllowsHost({ allowedHosts, tags: [] }, host)).toBe(allowedHosts.includes(host));
        for (const listed of allowedHosts) expect(secretAllowsHost({ allowedHosts, tags: [] }, listed)).toBe(true);
      },
      200,
    );
  });
});

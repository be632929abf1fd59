import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toBase64 } from '../../../lib/bytes';
import { ProtocolError } from '../../../lib/protocol/errors';
import { describeHttpRequest, HTTP_BODY_MAX, parseHttpRequest, secretsUsed } from '../../../lib/protocol/http-request';

const PR = {
  method: 'POST',
  url: 'https://api.github.com/repos/o/r/pulls',
  headers: [
    ['authorization', 'Bearer {{secret:GitHub token}}'],
    ['accept', 'application/vnd.github+json'],
  ],
  body: { text: '{"title":"Fix","head":"fix","base":"main"}' },
};

function refused(payload: unknown): string {
  try {
    parseHttpRequest(payload);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('protocol_invalid');
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('http.request payload (issue 18)', () => {
  it('the issue example: where the secret goes, the host, and the card sentence', () => {
    const r = parseHttpRequest(PR);
    expect(r.host).toBe('api.github.com');
    expect(r.secretUses).toEqual([{ secret: 'GitHub token', in: 'header', header: 'authorization' }]);
    expect(secretsUsed(r)).toEqual(['GitHub token']);
    expect(describeHttpRequest('research-bot', r)).toBe(
      'research-bot wants to POST https://api.github.com/repos/o/r/pulls using your “GitHub token” in the Authorization header',
    );
  });

  it('a secret in a query value: named by its parameter; the URL is shown without its query', () => {
    const r = parseHttpRequest({
      method: 'GET',
      url: 'https://maps.example.com/v1/geocode?q=Paris&api%20key={{secret:Maps key}}',
    });
    expect(r.secretUses).toEqual([{ secret: 'Maps key', in: 'query', parameter: 'api key' }]);
    expect(describeHttpRequest('bot', r)).toBe(
      'bot wants to GET https://maps.example.com/v1/geocode using your “Maps key” in the “api key” query parameter',
    );
  });

  it('several secrets and places in one sentence; no secret, no "using"', () => {
    const r = parseHttpRequest({
      method: 'PUT',
      url: 'https://x.example:8443/a?sig={{secret:Signer}}',
      headers: [['x-api-key', '{{secret:Key}}']],
      body: { text: 'token={{secret:Key}}' },
    });
    expect(r.host).toBe('x.example:8443');
    expect(describeHttpRequest('bot', r)).toBe(
      'bot wants to PUT https://x.example:8443/a using your “Key” in the X-Api-Key header and the request body, and your “Signer” in the “sig” query parameter',
    );
    expect(describeHttpRequest('bot', parseHttpRequest({ method: 'GET', url: 'https://example.com/' }))).toBe(
      'bot wants to GET https://example.com/',
    );
  });

  it('binary bodies travel as base64, up to 64 KiB', () => {
    const max = new Uint8Array(HTTP_BODY_MAX);
    expect(
      parseHttpRequest({ method: 'POST', url: 'https://e.example/', body: { base64: toBase64(max) } }).body,
    ).toEqual({ base64: toBase64(max) });
    refused({
      method: 'POST',
      url: 'https://e.example/',
      body: { base64: toBase64(new Uint8Array(HTTP_BODY_MAX + 1)) },
    });
    refused({ method: 'POST', url: 'https://e.example/', body: { text: 'x'.repeat(HTTP_BODY_MAX + 1) } });
  });

  it.each([
    ['plain http', { method: 'GET', url: 'http://api.github.com/' }],
    ['a user name in the URL', { method: 'GET', url: 'https://me:pw@api.github.com/' }],
    ['a fragment', { method: 'GET', url: 'https://api.github.com/#x' }],
    ['an upper-case host', { method: 'GET', url: 'https://API.github.com/' }],
    ['the default port written out', { method: 'GET', url: 'https://api.github.com:443/' }],
    ['dot segments', { method: 'GET', url: 'https://api.github.com/a/../admin' }],
    ['no path', { method: 'GET', url: 'https://api.github.com' }],
    ['a percent-encoded host', { method: 'GET', url: 'https://ap%69.github.com/' }],
    ['a secret in the host', { method: 'GET', url: 'https://{{secret:Host}}.example.com/' }],
    ['a secret in the path', { method: 'GET', url: 'https://e.example/{{secret:Key}}' }],
    ['a secret in a query name', { method: 'GET', url: 'https://e.example/?{{secret:Key}}=1' }],
    ['an unknown method', { method: 'CONNECT', url: 'https://e.example/' }],
    ['a GET with a body', { method: 'GET', url: 'https://e.example/', body: { text: 'x' } }],
    ['an unknown field', { method: 'GET', url: 'https://e.example/', follow: true }],
    ['a Host header', { method: 'GET', url: 'https://e.example/', headers: [['host', 'other.example']] }],
    ['a Cookie header', { method: 'GET', url: 'https://e.example/', headers: [['cookie', 'a=b']] }],
    ['a Sec- header', { method: 'GET', url: 'https://e.example/', headers: [['sec-fetch-site', 'none']] }],
    ['a Proxy- header', { method: 'GET', url: 'https://e.example/', headers: [['proxy-authorization', 'x']] }],
    ['an upper-case header name', { method: 'GET', url: 'https://e.example/', headers: [['Authorization', 'x']] }],
    [
      'a header given twice',
      {
        method: 'GET',
        url: 'https://e.example/',
        headers: [
          ['a', '1'],
          ['a', '2'],
        ],
      },
    ],
    ['a secret in a header name', { method: 'GET', url: 'https://e.example/', headers: [['{{secret:K}}', '1']] }],
    ['a tab in a header value', { method: 'GET', url: 'https://e.example/', headers: [['a', 'x\ty']] }],
    ['a line break in a header value', { method: 'GET', url: 'https://e.example/', headers: [['a', 'x\r\nb: c']] }],
    ['a bidi override in the reason', { method: 'GET', url: 'https://e.example/', reason: 'ok \u202e' }],
    ['an unclosed placeholder', { method: 'GET', url: 'https://e.example/', headers: [['a', '{{secret:K']] }],
  ])('refuses %s (typed, before any card)', (_, payload) => {
    refused(payload);
  });

  it('a non-ASCII item name may stand in a header value (the card shows the name; the value is checked at the call)', () => {
    const r = parseHttpRequest({
      method: 'GET',
      url: 'https://e.example/',
      headers: [['authorization', 'Bearer {{secret:Clé API}}']],
    });
    expect(secretsUsed(r)).toEqual(['Clé API']);
  });

  it('any well-formed https URL in normal form is accepted, and its host is the URL parser’s', () => {
    const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
    fc.assert(
      fc.property(
        fc.array(label, { minLength: 2, maxLength: 4 }),
        fc.option(fc.integer({ min: 1, max: 65535 }).filter((p) => p !== 443)),
        fc.array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { maxLength: 4 }),
        (labels, port, path) => {
          const host = `${labels.join('.')}${port === null ? '' : `:${port}`}`;
          const url = `https://${host}/${path.join('/')}`;
          expect(parseHttpRequest({ method: 'GET', url }).host).toBe(new URL(url).host);
        },
      ),
    );
  });
});

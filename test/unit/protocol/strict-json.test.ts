// Strict JSON (lib/protocol/strict-json.ts) and the normal-path rule of signed requests (request-signing.ts).
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../../lib/bytes';
import { isNormalPath, signRequest } from '../../../lib/protocol/request-signing';
import { parseStrictJson, readStrictJson } from '../../../lib/protocol/strict-json';
import { HubClient } from '../../../lib/hub-client/client';

const code = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
};

describe('parseStrictJson', () => {
  it('parses what JSON.parse parses when names are unique', () => {
    const text = '{"a":[{"a":1},{"a":2}],"b":{"a":"\\":","c":null},"\\u0062b":true}';
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    expect(parseStrictJson(utf8Encode('["a","a"]'))).toEqual(['a', 'a']);
  });

  it('refuses a duplicate member name, at any depth and however it is escaped', () => {
    for (const text of [
      '{"a":1,"a":2}',
      '{"a":1,"\\u0061":2}',
      '{"x":{"b":1, "b" :2}}',
      '[{"ok":1},{"k":1,"k":1}]',
      '{"__proto__":1,"__proto__":2}',
      '{"x\\\\":1,"x\\\\":2}',
    ]) {
      expect(
        code(() => parseStrictJson(text)),
        text,
      ).toMatch(/^protocol_invalid: .*duplicate/);
    }
  });

  it('refuses invalid UTF-8 (fatal decoding, never U+FFFD) and invalid JSON, without quoting the input', () => {
    for (const bytes of [
      [0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d], // a byte that never starts UTF-8
      [0x22, 0xc3, 0x28, 0x22], // a broken two-byte sequence
      [0x22, 0xed, 0xa0, 0x80, 0x22], // an encoded surrogate
      [0x22, 0xc0, 0xaf, 0x22], // an overlong "/"
    ]) {
      expect(code(() => parseStrictJson(new Uint8Array(bytes)))).toMatch(/^protocol_invalid: .*UTF-8/);
    }
    expect(code(() => parseStrictJson('{"secret-value": }'))).toBe('protocol_invalid: The JSON is not valid.');
  });

  it('clients refuse a hub answer with duplicate names (what they verify is what every reader sees)', async () => {
    const res = new Response('{"intents":[],"intents":[{"x":1}]}', { headers: { 'content-type': 'application/json' } });
    await expect(readStrictJson(res)).rejects.toMatchObject({ code: 'protocol_invalid' });
    const client = new HubClient({
      hub: 'http://127.0.0.1:8787',
      signer: { role: 'human', keyId: 'dev_AAAAAAAAAAAAAAAAAAAAAA', sign: async () => new Uint8Array(64) },
      fetch: async () =>
        new Response('{"intents":[],"intents":[]}', { headers: { 'content-type': 'application/json' } }),
    });
    await expect(client.pendingIntents()).rejects.toMatchObject({ code: 'hub_bad_response' });
  });
});

describe('normal paths in signed requests', () => {
  it('refuses //, . and .. segments (also %2e), allows a trailing slash and anything in the query', () => {
    for (const p of ['/v1/./a', '/v1/../a', '//v1/a', '/v1//a', '/v1/%2e/a', '/v1/%2E%2e/a', '/v1/.%2e', '/.'])
      expect(isNormalPath(p), p).toBe(false);
    for (const p of ['/', '/v1/a', '/v1/a/', '/v1/.well-known', '/v1/a..b', '/v1/a?x=/./&y=//', '/v1/...'])
      expect(isNormalPath(p), p).toBe(true);
  });

  it('a client will not sign such a path', () => {
    const sign = (path: string) => () =>
      signRequest({
        role: 'agent',
        keyId: 'agt_AAAAAAAAAAAAAAAAAAAAAA',
        privateKey: new Uint8Array(32).fill(1),
        method: 'GET',
        path,
        hub: 'http://127.0.0.1:8787',
      });
    expect(code(sign('/v1/./agents/me'))).toMatch(/^protocol_invalid/);
    expect(code(sign('/v1/agents/me'))).toBe('ok');
  });
});

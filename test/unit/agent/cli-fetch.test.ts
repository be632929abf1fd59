// @vitest-environment node
// `clawkeep agent fetch` (issue 18): the curl-like arguments, the --json shape, and the command end to end as a
// process against a real `clawkeep hub` process, with the device deciding and sealing real deliveries.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchJson, fetchNotes, isTextualType, parseFetchRequest } from '../../../bin/commands/agent-fetch';
import type { HttpResponseOutcome } from '../../../lib/agent';
import { UsageError } from '../../../bin/command';
import { runClawkeep as clawkeep } from '../cli/run-clawkeep';
import { tempDir } from '../hub/helpers';
import { enrolledDevice, registerAgent, startHub, stopHubs } from './cli-fixture';

afterEach(stopHubs);

const files: Record<string, Uint8Array> = {
  'body.json': new TextEncoder().encode('{"token":"{{secret:API key}}"}\n'),
  'image.bin': Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0xff, 0x00),
};
const readFile = (f: string) => {
  const b = files[f];
  if (!b) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  return b;
};
const usage = (fn: () => unknown) => {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  return (err as UsageError).message;
};

describe('agent fetch: arguments (parseFetchRequest)', () => {
  it('GET by default, POST with a body, -X in any case; header names lower-cased, values trimmed as curl does', () => {
    expect(parseFetchRequest({ url: 'https://api.example.com/user' }, readFile)).toEqual({
      method: 'GET',
      url: 'https://api.example.com/user',
    });
    expect(
      parseFetchRequest(
        {
          url: 'https://api.example.com/repos/o/r/pulls',
          header: ['Authorization:  Bearer {{secret:GitHub token}} ', 'Content-Type: application/json', 'X-Empty:'],
          data: '{"title":"Fix"}',
          reason: 'open the PR',
        },
        readFile,
      ),
    ).toEqual({
      method: 'POST',
      url: 'https://api.example.com/repos/o/r/pulls',
      headers: [
        ['authorization', 'Bearer {{secret:GitHub token}}'],
        ['content-type', 'application/json'],
        ['x-empty', ''],
      ],
      body: { text: '{"title":"Fix"}' },
      reason: 'open the PR',
    });
    expect(parseFetchRequest({ url: 'https://api.example.com/x', request: 'delete' }, readFile).method).toBe('DELETE');
  });

  it('--data @FILE is the file as text (placeholders work); --data-binary @FILE its exact bytes as base64', () => {
    expect(parseFetchRequest({ url: 'https://a.example/x', data: '@body.json' }, readFile).body).toEqual({
      text: '{"token":"{{secret:API key}}"}\n',
    });
    expect(
      parseFetchRequest({ url: 'https://a.example/x', request: 'PUT', 'data-binary': '@image.bin' }, readFile).body,
    ).toEqual({ base64: Buffer.from(files['image.bin']!).toString('base64') });
    expect(parseFetchRequest({ url: 'https://a.example/x', 'data-binary': 'raw' }, readFile).body).toEqual({
      base64: Buffer.from('raw').toString('base64'),
    });
  });

  it('a URL without a placeholder is put in its normal form; one with a placeholder is sent as written', () => {
    expect(parseFetchRequest({ url: 'https://API.Example.com' }, readFile).url).toBe('https://api.example.com/');
    const withSecret = 'https://maps.example/geo?key={{secret:Maps key}}&q=x';
    expect(parseFetchRequest({ url: withSecret }, readFile).url).toBe(withSecret);
  });

  it('usage errors: bad method, header, duplicates, two bodies, a body on GET, unreadable or non-text files', () => {
    expect(usage(() => parseFetchRequest({ url: 'https://a.example/', request: 'TRACE' }, readFile))).toContain(
      '-X must be one of',
    );
    expect(usage(() => parseFetchRequest({ url: 'https://a.example/', header: ['no colon'] }, readFile))).toContain(
      'Name: value',
    );
    expect(usage(() => parseFetchRequest({ url: 'https://a.example/', header: [': v'] }, readFile))).toContain(
      'Name: value',
    );
    expect(
      usage(() => parseFetchRequest({ url: 'https://a.example/', header: ['Accept: a', 'accept: b'] }, readFile)),
    ).toContain('given twice');
    expect(
      usage(() => parseFetchRequest({ url: 'https://a.example/', data: 'a', 'data-binary': 'b' }, readFile)),
    ).toContain('at most one');
    expect(
      usage(() => parseFetchRequest({ url: 'https://a.example/', request: 'GET', data: 'a' }, readFile)),
    ).toContain('has no body');
    expect(usage(() => parseFetchRequest({ url: 'https://a.example/', data: '@missing' }, readFile))).toContain(
      'cannot read missing: ENOENT',
    );
    expect(usage(() => parseFetchRequest({ url: 'https://a.example/', data: '@image.bin' }, readFile))).toContain(
      'use --data-binary',
    );
    expect(usage(() => parseFetchRequest({ url: 'https://a.example/', 'data-binary': '@' }, readFile))).toContain(
      'file name',
    );
  });
});

const response = (body: Uint8Array, over: Partial<HttpResponseOutcome> = {}): HttpResponseOutcome => ({
  outcome: 'response',
  status: 200,
  headers: [['content-type', 'application/json; charset=utf-8']],
  body: Buffer.from(body).toString('base64'),
  redacted: [],
  withheld: false,
  redirect: null,
  ...over,
});

describe('agent fetch: --json output (fetchJson) and notes', () => {
  it('text when UTF-8 of a textual type, else base64; the other fields as the device sealed them', () => {
    const text = new TextEncoder().encode('{"ok":"é ✓"}');
    expect(fetchJson(response(text, { redacted: ['verbatim'] }), text)).toEqual({
      status: 200,
      headers: [['content-type', 'application/json; charset=utf-8']],
      body: '{"ok":"é ✓"}',
      redacted: ['verbatim'],
      withheld: false,
      redirect: null,
    });
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47);
    const image = fetchJson(response(png, { headers: [['content-type', 'image/png']] }), png);
    expect(image.body).toBeUndefined();
    expect(image.body_base64).toBe(Buffer.from(png).toString('base64'));
    // Textual type but not UTF-8, or no content type at all: bytes stay bytes.
    const latin1 = Uint8Array.of(0x63, 0x61, 0x66, 0xe9);
    expect(fetchJson(response(latin1, { headers: [['content-type', 'text/plain']] }), latin1).body_base64).toBe(
      Buffer.from(latin1).toString('base64'),
    );
    expect(fetchJson(response(text, { headers: [] }), text).body_base64).toBeDefined();
    expect(['text/html', 'application/problem+json', 'application/xml', 'application/json'].every(isTextualType)).toBe(
      true,
    );
    expect(['application/octet-stream', 'image/svg', 'application/jsonx', ''].some(isTextualType)).toBe(false);
  });

  it('notes name what the device did to the answer, one line each', () => {
    expect(fetchNotes(response(new Uint8Array()))).toEqual([]);
    const notes = fetchNotes(
      response(new Uint8Array(), {
        status: 302,
        redacted: ['base64', 'verbatim'],
        withheld: true,
        redirect: { location: 'https://login.example/next' },
      }),
    );
    expect(notes).toHaveLength(3);
    expect(notes[0]).toContain('cut it (base64, verbatim)');
    expect(notes[1]).toContain('withheld the response body');
    expect(notes[2]).toContain('HTTP 302 redirect to https://login.example/next was not followed');
    for (const n of notes) expect(n).not.toContain('\n');
  });
});

describe('clawkeep agent fetch (against a real hub)', () => {
  it('prints the body byte for byte; --json; refused is 5, denied 3, a failed call 1; usage errors 2', async () => {
    const hub = await startHub();
    const dir = tempDir();
    const { res, state } = await registerAgent(hub, dir, 'http:api.example.com');
    const device = await enrolledDevice(hub);
    const { box_key } = await device.claim(JSON.parse(res.stdout).claim_code, ['http:api.example.com']);
    const url = 'https://api.example.com/user';
    const auth = ['-H', 'Authorization: Bearer {{secret:GitHub token}}'];
    const body = '{"login":"octo","echo":"Bearer [redacted by Clawkeep]","note":"é"}';

    const raw = clawkeep(['agent', 'fetch', url, ...auth, '--state', state, '--reason', 'who am I']);
    const intent = await device.decideNext(
      'approve',
      box_key,
      response(new TextEncoder().encode(body), { redacted: ['verbatim'] }),
    );
    expect(intent.payload).toEqual({
      method: 'GET',
      url,
      headers: [['authorization', 'Bearer {{secret:GitHub token}}']],
      reason: 'who am I',
    });
    const got = await raw;
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe(body);
    expect(got.stderr).toContain('Waiting for the human to approve GET https://api.example.com/user');
    expect(got.stderr).toContain('the device cut it (verbatim)');

    const asJson = clawkeep(['agent', 'fetch', url, ...auth, '--state', state, '--json']);
    await device.decideNext('approve', box_key, response(new TextEncoder().encode(body), { status: 404 }));
    const json = await asJson;
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      status: 404,
      headers: [['content-type', 'application/json; charset=utf-8']],
      body,
      redacted: [],
      withheld: false,
      redirect: null,
    });

    const refusing = clawkeep(['agent', 'fetch', url, ...auth, '--state', state, '--json']);
    await device.decideNext('deny', box_key, {
      outcome: 'refused',
      code: 'http_host_not_allowed',
      message: '“GitHub token” may not be sent to api.example.com.',
    });
    const refused = await refusing;
    expect(refused.code).toBe(5);
    expect(JSON.parse(refused.stdout)).toEqual({
      error: {
        code: 'http_refused',
        message: '“GitHub token” may not be sent to api.example.com.',
        device_code: 'http_host_not_allowed',
      },
    });
    expect(refused.stderr).toContain('may not be sent to api.example.com');

    const denying = clawkeep(['agent', 'fetch', url, '--state', state]);
    await device.decideNext('deny');
    const denied = await denying;
    expect(denied.code).toBe(3);
    expect(denied.stdout).toBe('');
    expect(denied.stderr).toContain('intent_denied');

    const failing = clawkeep(['agent', 'fetch', url, '--state', state]);
    await device.decideNext('approve', box_key, {
      outcome: 'failed',
      code: 'http_call_timeout',
      message: 'api.example.com did not answer within 30 s.',
    });
    const failed = await failing;
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain('api.example.com did not answer within 30 s. (http_failed)');

    const cases = [
      ['agent', 'fetch', '--state', state],
      ['agent', 'fetch', url, url, '--state', state],
      ['agent', 'fetch', url, '-X', 'TRACE', '--state', state],
      ['agent', 'fetch', url, '-d', 'x', '--data-binary', 'y', '--state', state],
      ['agent', 'secret', 'x', '-X', 'POST', '--state', state],
      ['agent', 'fetch', url, '--data-binary', `@${path.join(dir, 'missing')}`, '--state', state],
    ];
    const results = await Promise.all(cases.map((args) => clawkeep(args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i]!.join(' ')).toBe(2);
      expect(r.stdout, cases[i]!.join(' ')).toBe('');
    });
    // Not granted: the hub's scope check, an authorization error (2).
    const other = await clawkeep(['agent', 'fetch', 'https://evil.example/', '--state', state, '--json']);
    expect(other.code).toBe(2);
    expect(JSON.parse(other.stdout)).toMatchObject({ error: { code: 'scope_not_granted' } });
  }, 120_000);
});

// @vitest-environment node
// A malicious or prompt-injected agent hides what it asks for with characters a person cannot see: bidi overrides
// that reorder a command, zero-width characters that make two names look alike, line separators, controls. The hub
// refuses them at POST /v1/intents, and the device refuses them again (it never trusts the hub's validation).
import { describe, expect, it } from 'vitest';
import { hiddenCharacter, isDisplaySafe } from '../../../lib/protocol/display-text';
import { ProtocolError } from '../../../lib/protocol/errors';
import { parseScope } from '../../../lib/protocol/scopes';
import { CreateIntentRequestSchema, parseWire, RegisterAgentRequestSchema } from '../../../lib/protocol/wire';
import { summarizeIntent } from '../../../lib/hub-client/summary';
import { hubFixture } from '../hub/flow';

/** Deterministic PRNG (mulberry32) so a failure names its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every code point of a Unicode general category (all planes), as strings. */
function category(name: string): string[] {
  const re = new RegExp(`^\\p{${name}}$`, 'u');
  const out: string[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    if (re.test(ch)) out.push(ch);
  }
  return out;
}

const FORMAT = category('Cf');
const CONTROLS = category('Cc').filter((c) => c !== '\n' && c !== '\t');
const SEPARATORS = [...category('Zl'), ...category('Zp')];
const PRIVATE_USE = category('Co');
const FILLERS = ['\u115F', '\u1160', '\u3164', '\uFFA0', '\u034F'];
const LONE_SURROGATES = ['\uD800', '\uDBFF', '\uDC00', '\uDFFF'];

// Visible text a person can read, from several scripts (and emoji without joiners).
const VISIBLE = 'abcXYZ019 -_./:;,"\'()[]{}<>=+*&%$#@!?~éüßøñçΩλжшאבعربيहिन्दी中文日本語한국어🙂🚀✅';
const visible = (r: () => number, n: number) =>
  Array.from({ length: n }, () => [...VISIBLE][Math.floor(r() * [...VISIBLE].length)]).join('');
const insert = (s: string, ch: string, r: () => number) => {
  const cps = [...s];
  const at = Math.floor(r() * (cps.length + 1));
  return [...cps.slice(0, at), ch, ...cps.slice(at)].join('');
};

/** One valid payload per kind, and which of its strings are single-line or multi-line. */
const KINDS = {
  'secret.request': { payload: { item: 'github-token', reason: 'open the PR' }, single: ['item'], multi: ['reason'] },
  'action.approve': {
    payload: { summary: 'Merge PR 12', risk: 'medium', details: { repo: 'org/app', pr: { number: 12, title: 'Fix' } } },
    single: ['summary'],
    multi: [],
  },
  'payment.send': {
    payload: { summary: 'Pay invoice', amount_minor: 1999, currency: 'EUR', payee: 'ACME', memo: 'INV-1' },
    single: ['summary', 'payee'],
    multi: ['memo'],
  },
  'shell.exec': {
    payload: { summary: 'List files', command: 'ls -la', cwd: '/tmp' },
    single: ['summary', 'cwd'],
    multi: ['command'],
  },
  'message.send': {
    payload: { summary: 'Reply', channel: 'email', to: 'a@b.c', body: 'hi' },
    single: ['summary', 'channel', 'to'],
    multi: ['body'],
  },
} as const;

type Kind = keyof typeof KINDS;
// agent_nonce: the agent's own per-request nonce (CKAP v2), 16 bytes base64url.
const request = (kind: Kind, payload: object) => ({
  kind,
  payload,
  idempotency_key: 'idem-1',
  agent_nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
});

/** The hub's validation (parseWire on the request) and the device's (summarizeIntent) both refuse. */
function expectRefusedEverywhere(kind: Kind, payload: object, field: string, ch: string) {
  let thrown: unknown;
  try {
    parseWire(CreateIntentRequestSchema, request(kind, payload));
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `${kind}.${field} with U+${ch.codePointAt(0)!.toString(16)}`).toBeInstanceOf(ProtocolError);
  expect((thrown as ProtocolError).code).toBe('protocol_invalid');
  expect((thrown as ProtocolError).message).toContain(`payload.${field}`);
  const summary = summarizeIntent(kind, payload);
  expect(summary.valid).toBe(false);
  expect(summary.risk).toBe('high');
}

describe('hidden characters in what the person reads', () => {
  it('the character classes are what we think they are (Cf holds the bidi and zero-width characters)', () => {
    for (const c of [
      '\u202E',
      '\u202D',
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069',
      '\u200B',
      '\u200C',
      '\u200D',
      '\u200E',
      '\u200F',
      '\u2060',
      '\uFEFF',
      '\u00AD',
    ]) {
      expect(FORMAT).toContain(c);
    }
    expect(SEPARATORS).toEqual(['\u2028', '\u2029']);
    expect(FORMAT.length).toBeGreaterThan(100);
  });

  it('every format (\\p{Cf}), control, separator and filler character is refused, in every displayed field of every kind', () => {
    const r = rng(13);
    const hidden = [...FORMAT, ...CONTROLS, ...SEPARATORS, ...FILLERS];
    for (const [kind, spec] of Object.entries(KINDS) as [Kind, (typeof KINDS)[Kind]][]) {
      for (const field of [...spec.single, ...spec.multi]) {
        for (const ch of hidden) {
          const payload = {
            ...spec.payload,
            [field]: insert(String((spec.payload as Record<string, unknown>)[field]), ch, r),
          };
          expectRefusedEverywhere(kind, payload, field, ch);
        }
      }
    }
  });

  it('private-use characters and lone surrogates are refused (sampled)', () => {
    const r = rng(7);
    const sample = [
      ...Array.from({ length: 100 }, () => PRIVATE_USE[Math.floor(r() * PRIVATE_USE.length)]!),
      ...LONE_SURROGATES,
    ];
    for (const ch of sample)
      expectRefusedEverywhere('shell.exec', { summary: 'x', command: insert('rm -rf build', ch, r) }, 'command', ch);
  });

  it('newline and tab: allowed where the field is multi-line, refused in single-line fields', () => {
    for (const [kind, spec] of Object.entries(KINDS) as [Kind, (typeof KINDS)[Kind]][]) {
      for (const field of spec.multi) {
        const payload = { ...spec.payload, [field]: 'line one\n\tline two' };
        expect(() => parseWire(CreateIntentRequestSchema, request(kind, payload))).not.toThrow();
        expect(summarizeIntent(kind, payload).valid).toBe(true);
      }
      for (const field of spec.single) {
        for (const ch of ['\n', '\t'])
          expectRefusedEverywhere(kind, { ...spec.payload, [field]: `a${ch}b` }, field, ch);
      }
    }
  });

  it('action details: a hidden character in a nested value or key is refused; the nesting depth is bounded', () => {
    const base = KINDS['action.approve'].payload;
    for (const ch of ['\u202E', '\u200B', '\u2028', '\u0007']) {
      expectRefusedEverywhere('action.approve', { ...base, details: { pr: { title: `Fix${ch}` } } }, 'details', ch);
      expectRefusedEverywhere('action.approve', { ...base, details: { files: ['a.ts', `b${ch}.ts`] } }, 'details', ch);
      expectRefusedEverywhere('action.approve', { ...base, details: { [`re${ch}po`]: 'org/app' } }, 'details', ch);
    }
    let deep: unknown = 'x';
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expectRefusedEverywhere('action.approve', { ...base, details: deep as object }, 'details', 'x');
  });

  it('random visible text from many scripts passes (property: no false refusals)', () => {
    const r = rng(42);
    for (let i = 0; i < 500; i++) {
      const s = visible(r, 1 + Math.floor(r() * 60));
      expect(isDisplaySafe(s), JSON.stringify(s)).toBe(true);
      const payload = { summary: s, command: `${s}\n${s}`, cwd: s };
      expect(() => parseWire(CreateIntentRequestSchema, request('shell.exec', payload))).not.toThrow();
      expect(summarizeIntent('shell.exec', payload).valid).toBe(true);
    }
  });

  it('random visible text with one hidden character inserted anywhere is refused (property)', () => {
    const r = rng(99);
    const hidden = [...FORMAT, ...CONTROLS, ...SEPARATORS, ...FILLERS];
    for (let i = 0; i < 500; i++) {
      const ch = hidden[Math.floor(r() * hidden.length)]!;
      const s = insert(visible(r, 1 + Math.floor(r() * 40)), ch, r);
      const found = hiddenCharacter(s, true);
      expect(found, JSON.stringify(s)).not.toBeNull();
      expect(s.codePointAt(found!.index)).toBe(ch.codePointAt(0));
      expectRefusedEverywhere('message.send', { summary: 'Reply', channel: 'email', to: 'a@b.c', body: s }, 'body', ch);
    }
  });

  it('the device says which character and where', () => {
    const s = summarizeIntent('shell.exec', { summary: 'Build', command: 'make \u202Eevil' });
    expect(s.problem).toContain('U+202E');
    expect(s.problem).toContain('payload.command');
  });

  it('agent names and scope item names refuse them too', () => {
    const reg = {
      name: 'research\u200Bbot',
      signing_key: 'x',
      box_key: 'x',
      manifest: { markdown: '#' },
      requested_scopes: [],
    };
    expect(() => parseWire(RegisterAgentRequestSchema, reg)).toThrow(/name/);
    expect(parseScope('secret:read:github\u200Btoken')).toBeUndefined();
    expect(parseScope('secret:read:github-token')).toEqual({ type: 'secret', item: 'github-token' });
  });

  it('a hub asked to store an intent with a bidi override refuses it with protocol_invalid', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device, { granted: ['action:shell.exec'] });
    const res = await agent.send(
      'POST',
      '/v1/intents',
      request('shell.exec', { summary: 'List files', command: 'ls \u202E; rm -rf ~' }),
    );
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('protocol_invalid');
    expect((await device.send('GET', '/v1/intents?status=pending')).json.intents).toEqual([]);
    const ok = await agent.send(
      'POST',
      '/v1/intents',
      request('shell.exec', { summary: 'List files', command: 'ls -la' }),
    );
    expect(ok.status).toBe(201);
  });
});

// @vitest-environment node
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../lib/bytes';
import {
  checkMrConfigId,
  computeComposeHash,
  evaluateDstack,
  extractBootIdentity,
  parseDstackEventLog,
  replayRtmrs,
  runtimeEventPreimage,
  MAX_EVENT_LOG_CHARS,
  MAX_EVENT_LOG_EVENTS,
} from '../../../lib/attest/dstack';
import { canonicalize } from '../../../lib/protocol/canonical';
import type { DstackEvent, DstackPolicy, TdReportFields } from '../../../lib/attest/types';

// ---------------------------------------------------------------------------------------------------------------
// Fixtures: real dstack simulator quotes and event logs (test/fixtures/tdx/dstack, README "dstack event-log
// fixtures"). The TD report is read from the quote bytes at the fixed v4/TD10 offsets, independently of lib/.

const FIXTURES = resolve(process.cwd(), 'test/fixtures/tdx');
const fixture = (path: string): Buffer => readFileSync(resolve(FIXTURES, path));
const RUNTIME = 0x08000001;

function tdFromQuote(quote: Uint8Array): TdReportFields {
  const view = new DataView(quote.buffer, quote.byteOffset, quote.byteLength);
  expect(view.getUint16(0, true)).toBe(4);
  expect(view.getUint32(4, true)).toBe(0x81);
  const body = 48;
  const hex = (off: number, len: number): string => toHex(quote.subarray(body + off, body + off + len));
  return {
    teeTcbSvn: hex(0, 16),
    mrSeam: hex(16, 48),
    mrSignerSeam: hex(64, 48),
    seamAttributes: hex(112, 8),
    tdAttributes: hex(120, 8),
    xfam: hex(128, 8),
    mrTd: hex(136, 48),
    mrConfigId: hex(184, 48),
    mrOwner: hex(232, 48),
    mrOwnerConfig: hex(280, 48),
    rtmrs: [hex(328, 48), hex(376, 48), hex(424, 48), hex(472, 48)],
    reportData: hex(520, 64),
  };
}

const sim2025Log = fixture('dstack/sim-2025/eventlog.json').toString('utf8');
const sim2025Td = tdFromQuote(fromHex(fixture('dstack/sim-2025/quote.hex').toString('utf8').trim()));
const sim2026Decoded = JSON.parse(fixture('dstack/sim-2026/attestation.decoded.json').toString('utf8')) as {
  tdx_event_log: DstackEvent[];
};
const sim2026Log = sim2026Decoded.tdx_event_log;
const sim2026Td = tdFromQuote(new Uint8Array(fixture('dstack/sim-2026/quote.bin')));
const notMeasuredCompose = new Uint8Array(fixture('dstack/sim-2025/app-compose.NOT-MEASURED.json'));

const expectedCases = JSON.parse(fixture('expected.json').toString('utf8')) as Array<{
  id: string;
  quote_summary: { td_report: Record<string, string> };
}>;
const expectedTd = (id: string): Record<string, string> =>
  expectedCases.find((c) => c.id === id)!.quote_summary.td_report;

const SIM2025 = {
  appId: 'ea549f02e1a25fabd1cb788380e033ec5461b2ff',
  composeHash: 'ea549f02e1a25fabd1cb788380e033ec5461b2ffe4328d753642cf035452e48b',
  instanceId: '59df8036b824b0aac54f8998b9e1fb2a0cfc5d3a',
};
const SIM2026 = {
  appId: '5bb4ff9a3837357f19dc176407a5709c62eb6c56',
  composeHash: 'c143116fef3940e7f776bfc0919c256232ae5338a6e948c96b711e0b2383483a',
  instanceId: '1691ed1b47506cad7d08834668691d88246f5b1f',
  osImageHash: 'e61be43dd1cc6a6f5edefd7c51b608983780839b0000ce60dd99737dcffe09b9',
};
const KMS_ID =
  '3059301306072a8648ce3d020106082a8648ce3d0301070342000419b2457dd9b8aa6446d980f136fff7812ecd6c77740eeb0e28b10d5' +
  '6c0c00028a5b6e59dcea307d583bd1f70769e9c116df2bcfb1758a95d8613e7de1c8482c0';

// ---------------------------------------------------------------------------------------------------------------
// Test-side reference computations (written from the dstack sources, not from lib/), used to build logs and
// RTMRs for cases no real quote covers: an app extending RTMR3 after boot, v2 digests.

const sha384 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha384');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
function v1Digest(name: string, payloadHex: string): string {
  const type = Buffer.alloc(4);
  type.writeUInt32LE(RUNTIME);
  return toHex(sha384(type, Buffer.from(`:${name}:`), Buffer.from(payloadHex, 'hex')));
}
const v2Json = (name: string, payloadHex: string): string =>
  `{"name":${JSON.stringify(name)},"payload":"${payloadHex.toLowerCase()}","type":134217729}`;
const v2Digest = (name: string, payloadHex: string): string => toHex(sha384(Buffer.from(v2Json(name, payloadHex))));
function referenceRtmr(events: DstackEvent[], imr: number): string {
  let mr: Uint8Array = new Uint8Array(48);
  for (const e of events) if (e.imr === imr) mr = sha384(mr, fromHex(e.digest));
  return toHex(mr);
}
const runtimeEvent = (name: string, payloadHex: string): DstackEvent => ({
  imr: 3,
  event_type: RUNTIME,
  digest: v1Digest(name, payloadHex),
  event: name,
  event_payload: payloadHex,
});
/** TD fields as if the TD had measured `events` into RTMR3 (RTMR0–2 unchanged). */
const withRtmr3 = (td: TdReportFields, events: DstackEvent[]): TdReportFields => ({
  ...td,
  rtmrs: [td.rtmrs[0], td.rtmrs[1], td.rtmrs[2], referenceRtmr(events, 3)],
});
const clone = (events: DstackEvent[]): DstackEvent[] => events.map((e) => ({ ...e }));
const indexOf = (events: DstackEvent[], name: string): number => events.findIndex((e) => e.event === name);
const sim2025Events = (): DstackEvent[] => JSON.parse(sim2025Log) as DstackEvent[];

async function expectCode(fn: () => unknown, code: string, message?: RegExp): Promise<void> {
  try {
    await fn();
  } catch (err) {
    expect((err as { code?: string }).code, (err as Error).message).toBe(code);
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected a ${code} error`);
}

async function expectEvaluateError(
  td: TdReportFields,
  eventLog: string | DstackEvent[],
  code: string,
  message?: RegExp,
  policy?: DstackPolicy,
) {
  const { error, identity } = await evaluateDstack(td, { eventLog, policy });
  expect(error?.code, error?.message).toBe(code);
  if (message) expect(error!.message).toMatch(message);
  return identity;
}

// ---------------------------------------------------------------------------------------------------------------

describe('fixture TD reports', () => {
  it('match expected.json (so the replay below compares against the real quotes)', () => {
    for (const [td, id] of [
      [sim2025Td, 'dstack-sim-2025-no-tcb-level'],
      [sim2026Td, 'dstack-sim-2026-fmspc-mismatch'],
    ] as const) {
      const want = expectedTd(id);
      expect(td.rtmrs).toEqual([want.rtmr0, want.rtmr1, want.rtmr2, want.rtmr3]);
      expect(td.mrTd).toBe(want.mr_td);
      expect(td.mrConfigId).toBe(want.mr_config_id);
      expect(td.reportData).toBe(want.report_data);
    }
  });
});

describe('parseDstackEventLog', () => {
  it('parses the GetQuote JSON string and the parsed array', () => {
    const a = parseDstackEventLog(sim2025Log);
    expect(a).toHaveLength(27);
    expect([0, 1, 2, 3].map((i) => a.filter((e) => e.imr === i).length)).toEqual([13, 5, 2, 7]);
    const b = parseDstackEventLog(sim2026Log);
    expect(b).toHaveLength(33);
    expect([0, 1, 2, 3].map((i) => b.filter((e) => e.imr === i).length)).toEqual([17, 5, 2, 9]);
  });

  it('normalizes hex to lower case and keeps version 2 only', () => {
    const e = runtimeEvent('app-id', 'AB'.repeat(20));
    const [parsed] = parseDstackEventLog([{ ...e, digest: e.digest.toUpperCase(), version: 1 }]);
    expect(parsed).toEqual({ ...e, event_payload: 'ab'.repeat(20) });
    const [v2] = parseDstackEventLog([{ ...e, digest: '', version: 2 }]);
    expect(v2!.version).toBe(2);
  });

  it('skips an EV_NO_ACTION header and rejects one anywhere else', async () => {
    const header = { imr: 0, event_type: 3, digest: '00'.repeat(48), event: '', event_payload: 'deadbeef' };
    const events = sim2025Events();
    expect(parseDstackEventLog([header, ...events])).toEqual(parseDstackEventLog(events));
    const middle = [...events.slice(0, 5), header, ...events.slice(5)];
    await expectCode(() => parseDstackEventLog(middle), 'event_log_malformed', /EV_NO_ACTION/);
  });

  const good = (): Record<string, unknown> => ({ ...runtimeEvent('app-id', '11'.repeat(20)) });
  const firmware = (): Record<string, unknown> => ({
    imr: 1,
    event_type: 0x80000001,
    digest: 'ab'.repeat(48),
    event: '',
    event_payload: '',
  });
  it.each([
    ['imr 4', { ...good(), imr: 4 }],
    ['imr -1', { ...good(), imr: -1 }],
    ['imr 1.5', { ...firmware(), imr: 1.5 }],
    ['imr as a string', { ...good(), imr: '3' }],
    ['event_type negative', { ...firmware(), event_type: -1 }],
    ['event_type over u32', { ...firmware(), event_type: 2 ** 32 }],
    ['event_type missing', { ...firmware(), event_type: undefined }],
    ['digest 95 hex', { ...firmware(), digest: 'a'.repeat(95) }],
    ['digest 98 hex', { ...firmware(), digest: 'a'.repeat(98) }],
    ['digest not hex', { ...firmware(), digest: 'g'.repeat(96) }],
    ['digest empty on a firmware event', { ...firmware(), digest: '' }],
    ['digest a number', { ...firmware(), digest: 5 }],
    ['payload odd length', { ...good(), event_payload: 'abc' }],
    ['payload not hex', { ...good(), event_payload: 'zz' }],
    ['event not a string', { ...good(), event: 7 }],
    ['event name with a lone surrogate', { ...good(), event: 'app-\ud800id' }],
    ['event name too long', { ...good(), event: 'x'.repeat(1025) }],
    ['version 3', { ...good(), version: 3 }],
    ['version "2"', { ...good(), version: '2' }],
    ['preimage not hex', { ...good(), preimage: 'xyz' }],
    ['runtime event on IMR 2', { ...good(), imr: 2 }],
    ['an array instead of an object', [1, 2, 3]],
    ['null', null],
  ])('rejects %s', async (_name, entry) => {
    await expectCode(() => parseDstackEventLog([entry]), 'event_log_malformed');
  });

  it('rejects a getter standing in for a field', async () => {
    const entry = good();
    Object.defineProperty(entry, 'digest', { get: () => 'ab'.repeat(48), enumerable: true });
    await expectCode(() => parseDstackEventLog([entry]), 'event_log_malformed');
  });

  it.each([
    ['not JSON', '[{"imr":0,'],
    ['a JSON object', '{"events":[]}'],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
  ])('rejects a log that is %s', async (_name, text) => {
    await expectCode(() => parseDstackEventLog(text), 'event_log_malformed');
  });

  it('bounds the number of events and the size of the text', async () => {
    const one = firmware();
    expect(parseDstackEventLog(Array(MAX_EVENT_LOG_EVENTS).fill(one))).toHaveLength(MAX_EVENT_LOG_EVENTS);
    await expectCode(
      () => parseDstackEventLog(Array(MAX_EVENT_LOG_EVENTS + 1).fill(one)),
      'event_log_malformed',
      /at most 4096/,
    );
    const hugeText = JSON.stringify([{ ...good(), event_payload: 'ab'.repeat(MAX_EVENT_LOG_CHARS / 2) }]);
    await expectCode(() => parseDstackEventLog(hugeText), 'event_log_malformed', /larger than/);
    const hugeArray = [{ ...good(), event_payload: 'ab'.repeat(MAX_EVENT_LOG_CHARS / 2 + 1) }];
    await expectCode(() => parseDstackEventLog(hugeArray), 'event_log_malformed', /larger than/);
    // Many medium payloads add up too.
    const many = Array.from({ length: 80 }, () => ({ ...good(), event_payload: 'ab'.repeat(30_000) }));
    await expectCode(() => parseDstackEventLog(many), 'event_log_malformed', /larger than/);
  });
});

describe('RTMR replay', () => {
  it('both fixture logs replay to their quote RTMR0..3', () => {
    expect(replayRtmrs(parseDstackEventLog(sim2025Log)).map(toHex)).toEqual(sim2025Td.rtmrs);
    expect(replayRtmrs(parseDstackEventLog(sim2026Log)).map(toHex)).toEqual(sim2026Td.rtmrs);
    expect(sim2025Td.rtmrs[3].startsWith('6d1a3da994b6611e')).toBe(true);
    expect(sim2026Td.rtmrs[3].startsWith('f28a1490ee924e93')).toBe(true);
  });

  it('recomputes runtime digests: a stripped (empty) runtime digest still replays', async () => {
    const events = clone(sim2026Log).map((e) => (e.event_type === RUNTIME ? { ...e, digest: '' } : e));
    const { error, identity } = await evaluateDstack(sim2026Td, { eventLog: events });
    expect(error).toBeNull();
    expect(identity.replayed).toBe(true);
  });

  it('rejects a runtime event whose supplied digest is not its content', async () => {
    const events = sim2025Events();
    const i = indexOf(events, 'instance-id');
    events[i]!.digest = v1Digest('instance-id', '00'.repeat(20));
    await expectEvaluateError(sim2025Td, events, 'event_log_mismatch', /instance-id.*claims digest/);
  });

  it('a changed payload (with its digest recomputed) no longer replays into RTMR3', async () => {
    const events = sim2025Events();
    const i = indexOf(events, 'compose-hash');
    const forged = 'a88c6d12' + events[i]!.event_payload.slice(8);
    events[i] = runtimeEvent('compose-hash', forged);
    const identity = await expectEvaluateError(sim2025Td, events, 'event_log_mismatch', /RTMR3/);
    // Nothing from an unproven log is reported as identity.
    expect(identity.replayed).toBe(false);
    expect(identity.composeHash).toBeNull();
    expect(identity.bootEvents).toEqual([]);
  });

  it('a changed payload with the original digest is caught by the digest check', async () => {
    const events = sim2025Events();
    const i = indexOf(events, 'compose-hash');
    events[i]!.event_payload = 'a88c6d12' + events[i]!.event_payload.slice(8);
    await expectEvaluateError(sim2025Td, events, 'event_log_mismatch', /compose-hash/);
  });

  it('reordering two events breaks the replay', async () => {
    const events = sim2025Events();
    const a = indexOf(events, 'app-id');
    const b = indexOf(events, 'compose-hash');
    [events[a], events[b]] = [events[b]!, events[a]!];
    await expectEvaluateError(sim2025Td, events, 'event_log_mismatch', /RTMR3/);
  });

  it('dropping an event breaks the replay', async () => {
    const events = sim2026Log.filter((e) => e.event !== 'storage-fs');
    await expectEvaluateError(sim2026Td, events, 'event_log_mismatch', /RTMR3/);
  });

  it('a changed firmware digest names its register', async () => {
    const events = sim2025Events();
    const i = events.findIndex((e) => e.imr === 1);
    events[i]!.digest = (events[i]!.digest[0] === '0' ? '1' : '0') + events[i]!.digest.slice(1);
    await expectEvaluateError(sim2025Td, events, 'event_log_mismatch', /^RTMR1 /);
    const withoutFirstImr2 = sim2025Events();
    withoutFirstImr2.splice(
      withoutFirstImr2.findIndex((e) => e.imr === 2),
      1,
    );
    await expectEvaluateError(sim2025Td, withoutFirstImr2, 'event_log_mismatch', /^RTMR2 /);
  });

  it('a quote RTMR that differs from the log is reported with both values', async () => {
    const td = { ...sim2025Td, rtmrs: [...sim2025Td.rtmrs] as TdReportFields['rtmrs'] };
    td.rtmrs[0] = '00' + td.rtmrs[0].slice(2);
    await expectEvaluateError(
      td,
      sim2025Log,
      'event_log_mismatch',
      /^RTMR0 replayed from the event log is 85e0855a…, but the quote says 00e0855a…/,
    );
  });

  it('an empty log cannot replay a measured TD', async () => {
    await expectEvaluateError(sim2025Td, '[]', 'event_log_mismatch', /RTMR0/);
  });
});

describe('version 2 runtime digests (JCS)', () => {
  it('reproduces dstack runtime_events.rs vectors', () => {
    const text = (name: string, payload: number[]) =>
      new TextDecoder().decode(runtimeEventPreimage({ name, payload: Uint8Array.from(payload), version: 2 }));
    expect(text('compose-hash', [0xab, 0xcd])).toBe('{"name":"compose-hash","payload":"abcd","type":134217729}');
    expect(text('event"with\\special\nchars', [0xff])).toBe(
      '{"name":"event\\"with\\\\special\\nchars","payload":"ff","type":134217729}',
    );
    expect(text('', [])).toBe('{"name":"","payload":"","type":134217729}');
    expect(text('测试-emoji-🦀', [])).toContain('测试-emoji-🦀');
    expect(text('\x08\x0c\n\r\t\x01', [])).toContain('"name":"\\b\\f\\n\\r\\t\\u0001"');
    // Same bytes as canonicalizing the whole object.
    for (const [name, payload] of [
      ['app-id', '5bb4ff9a'],
      ['x"\\\u2028', ''],
      ['é', 'ff00'],
    ] as const) {
      expect(text(name, [...fromHex(payload)])).toBe(canonicalize({ name, payload, type: 134217729 }));
    }
    // V1 stays the binary form.
    const v1 = runtimeEventPreimage({ name: 'app-id', payload: Uint8Array.of(0xde, 0xad, 0xbe, 0xef), version: 1 });
    expect(toHex(v1)).toBe('01000008' + toHex(new TextEncoder().encode(':app-id:')) + 'deadbeef');
  });

  /** The sim-2026 log re-emitted by an image with event_log_version 2 (RTMR3 recomputed to match). */
  function v2Log(withPreimage: boolean): { events: DstackEvent[]; td: TdReportFields } {
    const events = clone(sim2026Log).map((e) => {
      if (e.event_type !== RUNTIME) return e;
      const v2 = { ...e, version: 2, digest: v2Digest(e.event, e.event_payload) } as DstackEvent & {
        preimage?: string;
      };
      if (withPreimage) v2.preimage = toHex(new TextEncoder().encode(v2Json(e.event, e.event_payload)));
      return v2;
    });
    return { events, td: withRtmr3(sim2026Td, events) };
  }

  it('a v2 log (with or without preimages) replays and yields the same identity', async () => {
    for (const withPreimage of [false, true]) {
      const { events, td } = v2Log(withPreimage);
      const { error, identity } = await evaluateDstack(td, { eventLog: JSON.stringify(events) });
      expect(error).toBeNull();
      expect(identity.composeHash).toBe(SIM2026.composeHash);
    }
  });

  it('v1 digests do not replay a v2 log (the version is honoured)', async () => {
    const { events, td } = v2Log(false);
    const stripped = events.map((e) => (e.event_type === RUNTIME ? { ...e, digest: '', version: undefined } : e));
    await expectEvaluateError(td, stripped, 'event_log_mismatch', /RTMR3/);
  });

  it('rejects a preimage that is not the canonical form of the event', async () => {
    const { events, td } = v2Log(true);
    const i = indexOf(events, 'compose-hash');
    const reordered = `{"type":134217729,"name":"compose-hash","payload":"${events[i]!.event_payload}"}`;
    (events[i] as DstackEvent & { preimage?: string }).preimage = toHex(new TextEncoder().encode(reordered));
    await expectEvaluateError(td, events, 'event_log_mismatch', /preimage/);
  });

  it('hashes a large v2 payload (beyond the 64 KiB canonical document ceiling)', () => {
    const payload = 'ab'.repeat(100_000);
    const [event] = parseDstackEventLog([
      {
        imr: 3,
        event_type: RUNTIME,
        digest: v2Digest('blob', payload),
        event: 'blob',
        event_payload: payload,
        version: 2,
      },
    ]);
    expect(replayRtmrs([event!]).map(toHex)[3]).toBe(
      referenceRtmr([{ ...event!, digest: v2Digest('blob', payload) }], 3),
    );
  });
});

describe('boot identity', () => {
  it('sim-2025: identity from IMR3 up to system-ready', async () => {
    const { identity, error } = await evaluateDstack(sim2025Td, { eventLog: sim2025Log });
    expect(error).toBeNull();
    expect(identity).toMatchObject({
      replayed: true,
      ...SIM2025,
      osImageHash: null,
      keyProvider: { name: 'kms', id: KMS_ID },
      keyProviderRaw: null,
      mrConfigIdForm: 'unset',
      bootEvents: [
        'system-preparing',
        'app-id',
        'compose-hash',
        'instance-id',
        'boot-mr-done',
        'key-provider',
        'system-ready',
      ],
    });
    // app-id is the first 20 bytes of the compose hash when no KMS assigns one.
    expect(SIM2025.composeHash.startsWith(identity.appId!)).toBe(true);
    expect(identity.policyChecks.map((c) => [c.id, c.ok])).toEqual([
      ['dstack.event-log', true],
      ['dstack.replay', true],
      ['dstack.boot-identity', true],
      ['dstack.mr-config-id', true],
    ]);
  });

  it('sim-2026: identity with os-image-hash, storage-fs and a KMS-assigned app-id', async () => {
    const { identity, error } = await evaluateDstack(sim2026Td, { eventLog: JSON.stringify(sim2026Log) });
    expect(error).toBeNull();
    expect(identity).toMatchObject({
      replayed: true,
      ...SIM2026,
      keyProvider: { name: 'kms', id: KMS_ID },
      mrConfigIdForm: 'compose-hash',
      bootEvents: [
        'system-preparing',
        'app-id',
        'compose-hash',
        'instance-id',
        'boot-mr-done',
        'os-image-hash',
        'key-provider',
        'storage-fs',
        'system-ready',
      ],
    });
    expect(SIM2026.composeHash.startsWith(SIM2026.appId)).toBe(false);
  });

  it('ignores a compose-hash the app extends after system-ready', async () => {
    const events = [
      ...sim2025Events(),
      runtimeEvent('compose-hash', 'a88c6d12'.padEnd(64, '0')),
      runtimeEvent('app-id', '00'.repeat(20)),
    ];
    const td = withRtmr3(sim2025Td, events);
    expect(td.rtmrs[3]).not.toBe(sim2025Td.rtmrs[3]);
    const { identity, error } = await evaluateDstack(td, {
      eventLog: events,
      policy: { composeHash: SIM2025.composeHash },
    });
    expect(error).toBeNull();
    expect(identity.composeHash).toBe(SIM2025.composeHash);
    expect(identity.appId).toBe(SIM2025.appId);
    expect(identity.bootEvents.at(-1)).toBe('system-ready');
  });

  it('rejects a second compose-hash before system-ready, even one that replays', async () => {
    const events = sim2025Events();
    events.splice(indexOf(events, 'compose-hash') + 1, 0, runtimeEvent('compose-hash', 'a88c6d12'.padEnd(64, '0')));
    const identity = await expectEvaluateError(
      withRtmr3(sim2025Td, events),
      events,
      'event_log_malformed',
      /second "compose-hash"/,
    );
    expect(identity.replayed).toBe(true);
    expect(identity.composeHash).toBeNull();
  });

  it.each(['app-id', 'instance-id', 'key-provider'])('rejects a duplicate %s before system-ready', async (name) => {
    const events = sim2025Events();
    const i = indexOf(events, name);
    events.splice(i, 0, { ...events[i]! });
    await expectEvaluateError(
      withRtmr3(sim2025Td, events),
      events,
      'event_log_malformed',
      new RegExp(`second "${name}"`),
    );
  });

  it.each([
    ['app-id', '11'.repeat(19)],
    ['compose-hash', '22'.repeat(33)],
    ['instance-id', '33'.repeat(10)],
    ['os-image-hash', '44'.repeat(20)],
  ])('rejects a %s payload of the wrong size', async (name, payload) => {
    const events = sim2025Events();
    const i = indexOf(events, 'boot-mr-done');
    const existing = indexOf(events, name);
    if (existing >= 0) events.splice(existing, 1);
    events.splice(i, 0, runtimeEvent(name, payload));
    await expectEvaluateError(withRtmr3(sim2025Td, events), events, 'event_log_malformed', /bytes; dstack writes/);
  });

  it('accepts an empty instance-id (no_instance_id)', async () => {
    const events = sim2025Events();
    events[indexOf(events, 'instance-id')] = runtimeEvent('instance-id', '');
    const { identity, error } = await evaluateDstack(withRtmr3(sim2025Td, events), { eventLog: events });
    expect(error).toBeNull();
    expect(identity.instanceId).toBe('');
  });

  it('requires system-ready: a log of a CVM still booting has no final identity', async () => {
    const events = sim2025Events().filter((e) => e.event !== 'system-ready');
    const identity = await expectEvaluateError(
      withRtmr3(sim2025Td, events),
      events,
      'event_log_malformed',
      /system-ready/,
    );
    expect(identity.composeHash).toBe(SIM2025.composeHash);
  });

  it('requires compose-hash and app-id before system-ready', async () => {
    for (const name of ['compose-hash', 'app-id']) {
      const events = sim2025Events().filter((e) => e.event !== name);
      await expectEvaluateError(
        withRtmr3(sim2025Td, events),
        events,
        'identity_mismatch',
        /no compose-hash or no app-id/,
      );
    }
  });

  it('keeps a key-provider payload that is not the JSON form as raw hex', () => {
    const events = sim2025Events();
    events[indexOf(events, 'key-provider')] = runtimeEvent('key-provider', 'deadbeef');
    const identity = extractBootIdentity(parseDstackEventLog(events));
    expect(identity.keyProvider).toBeNull();
    expect(identity.keyProviderRaw).toBe('deadbeef');
  });

  it('ignores runtime-looking names on firmware event types', () => {
    const events = sim2025Events();
    events.unshift({
      imr: 0,
      event_type: 0x80000001,
      digest: 'ab'.repeat(48),
      event: 'compose-hash',
      event_payload: '00'.repeat(32),
    });
    expect(toHex(extractBootIdentity(parseDstackEventLog(events)).composeHash!)).toBe(SIM2025.composeHash);
  });
});

describe('compose hash', () => {
  it('computeComposeHash is SHA-256 of the exact bytes', () => {
    expect(computeComposeHash(notMeasuredCompose)).toBe(createHash('sha256').update(notMeasuredCompose).digest('hex'));
    expect(computeComposeHash(new Uint8Array())).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('the NOT-MEASURED compose file is not what sim-2025 measured', async () => {
    const shown = computeComposeHash(notMeasuredCompose);
    expect(shown.startsWith('a88c6d12')).toBe(true);
    const { error, identity } = await evaluateDstack(sim2025Td, {
      eventLog: sim2025Log,
      policy: { composeHash: shown },
    });
    expect(error?.code).toBe('identity_mismatch');
    expect(error?.message).toBe('The compose hash is ea549f02…, expected a88c6d12….');
    expect(identity.composeHash).toBe(SIM2025.composeHash);
  });
});

describe('MRCONFIGID', () => {
  const sim2026Boot = () => extractBootIdentity(parseDstackEventLog(sim2026Log));
  const withConfigId = (hex: string): TdReportFields => ({ ...sim2026Td, mrConfigId: hex });
  const flip = (hex: string, byte: number): string => {
    const b = fromHex(hex);
    b[byte]! ^= 0x01;
    return toHex(b);
  };

  it("sim-2026 '01 ‖ compose-hash' is consistent with its log", () => {
    expect(sim2026Td.mrConfigId).toBe(`01${SIM2026.composeHash}${'00'.repeat(15)}`);
    expect(checkMrConfigId(fromHex(sim2026Td.mrConfigId), sim2026Boot())).toBe('compose-hash');
  });

  it.each([1, 16, 32])('a flipped compose-hash byte %i fails', async (byte) => {
    await expectEvaluateError(
      withConfigId(flip(sim2026Td.mrConfigId, byte)),
      sim2026Log,
      'identity_mismatch',
      /MRCONFIGID binds compose hash/,
    );
  });

  it('non-zero padding after the 33-byte value fails', async () => {
    await expectEvaluateError(
      withConfigId(flip(sim2026Td.mrConfigId, 40)),
      sim2026Log,
      'identity_mismatch',
      /non-zero bytes/,
    );
  });

  it('an unknown form fails', async () => {
    const identity = await expectEvaluateError(
      withConfigId(`09${sim2026Td.mrConfigId.slice(2)}`),
      sim2026Log,
      'identity_mismatch',
      /unknown form 9/,
    );
    expect(identity.mrConfigIdForm).toBe('unknown');
  });

  it('all zero is unset', () => {
    expect(checkMrConfigId(new Uint8Array(48), sim2026Boot())).toBe('unset');
  });

  it('form 3 (document) is reported, with zero padding required', async () => {
    const doc = `03${'5a'.repeat(32)}${'00'.repeat(15)}`;
    const { error, identity } = await evaluateDstack(withConfigId(doc), { eventLog: sim2026Log });
    expect(error).toBeNull();
    expect(identity.mrConfigIdForm).toBe('document');
    await expectEvaluateError(withConfigId(flip(doc, 47)), sim2026Log, 'identity_mismatch', /non-zero bytes/);
  });

  /** Form 2 computed here from mr_config.rs: Keccak-256(compose ‖ app id ‖ kind ‖ key provider id). */
  const keccakConfigId = (kind: number, providerId: string, composeHash = SIM2026.composeHash): string =>
    `02${toHex(keccak_256(fromHex(composeHash + SIM2026.appId + kind.toString(16).padStart(2, '0') + providerId)))}${'00'.repeat(15)}`;

  it('form 2 (keccak binding) matches compose hash, app id and the KMS key provider', async () => {
    const { error, identity } = await evaluateDstack(withConfigId(keccakConfigId(2, KMS_ID)), { eventLog: sim2026Log });
    expect(error).toBeNull();
    expect(identity.mrConfigIdForm).toBe('keccak-binding');
  });

  it.each([
    ['another key provider kind', () => keccakConfigId(1, KMS_ID)],
    ['another key provider id', () => keccakConfigId(2, KMS_ID.slice(0, -2) + '00')],
    ['another compose hash', () => keccakConfigId(2, KMS_ID, 'ff' + SIM2026.composeHash.slice(2))],
    ['a flipped binding byte', () => flip(keccakConfigId(2, KMS_ID), 5)],
  ])('form 2 with %s fails', async (_name, configId) => {
    await expectEvaluateError(withConfigId(configId()), sim2026Log, 'identity_mismatch', /MRCONFIGID binds/);
  });

  it('form 2 cannot be checked without a recognised key provider', async () => {
    const events = clone(sim2026Log);
    events[indexOf(events, 'key-provider')] = runtimeEvent(
      'key-provider',
      toHex(new TextEncoder().encode('{"name":"other","id":""}')),
    );
    await expectEvaluateError(
      withRtmr3(withConfigId(keccakConfigId(2, '')), events),
      events,
      'identity_mismatch',
      /"other" has no MRCONFIGID kind/,
    );
  });

  it('a non-zero MRCONFIGID is not checked against an unproven log', async () => {
    const events = clone(sim2026Log).filter((e) => e.event !== 'storage-fs');
    const identity = await expectEvaluateError(sim2026Td, events, 'event_log_mismatch');
    expect(identity.mrConfigIdForm).toBe('compose-hash');
    expect(identity.policyChecks.some((c) => c.id === 'dstack.mr-config-id')).toBe(false);
  });
});

describe('policy', () => {
  const fullPolicy = (): DstackPolicy => ({
    allowedOsImages: [
      {
        name: 'other image',
        mrtd: '00'.repeat(48),
        rtmr0: sim2026Td.rtmrs[0],
        rtmr1: sim2026Td.rtmrs[1],
        rtmr2: sim2026Td.rtmrs[2],
      },
      {
        name: 'dstack-0.6.0 sim',
        mrtd: sim2026Td.mrTd.toUpperCase(),
        rtmr0: sim2026Td.rtmrs[0],
        rtmr1: sim2026Td.rtmrs[1],
        rtmr2: sim2026Td.rtmrs[2],
      },
    ],
    composeHash: SIM2026.composeHash.toUpperCase(),
    appId: SIM2026.appId,
    instanceId: SIM2026.instanceId,
    osImageHash: SIM2026.osImageHash,
    keyProviderId: KMS_ID,
    reportData: '00'.repeat(64),
  });

  it('every field matching passes and is listed', async () => {
    const { error, identity } = await evaluateDstack(sim2026Td, { eventLog: sim2026Log, policy: fullPolicy() });
    expect(error).toBeNull();
    const policyChecks = identity.policyChecks.filter((c) => c.id.startsWith('dstack.policy.'));
    expect(policyChecks.map((c) => c.id)).toEqual([
      'dstack.policy.os-image',
      'dstack.policy.compose-hash',
      'dstack.policy.app-id',
      'dstack.policy.instance-id',
      'dstack.policy.os-image-hash',
      'dstack.policy.key-provider-id',
      'dstack.policy.report-data',
    ]);
    expect(policyChecks.every((c) => c.ok)).toBe(true);
    expect(policyChecks[0]!.detail).toBe('matches dstack-0.6.0 sim');
  });

  const flipFirst = (hex: string): string => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
  it.each([
    ['composeHash', 'identity_mismatch', /^The compose hash is c143116f…, expected 0143116f…\.$/],
    ['appId', 'identity_mismatch', /^The app id is 5bb4ff9a…, expected /],
    ['instanceId', 'identity_mismatch', /^The instance id is 1691ed1b…, expected /],
    ['osImageHash', 'identity_mismatch', /^The OS image hash is e61be43d…, expected /],
    ['keyProviderId', 'identity_mismatch', /^The key provider id is 30593013…, expected /],
    ['reportData', 'report_data_mismatch', /^The report data is 00000000…, expected 10000000…\.$/],
  ] as const)('a mismatching %s fails with %s', async (key, code, message) => {
    const policy = fullPolicy();
    policy[key] = flipFirst(policy[key]!);
    const { error, identity } = await evaluateDstack(sim2026Td, { eventLog: sim2026Log, policy });
    expect(error?.code, error?.message).toBe(code);
    expect(error!.message).toMatch(message);
    // Exactly the one field fails; the others are still listed as matching.
    const failed = identity.policyChecks.filter((c) => !c.ok);
    expect(failed).toHaveLength(1);
    expect(identity.policyChecks).toHaveLength(11);
  });

  it('an OS image not in the allow-list fails; so does an empty allow-list', async () => {
    for (const allowedOsImages of [fullPolicy().allowedOsImages!.slice(0, 1), []]) {
      await expectEvaluateError(sim2026Td, sim2026Log, 'identity_mismatch', /OS image is not allowed: MRTD e53236d4…/, {
        allowedOsImages,
      });
    }
    const wrongRtmr2 = fullPolicy().allowedOsImages!.map((img) => ({ ...img, rtmr2: sim2025Td.rtmrs[2] }));
    await expectEvaluateError(sim2026Td, sim2026Log, 'identity_mismatch', /OS image/, { allowedOsImages: wrongRtmr2 });
  });

  it('a field the log did not measure fails as not measured', async () => {
    await expectEvaluateError(sim2025Td, sim2025Log, 'identity_mismatch', /OS image hash was not measured/, {
      osImageHash: SIM2026.osImageHash,
    });
  });

  it('a key provider id is not matched against a raw (non-JSON) key-provider payload', async () => {
    const events = sim2025Events();
    events[indexOf(events, 'key-provider')] = runtimeEvent('key-provider', KMS_ID);
    await expectEvaluateError(
      withRtmr3(sim2025Td, events),
      events,
      'identity_mismatch',
      /key provider id was not measured/,
      { keyProviderId: KMS_ID },
    );
  });

  it('a policy value that is not hex never matches', async () => {
    await expectEvaluateError(sim2026Td, sim2026Log, 'identity_mismatch', /app id/, { appId: `${SIM2026.appId}zz` });
    await expectEvaluateError(sim2026Td, sim2026Log, 'report_data_mismatch', undefined, {
      reportData: '00'.repeat(63),
    });
  });

  it('reports data mismatch as report_data_mismatch even when identity fields match', async () => {
    const td = { ...sim2026Td, reportData: 'ab'.repeat(64) };
    await expectEvaluateError(
      td,
      sim2026Log,
      'report_data_mismatch',
      /^The report data is abababab…, expected 00000000…\.$/,
      { reportData: '00'.repeat(64), composeHash: SIM2026.composeHash },
    );
  });

  it('the first failure is the error: a broken log wins over policy mismatches', async () => {
    const events = sim2026Log.filter((e) => e.event !== 'boot-mr-done');
    const identity = await expectEvaluateError(sim2026Td, events, 'event_log_mismatch', undefined, {
      composeHash: SIM2026.composeHash,
    });
    expect(identity.policyChecks.find((c) => c.id === 'dstack.policy.compose-hash')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/not measured/),
    });
  });
});

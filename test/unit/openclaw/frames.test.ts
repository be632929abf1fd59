// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { OpenClawError } from '../../../lib/openclaw/errors';
import { PRE_AUTH_MAX_BYTES, decodeServerFrame, encodeRequest, gatewayError } from '../../../lib/openclaw/frames';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OpenClawError);
    return (err as OpenClawError).code;
  }
  throw new Error('did not throw');
};

describe('openclaw frames', () => {
  it('encodes a request frame with only the protocol fields', () => {
    const text = encodeRequest({ type: 'req', id: 'r1', method: 'exec.approval.list', params: {} }, PRE_AUTH_MAX_BYTES);
    expect(JSON.parse(text)).toEqual({ type: 'req', id: 'r1', method: 'exec.approval.list', params: {} });
    expect(JSON.parse(encodeRequest({ type: 'req', id: 'r2', method: 'health' }, 1000))).toEqual({
      type: 'req',
      id: 'r2',
      method: 'health',
    });
  });

  it('refuses requests over the size limit, counting UTF-8 bytes', () => {
    expect(
      code(() =>
        encodeRequest({ type: 'req', id: 'r', method: 'm', params: { s: 'x'.repeat(70_000) } }, PRE_AUTH_MAX_BYTES),
      ),
    ).toBe('frame_too_large');
    // 30 000 × "é" is 60 000 UTF-16 units but 60 000+ bytes: under 64 KiB either way; 40 000 × "€" is 120 000 bytes.
    expect(() =>
      encodeRequest({ type: 'req', id: 'r', method: 'm', params: { s: 'é'.repeat(30_000) } }, PRE_AUTH_MAX_BYTES),
    ).not.toThrow();
    expect(
      code(() =>
        encodeRequest({ type: 'req', id: 'r', method: 'm', params: { s: '€'.repeat(40_000) } }, PRE_AUTH_MAX_BYTES),
      ),
    ).toBe('frame_too_large');
    expect(code(() => encodeRequest({ type: 'req', id: '', method: 'm' }, 1000))).toBe('frame_invalid');
  });

  it('decodes responses and events', () => {
    expect(decodeServerFrame('{"type":"res","id":"a","ok":true,"payload":{"x":1}}', 1000)).toEqual({
      type: 'res',
      id: 'a',
      ok: true,
      payload: { x: 1 },
    });
    expect(decodeServerFrame('{"type":"event","event":"tick","payload":{"ts":1},"seq":3}', 1000)).toEqual({
      type: 'event',
      event: 'tick',
      payload: { ts: 1 },
      seq: 3,
    });
    const err = decodeServerFrame(
      JSON.stringify({
        type: 'res',
        id: 'b',
        ok: false,
        error: {
          code: 'FORBIDDEN',
          message: 'no',
          details: { code: 'MISSING_SCOPE' },
          retryable: false,
          retryAfterMs: 0,
        },
      }),
      1000,
    );
    expect(err).toEqual({
      type: 'res',
      id: 'b',
      ok: false,
      error: {
        code: 'FORBIDDEN',
        message: 'no',
        details: { code: 'MISSING_SCOPE' },
        retryable: false,
        retryAfterMs: 0,
      },
    });
  });

  it.each([
    ['binary', new Uint8Array([1])],
    ['not JSON', '{'],
    ['array', '[]'],
    ['unknown type', '{"type":"req","id":"a","method":"x"}'],
    ['res without id', '{"type":"res","ok":true}'],
    ['res without ok', '{"type":"res","id":"a"}'],
    ['failed res without error', '{"type":"res","id":"a","ok":false}'],
    ['error without code', '{"type":"res","id":"a","ok":false,"error":{"message":"m"}}'],
    ['error without message', '{"type":"res","id":"a","ok":false,"error":{"code":"X"}}'],
    [
      'retryable not boolean',
      '{"type":"res","id":"a","ok":false,"error":{"code":"X","message":"m","retryable":"yes"}}',
    ],
    [
      'negative retryAfterMs',
      '{"type":"res","id":"a","ok":false,"error":{"code":"X","message":"m","retryAfterMs":-1}}',
    ],
    ['event without name', '{"type":"event","payload":{}}'],
    ['fractional seq', '{"type":"event","event":"e","seq":1.5}'],
  ])('rejects %s', (_name, data) => {
    expect(code(() => decodeServerFrame(data, 1000))).toBe('frame_invalid');
  });

  it('rejects frames over the limit before parsing them', () => {
    const big = JSON.stringify({ type: 'event', event: 'e', payload: 'x'.repeat(PRE_AUTH_MAX_BYTES) });
    expect(code(() => decodeServerFrame(big, PRE_AUTH_MAX_BYTES))).toBe('frame_too_large');
    expect(decodeServerFrame(big, 25 * 1024 * 1024).type).toBe('event');
  });

  it('maps gateway errors to typed errors: detail code first, secrets scrubbed', () => {
    const e = gatewayError(
      {
        code: 'NOT_PAIRED',
        message: 'pairing required for token s3cr3t-gateway-token',
        details: { code: 'PAIRING_REQUIRED', requestId: 'req-42', reason: 'not-paired' },
        retryable: false,
      },
      ['s3cr3t-gateway-token'],
    );
    expect(e.code).toBe('PAIRING_REQUIRED');
    expect(e.gatewayCode).toBe('NOT_PAIRED');
    expect(e.requestId).toBe('req-42');
    expect(e.reason).toBe('not-paired');
    expect(e.message).not.toContain('s3cr3t');
    const r = gatewayError({ code: 'UNAVAILABLE', message: 'busy', retryable: true, retryAfterMs: 1500 });
    expect([r.code, r.retryable, r.retryAfterMs, r.requestId]).toEqual(['UNAVAILABLE', true, 1500, null]);
    // A request id that is not of the documented shape is not echoed.
    expect(
      gatewayError({ code: 'X', message: 'm', details: { code: 'PAIRING_REQUIRED', requestId: 'a b; rm -rf' } })
        .requestId,
    ).toBeNull();
  });
});

// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { buildConnectParams, explainConnectError, parseChallenge, parseHelloOk } from '../../../lib/openclaw/connect';
import { base64UrlDecode, connectProofPayload, createDeviceIdentity } from '../../../lib/openclaw/device-identity';
import { OpenClawError } from '../../../lib/openclaw/errors';
import { gatewayError } from '../../../lib/openclaw/frames';

const hello = {
  type: 'hello-ok',
  protocol: 4,
  server: { version: '2026.9.6', connId: 'c1' },
  features: { methods: ['exec.approval.list'], events: ['exec.approval.requested'] },
  snapshot: {},
  auth: { role: 'operator', scopes: ['operator.read'], deviceToken: 'dev-token-123' },
  policy: { maxPayload: 26214400, maxBufferedBytes: 52428800, tickIntervalMs: 30000 },
};

describe('openclaw connect', () => {
  it('builds closed connect params with a device proof bound to the challenge', async () => {
    const identity = await createDeviceIdentity();
    const challenge = { nonce: 'n-1', ts: 1_790_000_000_000 };
    const p = await buildConnectParams({
      identity,
      auth: { token: 'gw-token' },
      challenge,
      clientVersion: '0.1.0',
      platform: 'Chrome',
    });
    expect(Object.keys(p).sort()).toEqual([
      'auth',
      'caps',
      'client',
      'device',
      'maxProtocol',
      'minProtocol',
      'role',
      'scopes',
    ]);
    expect(p).toMatchObject({
      minProtocol: 4,
      maxProtocol: 4,
      client: { id: 'webchat-ui', version: '0.1.0', platform: 'Chrome', mode: 'ui', displayName: 'Clawkeep' },
      role: 'operator',
      scopes: ['operator.approvals'],
      caps: ['approvals', 'exec-approvals', 'plugin-approvals'],
      auth: { token: 'gw-token' },
    });
    expect(Object.keys(p.client).sort()).toEqual(['displayName', 'id', 'mode', 'platform', 'version']);
    expect(Object.keys(p.auth)).toEqual(['token']);
    expect(Object.keys(p.device).sort()).toEqual(['id', 'nonce', 'publicKey', 'signature', 'signedAt']);
    expect(p.device).toMatchObject({
      id: identity.deviceId,
      publicKey: identity.publicKeyBase64Url,
      signedAt: challenge.ts,
      nonce: 'n-1',
    });
    const payload = connectProofPayload({
      deviceId: identity.deviceId,
      clientId: 'webchat-ui',
      clientMode: 'ui',
      role: 'operator',
      scopes: p.scopes,
      signedAt: challenge.ts,
      token: 'gw-token',
      nonce: 'n-1',
      platform: 'chrome',
    });
    const pub = await crypto.subtle.importKey('raw', identity.publicKeyRaw as BufferSource, { name: 'Ed25519' }, true, [
      'verify',
    ]);
    expect(
      await crypto.subtle.verify(
        { name: 'Ed25519' },
        pub,
        base64UrlDecode(p.device.signature) as BufferSource,
        new TextEncoder().encode(payload),
      ),
    ).toBe(true);

    const withDeviceToken = await buildConnectParams({
      identity,
      auth: { deviceToken: 'dt' },
      challenge,
      clientVersion: '0.1.0',
      platform: 'web',
    });
    expect(withDeviceToken.auth).toEqual({ deviceToken: 'dt' });
  });

  it('requests exactly operator.approvals by default, and operator.admin only when the person opted in to every agent', async () => {
    const identity = await createDeviceIdentity();
    const challenge = { nonce: 'n-2', ts: 1_790_000_000_000 };
    const base = { identity, auth: { token: 'gw-token' }, challenge, clientVersion: '0.1.0', platform: 'web' };
    expect((await buildConnectParams(base)).scopes).toEqual(['operator.approvals']);
    expect((await buildConnectParams({ ...base, allAgents: false })).scopes).toEqual(['operator.approvals']);
    const all = await buildConnectParams({ ...base, allAgents: true });
    expect(all.scopes).toEqual(['operator.approvals', 'operator.admin']);
    // The scopes are signed into the device proof: the gateway checks the proof against exactly what is requested.
    const payload = connectProofPayload({
      deviceId: identity.deviceId,
      clientId: 'webchat-ui',
      clientMode: 'ui',
      role: 'operator',
      scopes: all.scopes,
      signedAt: challenge.ts,
      token: 'gw-token',
      nonce: 'n-2',
      platform: 'web',
    });
    const pub = await crypto.subtle.importKey('raw', identity.publicKeyRaw as BufferSource, { name: 'Ed25519' }, true, [
      'verify',
    ]);
    expect(
      await crypto.subtle.verify(
        { name: 'Ed25519' },
        pub,
        base64UrlDecode(all.device.signature) as BufferSource,
        new TextEncoder().encode(payload),
      ),
    ).toBe(true);
  });

  it('parses the challenge and hello-ok strictly', () => {
    expect(parseChallenge({ nonce: 'x', ts: 5 })).toEqual({ nonce: 'x', ts: 5 });
    expect(() => parseChallenge({ nonce: '', ts: 5 })).toThrow(OpenClawError);
    expect(() => parseChallenge({ nonce: 'x' })).toThrow(OpenClawError);
    const h = parseHelloOk(hello);
    expect(h).toMatchObject({
      protocol: 4,
      deviceToken: 'dev-token-123',
      maxPayload: 26214400,
      tickIntervalMs: 30000,
      role: 'operator',
    });
    expect(parseHelloOk({ ...hello, auth: { role: 'operator', scopes: [] } }).deviceToken).toBeNull();
    for (const bad of [
      { ...hello, protocol: 3 },
      { ...hello, type: 'hello' },
      { ...hello, policy: { maxPayload: 0, maxBufferedBytes: 1, tickIntervalMs: 1 } },
      { ...hello, features: {} },
    ]) {
      expect(() => parseHelloOk(bad)).toThrow(expect.objectContaining({ code: 'handshake_invalid' }));
    }
  });

  it('explains pairing with the exact approve command', () => {
    const e = gatewayError({
      code: 'NOT_PAIRED',
      message: 'device pairing required',
      details: { code: 'PAIRING_REQUIRED', requestId: 'abc-123' },
    });
    const x = explainConnectError(e);
    expect(x.action).toContain('`openclaw devices approve abc-123`');
    expect(x.retry).toBe(false);
    expect(explainConnectError(new OpenClawError('PAIRING_REQUIRED', 'm')).action).toContain('openclaw devices list');
  });

  it('explains a refused origin with the allowlist command for that origin', () => {
    const e = gatewayError({
      code: 'INVALID_REQUEST',
      message: 'origin not allowed',
      details: { code: 'CONTROL_UI_ORIGIN_NOT_ALLOWED' },
    });
    const x = explainConnectError(e, 'chrome-extension://abcdefghijklmnop');
    expect(x.action).toContain(
      `openclaw config set gateway.controlUi.allowedOrigins '["chrome-extension://abcdefghijklmnop"]' --strict-json`,
    );
    expect(x.retry).toBe(false);
    const missing = gatewayError({
      code: 'INVALID_REQUEST',
      message: 'origin not allowed',
      details: { code: 'CONTROL_UI_ORIGIN_NOT_ALLOWED', reason: 'origin missing or invalid' },
    });
    expect(explainConnectError(missing, 'chrome-extension://abcdefghijklmnop').action).toMatch(/no usable Origin/);
  });

  it('explains auth and device-proof failures without echoing secrets', () => {
    const token = 'super-secret-gateway-token';
    const e = gatewayError(
      {
        code: 'INVALID_REQUEST',
        message: `unauthorized: token ${token} mismatch`,
        details: { code: 'AUTH_TOKEN_MISMATCH' },
      },
      [token],
    );
    const x = explainConnectError(e);
    expect(x.title).toMatch(/refused the token/);
    expect(JSON.stringify([x, e.toJSON(), e.message])).not.toContain(token);
    expect(explainConnectError(new OpenClawError('DEVICE_AUTH_SIGNATURE_EXPIRED', 'm')).action).toMatch(/clock/);
    expect(explainConnectError(new OpenClawError('AUTH_DEVICE_TOKEN_MISMATCH', 'm')).action).toMatch(/pair again/);
    expect(explainConnectError(new OpenClawError('closed', 'm')).retry).toBe(true);
  });
});

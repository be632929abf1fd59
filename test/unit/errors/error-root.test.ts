// @vitest-environment node
// Issue 14 step 3: one error root with a typed code union, and one boundary mapping (lib/errors.ts).
import { describe, expect, expectTypeOf, it } from 'vitest';
import { UsageError } from '../../../bin/command';
import { HubError } from '../../../hub/errors';
import { ListenError } from '../../../hub/listener';
import { ManifestFetchError } from '../../../hub/manifest-fetch';
import { StoreError } from '../../../hub/store/errors';
import { AgentError, type AgentLocalErrorCode } from '../../../lib/agent/errors';
import { ExecRequestError, type ExecRequestErrorCode } from '../../../lib/agent/openclaw-secret';
import { AttestError, type AttestErrorCode } from '../../../lib/attest/errors';
import { CollateralFetchError } from '../../../lib/attest/pccs-http';
import { DeployError, type DeployErrorCode } from '../../../lib/deploy/errors';
import {
  ClawkeepError,
  DecryptError,
  errorCode,
  errorMessage,
  FormatError,
  KdfParamsError,
  relayedCode,
  reviveError,
  StorageError,
  toErrorInfo,
  UNEXPECTED_MESSAGE,
  VaultLockedError,
  WrongPassphraseError,
  type CliErrorCode,
  type ListenErrorCode,
  type ClawkeepErrorCode,
  type CoreErrorCode,
  type ErrorInfo,
  type ManifestFetchErrorCode,
  type RelayedErrorCode,
  type SimErrorCode,
  type StoreErrorCode,
} from '../../../lib/errors';
import { HubClientError, type HubClientOwnCode } from '../../../lib/hub-client/errors';
import { OpenClawError, type OpenClawGatewayCode, type OpenClawOwnCode } from '../../../lib/openclaw/errors';
import { API_ERRORS, type ApiErrorCode } from '../../../lib/protocol/api-errors';
import { ProtocolError, type ProtocolErrorCode } from '../../../lib/protocol/errors';
import { SyncError, type SyncErrorCode } from '../../../lib/protocol/sync-errors';
import { ManifestError, type ManifestErrorCode } from '../../../lib/providers/openclaw-manifest/errors';
import { AppComposeError, type AppComposeErrorCode } from '../../../lib/providers/phala/app-compose';
import { PhalaApiError, type PhalaApiErrorCode } from '../../../lib/providers/phala/errors';
import { SealError, type SealErrorCode } from '../../../lib/seal/errors';
import { HttpCallError, type HttpCallErrorCode } from '../../../lib/http-request/errors';
import { ImportError, type ImportErrorCode } from '../../../lib/import/errors';
import { SimError } from '../../../sim/cvm/state';

/** A value that must never reach a page, a log or an HTTP answer through an error. */
const SECRET = 'sk-live-4f1c2e9a-passphrase-correct-horse';

/** One instance of every error family (with a secret in its cause), its class name and the code it was given. */
function families(): { family: string; err: ClawkeepError; code: string }[] {
  const cause = new Error(SECRET);
  return [
    {
      family: 'ClawkeepError',
      err: new ClawkeepError('item_not_found', 'No such item.', { cause }),
      code: 'item_not_found',
    },
    { family: 'WrongPassphraseError', err: new WrongPassphraseError({ cause }), code: 'wrong_passphrase' },
    { family: 'DecryptError', err: new DecryptError(undefined, { cause }), code: 'decrypt_failed' },
    { family: 'FormatError', err: new FormatError('Not a backup.', 'backup_invalid'), code: 'backup_invalid' },
    { family: 'KdfParamsError', err: new KdfParamsError('Too costly.'), code: 'kdf_params_out_of_range' },
    { family: 'VaultLockedError', err: new VaultLockedError(), code: 'vault_locked' },
    {
      family: 'ListenError',
      err: new ListenError('tls_files_invalid', 'cannot read the TLS key file /k.pem (EACCES)', { cause }),
      code: 'tls_files_invalid',
    },
    { family: 'StorageError', err: new StorageError('storage_full', 'No room.', { cause }), code: 'storage_full' },
    { family: 'ProtocolError', err: new ProtocolError('auth_stale', 'Stale.', { cause }), code: 'auth_stale' },
    { family: 'SyncError', err: new SyncError('sync_fork', 'Two histories.', { cause }), code: 'sync_fork' },
    {
      family: 'HubClientError',
      err: new HubClientError('hub_unreachable', 'Could not reach the hub.', { cause, status: 0 }),
      code: 'hub_unreachable',
    },
    {
      family: 'HubClientError',
      err: new HubClientError(relayedCode('support_required'), 'The hub refused (code: support_required).'),
      code: 'support_required',
    },
    {
      family: 'AgentError',
      err: new AgentError('wait_timeout', 'No decision.', { cause, requestId: 'req_1' }),
      code: 'wait_timeout',
    },
    { family: 'ExecRequestError', err: new ExecRequestError('stdin is not JSON', ['a']), code: 'exec_request_invalid' },
    {
      family: 'AttestError',
      err: new AttestError('quote_malformed', 'Bad quote.', { cause }),
      code: 'quote_malformed',
    },
    {
      family: 'AttestError',
      err: new CollateralFetchError('TCB info', 503, 'PCCS answered 503.', { cause }),
      code: 'collateral_fetch_failed',
    },
    { family: 'SealError', err: new SealError('env_invalid', 'Bad env.', { cause }), code: 'env_invalid' },
    {
      family: 'HttpCallError',
      err: new HttpCallError('http_call_timeout', 'No answer.', { cause }),
      code: 'http_call_timeout',
    },
    {
      family: 'ImportError',
      err: new ImportError('import_malformed', 'Bad file.', { line: 2 }),
      code: 'import_malformed',
    },
    {
      family: 'DeployError',
      err: new DeployError('unhealthy', 'Not running.', { cause, step: 'health' }),
      code: 'unhealthy',
    },
    {
      family: 'OpenClawError',
      err: new OpenClawError('timeout', 'No answer.', { cause, retryable: true }),
      code: 'timeout',
    },
    {
      family: 'OpenClawError',
      err: new OpenClawError('PAIRING_REQUIRED', 'Pair first.', { requestId: 'r1' }),
      code: 'PAIRING_REQUIRED',
    },
    {
      family: 'PhalaApiError',
      err: new PhalaApiError('rate_limited', 'Slow down.', { cause, status: 429 }),
      code: 'rate_limited',
    },
    { family: 'AppComposeError', err: new AppComposeError('Another image.'), code: 'app_compose_mismatch' },
    { family: 'ManifestError', err: new ManifestError(['env[0].key is missing']), code: 'manifest_invalid' },
    {
      family: 'HubError',
      err: new HubError('rate_limited', undefined, { cause, headers: { 'retry-after': '1' } }),
      code: 'rate_limited',
    },
    { family: 'StoreError', err: new StoreError('busy', 'intents: the database is busy', { cause }), code: 'busy' },
    {
      family: 'ManifestFetchError',
      err: new ManifestFetchError('manifest_too_large', 'Too large.'),
      code: 'manifest_too_large',
    },
    { family: 'UsageError', err: new UsageError('unknown option --x', { cause }), code: 'usage_invalid' },
    { family: 'SimError', err: new SimError(409, 'CVM is starting'), code: 'sim_refused' },
  ];
}

describe('one error root', () => {
  it('every family is a ClawkeepError (and an Error) carrying its own code and class name', () => {
    for (const { family, err, code } of families()) {
      expect(err, family).toBeInstanceOf(ClawkeepError);
      expect(err, family).toBeInstanceOf(Error);
      expect(err.code, family).toBe(code);
      expect(err.name, family).toBe(family);
      expect(typeof err.message, family).toBe('string');
      expect(err.message.length, family).toBeGreaterThan(0);
    }
  });

  it('toJSON and toErrorInfo keep code and message and never carry the cause or the stack', () => {
    for (const { family, err, code } of families()) {
      const json = JSON.stringify(err);
      expect(json, family).not.toContain(SECRET);
      expect(json, family).not.toContain('stack');
      expect(json, family).not.toContain('cause');
      expect(JSON.parse(json), family).toMatchObject({ code, message: err.message });
      expect(toErrorInfo(err), family).toStrictEqual({ code, message: err.message });
      expect(errorMessage(err), family).toBe(err.message);
      expect(errorCode(err), family).toBe(code);
    }
  });

  it('a family keeps its narrower toJSON fields (the shapes other tests and the CLI rely on)', () => {
    expect(new AgentError('wait_timeout', 'm', { requestId: 'req_1' }).toJSON()).toStrictEqual({
      code: 'wait_timeout',
      message: 'm',
      request_id: 'req_1',
    });
    expect(new DeployError('untrusted_cvm', 'm', { step: 'verify', check: 'quote' }).toJSON()).toStrictEqual({
      code: 'untrusted_cvm',
      message: 'm',
      step: 'verify',
      check: 'quote',
    });
    expect(new ManifestError(['a']).toJSON()).toStrictEqual({
      code: 'manifest_invalid',
      message: 'Invalid manifest: a.',
      issues: ['a'],
    });
  });

  it('HubError still takes its HTTP status from API_ERRORS, the hub code source', () => {
    for (const code of Object.keys(API_ERRORS) as ApiErrorCode[]) {
      const err = new HubError(code);
      expect(err.status, code).toBe(API_ERRORS[code].status);
      expect(err).toBeInstanceOf(ClawkeepError);
    }
  });
});

describe('the boundary mapping', () => {
  /** Thrown values that are not ours, each carrying the secret somewhere a careless mapping would copy it. */
  const foreign: [string, unknown][] = [
    ['Error', new Error(SECRET)],
    ['TypeError', new TypeError(`Failed to fetch https://hub.example/?token=${SECRET}`)],
    [
      'SyntaxError quoting its input',
      (() => {
        try {
          JSON.parse(`{"key": ${SECRET}}`);
        } catch (e) {
          return e;
        }
      })(),
    ],
    ['RangeError (misuse stays a built-in)', new RangeError(`key must be 32 bytes, got ${SECRET}`)],
    ['Node-style error with a string code', Object.assign(new Error(`open ${SECRET}`), { code: 'ENOENT' })],
    ['DOMException', new DOMException(SECRET, 'OperationError')],
    ['plain object shaped like ErrorInfo', { code: 'wrong_passphrase', message: SECRET }],
    ['string', SECRET],
    ['number', 42],
    ['null', null],
    ['undefined', undefined],
  ];

  it('anything that is not a ClawkeepError becomes the fallback code with "Unexpected failure."', () => {
    for (const [what, err] of foreign) {
      expect(toErrorInfo(err), what).toStrictEqual({ code: 'internal', message: UNEXPECTED_MESSAGE });
      expect(toErrorInfo(err, 'kdf_failed'), what).toStrictEqual({ code: 'kdf_failed', message: UNEXPECTED_MESSAGE });
      expect(toErrorInfo(err, { code: 'sync_refused', message: 'The hub could not be reached.' }), what).toStrictEqual({
        code: 'sync_refused',
        message: 'The hub could not be reached.',
      });
      expect(errorMessage(err), what).toBe(UNEXPECTED_MESSAGE);
      expect(errorCode(err), what).toBe('internal');
      expect(JSON.stringify(toErrorInfo(err)), what).not.toContain(SECRET);
    }
  });

  it('a ClawkeepError keeps its words whatever fallback the boundary names', () => {
    const err = new SyncError('sync_rollback', 'The hub served an older vault.');
    expect(toErrorInfo(err, 'storage_failed')).toStrictEqual({
      code: 'sync_rollback',
      message: 'The hub served an older vault.',
    });
    expect(toErrorInfo(err, { code: 'internal', message: 'x' })).toStrictEqual({
      code: 'sync_rollback',
      message: 'The hub served an older vault.',
    });
  });

  it('reviveError(toErrorInfo(err)) across a JSON channel keeps code and message for every family', () => {
    for (const { family, err } of families()) {
      const wire: unknown = JSON.parse(JSON.stringify({ ok: false, error: toErrorInfo(err) }));
      const revived = reviveError((wire as { error: unknown }).error);
      expect(revived, family).toBeInstanceOf(ClawkeepError);
      expect(revived.code, family).toBe(err.code);
      expect(revived.message, family).toBe(err.message);
      // And again: a revived error crosses the next boundary unchanged.
      expect(toErrorInfo(revived), family).toStrictEqual(toErrorInfo(err));
    }
  });

  it('the codes the unlock screen branches on by class come back as their classes', () => {
    expect(reviveError(toErrorInfo(new WrongPassphraseError()))).toBeInstanceOf(WrongPassphraseError);
    expect(reviveError(toErrorInfo(new VaultLockedError()))).toBeInstanceOf(VaultLockedError);
  });

  it('a value that is not {code, message} revives as rpc_failed, never as its own text', () => {
    const odd: unknown[] = [
      null,
      undefined,
      'x',
      7,
      [],
      {},
      { code: 'x' },
      { message: 'm' },
      { code: 5, message: 'm' },
      { code: 'x', message: 5 },
      { code: `Call +1 555 0100 ${SECRET}`, message: 'm' },
      { code: '', message: 'm' },
      { code: 'a'.repeat(65), message: 'm' },
    ];
    for (const value of odd) {
      const revived = reviveError(value);
      expect(revived.code, JSON.stringify(value)).toBe('rpc_failed');
      expect(revived.message).toBe('The request failed for an unknown reason.');
    }
  });
});

// ---- Compile-time checks (tsc --noEmit runs over test/, so a failure here fails the typecheck) ----------------

/** Every family's own code union, the way each file declares it. */
type FamilyCodes =
  | CoreErrorCode
  | ProtocolErrorCode
  | ApiErrorCode
  | SyncErrorCode
  | HubClientOwnCode
  | AgentLocalErrorCode
  | ExecRequestErrorCode
  | AttestErrorCode
  | SealErrorCode
  | HttpCallErrorCode
  | ImportErrorCode
  | DeployErrorCode
  | OpenClawOwnCode
  | OpenClawGatewayCode
  | PhalaApiErrorCode
  | AppComposeErrorCode
  | ManifestErrorCode
  | StoreErrorCode
  | ManifestFetchErrorCode
  | ListenErrorCode
  | CliErrorCode
  | SimErrorCode
  | RelayedErrorCode;

describe('the root code union (type level)', () => {
  it('is exactly the union of every family code union: no family code is missing, no stray code is listed', () => {
    expectTypeOf<ClawkeepErrorCode>().toEqualTypeOf<FamilyCodes>();
  });

  it("each family's code property is within the root union", () => {
    expectTypeOf<ProtocolError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<SyncError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<HubClientError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<AgentError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<ExecRequestError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<AttestError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<SealError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<HttpCallError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<ImportError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<DeployError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<OpenClawError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<PhalaApiError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<AppComposeError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<ManifestError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<HubError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<StoreError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<ManifestFetchError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<UsageError['code']>().toExtend<ClawkeepErrorCode>();
    expectTypeOf<ListenError['code']>().toEqualTypeOf<ListenErrorCode>();
    expectTypeOf<SimError['code']>().toExtend<ClawkeepErrorCode>();
    // Families narrow the root: their code is not the whole union.
    expectTypeOf<SealError['code']>().toEqualTypeOf<SealErrorCode>();
    expectTypeOf<HubError['code']>().toEqualTypeOf<ApiErrorCode>();
  });

  it('a code written in source must be declared: free strings are refused, relayed ones must say so', () => {
    // @ts-expect-error 'made_up_code' is in no family union.
    new ClawkeepError('made_up_code', 'm');
    // @ts-expect-error a family refuses another family's code.
    new SealError('vault_locked', 'm');
    const fromPeer: string = 'support_required';
    // @ts-expect-error an unchecked string is not a code...
    new HubClientError(fromPeer, 'm');
    // ...until it is marked as relayed (a peer chose it).
    expect(new HubClientError(relayedCode(fromPeer), 'm').code).toBe('support_required');
    expectTypeOf(toErrorInfo(null)).toEqualTypeOf<ErrorInfo>();
  });
});

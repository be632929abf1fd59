// @vitest-environment node
/**
 * Property tests for the persisted, versioned agent files: the agent state (lib/agent/state.ts, `version: 1`), the
 * JSON document an agent keeps between runs, and the OpenClaw grants file (openclaw-secret.ts, `version: 1`). For generated valid states (every optional part present or absent, bounded lists):
 * parse(JSON(x)) = x and JSON(parse(JSON(x))) = JSON(x). For any JSON and for valid states with one field bent: an
 * AgentError `state_invalid` only, naming the field and never a value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { AgentError } from '../../../lib/agent/errors';
import { parseGrantsDoc, refKey } from '../../../lib/agent/openclaw-secret';
import { parseAgentState, stateKeys, type AgentState } from '../../../lib/agent/state';
import {
  bentObject,
  bytes,
  check,
  ed25519PublicKeyText,
  epoch,
  id,
  kind,
  nonce16,
  origin,
  scopeList,
  sha256Hex,
  typedOnly,
  unicodeString,
} from './arbitraries';

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const request = fc.record({
  intent_id: id,
  kind,
  payload_hash: sha256Hex,
  agent_nonce: nonce16,
  requested_at: epoch,
  expires_at: epoch,
});
const executed = fc.record({ intent_id: id, agent_nonce: nonce16, expires_at: epoch });

/** Every valid state: required fields, and each optional part present or absent (device_key and installation_id together). */
const state: fc.Arbitrary<AgentState> = fc
  .record({
    hub: origin,
    agent_id: id,
    name: opt(unicodeString({ maxLength: 40 })),
    signing_private: bytes(32).map(toBase64Url),
    box_private: bytes(32).map(toBase64Url),
    claim_code_hash: sha256Hex,
    pinned: opt(fc.record({ device_key: ed25519PublicKeyText, installation_id: id })),
    granted_scopes: opt(scopeList),
    approval_required: opt(fc.array(kind, { maxLength: 5 })),
    config_seen: opt(
      fc.record({ config_id: id, revision: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), time: epoch }),
    ),
    requests: opt(fc.array(request, { maxLength: 4 })),
    executed: opt(fc.array(executed, { maxLength: 4 })),
    hub_key: opt(ed25519PublicKeyText),
    removed_devices: opt(fc.array(fc.record({ device_key: ed25519PublicKeyText, time: epoch }), { maxLength: 3 })),
    revoked: opt(fc.record({ installation_id: id, time: epoch })),
  })
  .map(({ pinned, ...rest }) => {
    const s: Record<string, unknown> = { version: 1, ...rest, ...(pinned ?? {}) };
    for (const k of Object.keys(s)) if (s[k] === undefined) delete s[k];
    return s as unknown as AgentState;
  });

const asStored = (s: unknown) => JSON.parse(JSON.stringify(s)) as unknown;

describe('agent state v1 (lib/agent/state.ts)', () => {
  it('parse(JSON(x)) = x and JSON(parse(JSON(x))) = JSON(x)', () => {
    check(
      state,
      (s) => {
        const parsed = parseAgentState(asStored(s));
        expect(parsed).toEqual(s);
        expect(JSON.stringify(parseAgentState(asStored(parsed)))).toBe(JSON.stringify(parseAgentState(asStored(s))));
        const keys = stateKeys(parsed);
        expect(toBase64Url(keys.signingPrivate)).toBe(s.signing_private);
        expect(toBase64Url(keys.boxPrivate)).toBe(s.box_private);
      },
      150,
    );
  });

  it('unknown top-level fields are ignored, so a newer state still loads', () => {
    check(
      fc.tuple(
        state,
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 10 }).map((k) => `x_${k}`),
          fc.jsonValue(),
          { maxKeys: 3 },
        ),
      ),
      ([s, extra]) => {
        expect(parseAgentState({ ...(asStored(s) as object), ...extra })).toEqual(s);
      },
      100,
    );
  });

  it('any JSON, and a valid state with one field bent: state_invalid only', () => {
    check(
      fc.oneof(fc.jsonValue(), bentObject(state as unknown as fc.Arbitrary<Record<string, unknown>>)),
      (v) => {
        const code = typedOnly(() => parseAgentState(v), AgentError, ['state_invalid']);
        if (code === 'ok') expect(parseAgentState(asStored(parseAgentState(v)))).toEqual(parseAgentState(v));
      },
      400,
    );
  });
});

describe('OpenClaw grants file v1 (lib/agent/openclaw-secret.ts)', () => {
  const ref = fc.record({
    gateway: fc.string({ maxLength: 12 }),
    provider: fc.string({ maxLength: 12 }),
    id: fc.string({ minLength: 1, maxLength: 20 }),
  });
  const record = fc.record(
    { pending_intent_id: id, last_approved_at: epoch, installation_id: id },
    { requiredKeys: [] },
  );
  const doc = fc
    .array(fc.tuple(ref, record), { maxLength: 5 })
    .map((rs) => ({ version: 1 as const, refs: Object.fromEntries(rs.map(([r, rec]) => [refKey(r), rec])) }));

  it('parse(JSON(x)) = x for every grants doc; parsing is idempotent and never throws on any JSON', () => {
    check(doc, (d) => expect(parseGrantsDoc(asStored(d))).toEqual(d), 200);
    check(
      fc.oneof(fc.jsonValue(), bentObject(doc as unknown as fc.Arbitrary<Record<string, unknown>>)),
      (v) => {
        const once = parseGrantsDoc(v);
        expect(once.version).toBe(1);
        expect(parseGrantsDoc(asStored(once))).toEqual(once);
      },
      300,
    );
  });
});

/**
 * Regenerates the hub protocol known-answer files (test/vectors/protocol-*.json). Run by hand
 * (`npx tsx test/vectors/generate-protocol.ts`) only when a protocol format deliberately changes; tests never
 * run it. Inputs are fixed (keys are fixed seeds, nonces and clocks are fixed; Ed25519 is deterministic), so
 * the output is the same on every run. The RFC 8785 cases carry the RFC's own expected text, checked here
 * before anything is written; the unit tests re-derive the rest independently with node:crypto.
 */
import { writeFileSync } from 'node:fs';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { toHex, utf8Encode } from '../../lib/bytes';
import { approvalBytes, claimBytes, signApproval, signClaim, type ApprovalStatement, type ClaimStatement } from '../../lib/protocol/approval';
import { canonicalize } from '../../lib/protocol/canonical';
import { claimCodeHash } from '../../lib/protocol/claim-code';
import { defaultApprovalRequired } from '../../lib/protocol/intent-kinds';
import { intentHashInput, payloadHash } from '../../lib/protocol/intent-hash';
import { encodePublicKey, fingerprint } from '../../lib/protocol/keys';
import { requestSigningBytes, signRequest, bodySha256, type Role } from '../../lib/protocol/request-signing';
import { sealSecret } from '../../lib/protocol/sealed-secret';
import { encodeConfigPayload } from '../../lib/protocol/config-payload';
import { buildConfigDelivery, configStatementBytes } from '../../lib/protocol/sealed-config';
import { buildResponseDelivery, responseStatementBytes, type HttpOutcome } from '../../lib/protocol/sealed-response';
import { buildPairingApproval, deviceAddBytes, pairedKeyAssociatedData, sealPairedKey } from '../../lib/protocol/device-pairing';
import { deviceKeyId } from '../../lib/protocol/keys';
import { keyBindingBytes, signKeyBinding, type KeyBindingStatement } from '../../lib/protocol/key-binding';
import { toBase64Url } from '../../lib/protocol/base64url';
import {
  deviceRemovalBytes, installationRevocationBytes, type DeviceRemovalStatement, type InstallationRevocationStatement,
} from '../../lib/protocol/revocation';

const dir = new URL('.', import.meta.url);
const write = (name: string, data: unknown) => writeFileSync(new URL(name, dir), JSON.stringify(data, null, 2) + '\n');
const seq = (n: number, start: number) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

// ---- canonical JSON -----------------------------------------------------------------------------------------
// `json` is source text (its key order and escapes are the point); `canonical` is the expected output.
const rfcCases = [
  {
    name: 'RFC 8785 §3.2.3 key sorting by UTF-16 code units',
    json: '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    expected: '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  },
  {
    name: 'RFC 8785 §3.2.2.2 string escaping',
    json: '["\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/"]',
    expected: '["\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"]',
  },
];
const ownCases = [
  { name: 'nested objects sorted at every level, no whitespace', json: '{ "z": {"b": 2, "a": [3, {"d": null, "c": true}]}, "a": false }' },
  { name: 'surrogate pair key sorts by code unit (U+1F600 before U+FB33, after U+E000)', json: '{"\\ufb33":1,"\\ud83d\\ude00":2,"\\ue000":3}' },
  { name: 'control characters: short escapes and \\u00XX lowercase', json: '["\\b\\f\\n\\r\\t\\u0000\\u001F\\u007f"]' },
  { name: 'safe integer extremes and zero', json: '[9007199254740991,-9007199254740991,0,1,-1]' },
  { name: 'empty containers and unicode text', json: '{"":[],"ünïcödé":{},"日本":"語"}' },
  { name: 'integral numbers written with a fraction or exponent canonicalize to plain integers', json: '[1.0,1e3,-5E0]' },
];
for (const c of rfcCases) {
  const got = canonicalize(JSON.parse(c.json));
  if (got !== c.expected) throw new Error(`canonical mismatch for ${c.name}: ${got}`);
}
write('protocol-canonical.json', {
  description: 'Canonical JSON (RFC 8785 subset, integers only). json = source text; canonical = expected text; bytes = its UTF-8 in hex. rejects = canonicalize must throw protocol_invalid.',
  vectors: [
    ...rfcCases.map((c) => ({ name: c.name, source: 'RFC 8785', json: c.json, canonical: c.expected, bytes: toHex(utf8Encode(c.expected)) })),
    ...ownCases.map((c) => {
      const canonical = canonicalize(JSON.parse(c.json));
      return { name: c.name, json: c.json, canonical, bytes: toHex(utf8Encode(canonical)) };
    }),
  ],
  rejectedJson: [
    '[1.5]', '[-0]', '[1e300]', '[9007199254740992]', '{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":{"o":{"p":{"q":{"r":{"s":{"t":{"u":{"v":{"w":{"x":{"y":{"z":{"A":{"B":{"C":{"D":{"E":{"F":{"G":1}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}', '["\\ud800"]', '{"\\udc00":1}',
  ],
  notCanonicalText: ['{"b":1,"a":2}', '{"a": 1}', '[1.0]', '["\\u0041"]', '["\\/"]', '{"a":1,"a":1}', ' []', '[1e2]', '["\\u00e9"]'],
});

// ---- intent payload hashes ----------------------------------------------------------------------------------
const intents = [
  { kind: 'secret.request', payload: { item: 'GitHub token', reason: 'Open a pull request on clawkeep/clawkeep' } },
  { kind: 'action.approve', payload: { summary: 'Merge PR #42 into main', risk: 'medium', details: { repo: 'clawkeep/clawkeep', pr: 42, checks: ['ci', 'lint'] } } },
  { kind: 'payment.send', payload: { summary: 'Pay the hosting invoice', amount_minor: 1999, currency: 'EUR', payee: 'Hetzner Online GmbH' } },
  { kind: 'shell.exec', payload: { summary: 'Clean build output', command: 'rm -rf .output && npm run build', cwd: '/srv/app' } },
  { kind: 'message.send', payload: { summary: 'Tell Ana the deploy is done', channel: 'signal', to: '+4915112345678', body: 'Deploy finished ✅\nAll checks green.' } },
];
write('protocol-intent-hash.json', {
  description: 'payload_hash = hex(SHA-256(utf8("clawkeep/v1/intent\\0") || canonicalBytes({kind, payload}))). input = the hashed bytes in hex.',
  domain: 'clawkeep/v1/intent\u0000',
  vectors: intents.map((c) => ({ ...c, canonical: canonicalize({ kind: c.kind, payload: c.payload }), input: toHex(intentHashInput(c.kind, c.payload)), payload_hash: payloadHash(c.kind, c.payload) })),
});

// ---- keys ---------------------------------------------------------------------------------------------------
const deviceSeed = seq(32, 0x01);
const agentSeed = seq(32, 0x41);
const agentBoxPrivate = seq(32, 0x81);
const devicePublic = ed25519.getPublicKey(deviceSeed);
const agentPublic = ed25519.getPublicKey(agentSeed);
const agentBoxPublic = x25519.getPublicKey(agentBoxPrivate);
const hub = 'https://hub.clawkeep.example';
const keys = {
  device: { seed: toHex(deviceSeed), public: encodePublicKey(devicePublic), fingerprint: fingerprint(devicePublic) },
  agent: { seed: toHex(agentSeed), public: encodePublicKey(agentPublic), fingerprint: fingerprint(agentPublic) },
  agentBox: { private: toHex(agentBoxPrivate), public: encodePublicKey(agentBoxPublic), fingerprint: fingerprint(agentBoxPublic) },
};

// ---- approval and claim statements --------------------------------------------------------------------------
const intentId = 'in_7Hq2xK9dLmP4vR8s';
const installationId = 'inst_Qm3vT8wZ1aB5cD7e';
const agentId = 'ag_N4kP7rS2uW6yA9bC';
const approvals: ApprovalStatement[] = [
  { hub, intent_id: intentId, payload_hash: payloadHash(intents[0]!.kind, intents[0]!.payload), decision: 'approve', installation_id: installationId, agent_nonce: 'AAECAwQFBgcICQoLDA0ODw', time: 1795000000123 },
  { hub, intent_id: 'in_Z8y7X6w5V4u3T2s1', payload_hash: payloadHash(intents[3]!.kind, intents[3]!.payload), decision: 'deny', installation_id: installationId, agent_nonce: '8PHy8_T19vf4-fr7_P3-_w', time: 1795000060000 },
];
const claimCode = 'BCDF-GHJK';
const claims: ClaimStatement[] = [{
  hub, agent_id: agentId, agent_signing_key: keys.agent.public, agent_box_key: keys.agentBox.public, claim_code_hash: claimCodeHash(claimCode),
  granted_scopes: ['action:action.approve', 'secret:read:GitHub token'], policy: { approval_required: defaultApprovalRequired(), daily_limit: null },
  installation_id: installationId, device_key: keys.device.public, time: 1794999000000,
}, {
  // A policy the human picked: only payments (and, always, secrets) need a click; at most 50 requests a day.
  hub, agent_id: agentId, agent_signing_key: keys.agent.public, agent_box_key: keys.agentBox.public, claim_code_hash: claimCodeHash(claimCode),
  granted_scopes: ['action:action.approve', 'action:payment.send'], policy: { approval_required: ['payment.send', 'secret.request'], daily_limit: 50 },
  installation_id: 'inst_P2olicyD4ily5Lim', device_key: keys.device.public, time: 1794999500000,
}];
write('protocol-statements.json', {
  description: 'Ed25519 statements signed by the device key: approval = "CKAP"|0x02|canonical (v2: with the agent nonce; v1 is retired), claim = "CKCL"|0x01|canonical. Signatures are unpadded base64url.',
  keys,
  claimCode,
  approvals: approvals.map((s) => ({ statement: s, bytes: toHex(approvalBytes(s)), signature: signApproval(deviceSeed, s).signature })),
  claims: claims.map((s) => ({ statement: s, bytes: toHex(claimBytes(s)), signature: signClaim(deviceSeed, s).signature })),
});

// ---- signed requests ----------------------------------------------------------------------------------------
const requests: { role: Role; keyId: string; seed: Uint8Array; method: string; path: string; body: string; now: number; nonce: Uint8Array }[] = [
  { role: 'agent', keyId: agentId, seed: agentSeed, method: 'POST', path: '/v1/intents', body: JSON.stringify({ kind: intents[0]!.kind, payload: intents[0]!.payload, idempotency_key: 'req-0001' }), now: 1795000000999, nonce: seq(16, 0xc0) },
  { role: 'human', keyId: 'dev_H8j2K4m6N8p0Q2r4', seed: deviceSeed, method: 'get', path: '/v1/intents?status=pending', body: '', now: 1795000001000, nonce: seq(16, 0xd0) },
  { role: 'agent', keyId: agentId, seed: agentSeed, method: 'POST', path: `/v1/intents/${intentId}/execute`, body: '', now: 1795000002500, nonce: seq(16, 0xe0) },
];
write('protocol-request-signing.json', {
  description: 'Signed requests: "CKRQ"|0x01|canonicalBytes({role,key_id,method,path,body_sha256,timestamp,nonce,hub}), Ed25519. now is epoch ms (floored to seconds); body is UTF-8 text.',
  hub,
  vectors: requests.map((r) => {
    const headers = signRequest({ role: r.role, keyId: r.keyId, privateKey: r.seed, method: r.method, path: r.path, body: r.body, hub, now: r.now, nonce: r.nonce });
    const signed = requestSigningBytes({
      role: r.role, key_id: r.keyId, method: r.method.toUpperCase(), path: r.path, body_sha256: bodySha256(r.body),
      timestamp: Math.floor(r.now / 1000), nonce: headers['ck-nonce'], hub,
    });
    return { role: r.role, keyId: r.keyId, seed: toHex(r.seed), method: r.method, path: r.path, body: r.body, now: r.now, nonce: toHex(r.nonce), body_sha256: bodySha256(r.body), signedBytes: toHex(signed), headers };
  }),
});

// ---- sealed secrets -----------------------------------------------------------------------------------------
const sealCases = [
  { plaintext: 'ghp_exampleexampleexampleexample0000', ephemeralPrivate: seq(32, 0x11), nonce: seq(24, 0x31), context: { intent_id: intentId, payload_hash: approvals[0]!.payload_hash, agent_id: agentId } },
  { plaintext: '', ephemeralPrivate: seq(32, 0x51), nonce: seq(24, 0x71), context: { intent_id: 'in_Empty0000000001', payload_hash: '00'.repeat(32), agent_id: agentId } },
];
write('protocol-sealed-secret.json', {
  description: 'CKSS v1: "CKSS"|0x01|ephemeralPublic[32]|nonce[24]|XChaCha20-Poly1305(ct+tag). key = HKDF-SHA256(X25519(eph, recipient), salt = ephPub||recipientPub, info = "clawkeep/v1/sealed-secret", 32). AD = "CKSS"|0x01|canonicalBytes({intent_id,payload_hash,agent_id}). plaintext is UTF-8 text.',
  recipient: { private: toHex(agentBoxPrivate), public: toHex(agentBoxPublic) },
  vectors: sealCases.map((c) => ({
    ephemeralPrivate: toHex(c.ephemeralPrivate), ephemeralPublic: toHex(x25519.getPublicKey(c.ephemeralPrivate)), nonce: toHex(c.nonce), context: c.context,
    plaintext: c.plaintext,
    bytes: toHex(sealSecret(agentBoxPublic, utf8Encode(c.plaintext), c.context, { ephemeralPrivate: c.ephemeralPrivate, nonce: c.nonce })),
  })),
});
// ---- sealed agent configs -----------------------------------------------------------------------------------
const configCases = [
  {
    config: { name: 'research-bot', model: 'anthropic/claude-sonnet-4', provider_keys: [{ key: 'ANTHROPIC_API_KEY', value: 'sk-ant-example-0001' }], env: [{ key: 'LOG_LEVEL', value: 'debug' }, { key: 'REGION', value: 'eu-west-1' }], json: '{"temperature":0.2}' },
    context: { hub, agent_id: agentId, installation_id: installationId, config_id: '3f2c9a1e-7b4d-4e8a-9c61-0d5b2e8f1a77', revision: 1 },
    ephemeralPrivate: seq(32, 0x15), nonce: seq(24, 0x35), time: 1795000100000,
  },
  {
    config: { name: 'research-bot', model: 'openai/gpt-5', provider_keys: [], env: [{ key: 'EMPTY', value: '' }], json: '' },
    context: { hub, agent_id: agentId, installation_id: installationId, config_id: '3f2c9a1e-7b4d-4e8a-9c61-0d5b2e8f1a77', revision: 7 },
    ephemeralPrivate: seq(32, 0x55), nonce: seq(24, 0x75), time: 1795000200000,
  },
];
const configVectors = [];
for (const c of configCases) {
  const plaintext = encodeConfigPayload(c.config);
  const delivery = await buildConfigDelivery({
    ...c.context, boxKey: agentBoxPublic, plaintext, sign: async (m) => ed25519.sign(m, deviceSeed), now: c.time,
    seal: { ephemeralPrivate: c.ephemeralPrivate, nonce: c.nonce },
  });
  configVectors.push({
    config: c.config, plaintext: toHex(plaintext), context: c.context, ephemeralPrivate: toHex(c.ephemeralPrivate), nonce: toHex(c.nonce), time: c.time,
    sealed: delivery.sealed_config, statement: delivery.config.statement, statementBytes: toHex(configStatementBytes(delivery.config.statement)), signature: delivery.config.signature,
  });
}
write('protocol-sealed-config.json', {
  description: 'CKSC v1 sealed agent configs and CKCD v1 delivery statements. sealed (base64url) = "CKSC"|0x01|ephemeralPublic[32]|nonce[24]|XChaCha20-Poly1305(ct+tag), key = HKDF-SHA256(X25519(eph, recipient), salt = ephPub||recipientPub, info = "clawkeep/v1/sealed-config", 32), AD = "CKSC"|0x01|canonicalBytes({agent_id,config_id,hub,installation_id,revision}); plaintext = canonicalBytes(config). The device signs "CKCD"|0x01|canonicalBytes({hub,agent_id,installation_id,config_id,revision,sealed_sha256,time}) with Ed25519 (seed = keys.device.seed in protocol-statements.json).',
  device: { seed: toHex(deviceSeed), public: toHex(devicePublic) },
  recipient: { private: toHex(agentBoxPrivate), public: toHex(agentBoxPublic) },
  vectors: configVectors,
});
// ---- sealed http.request outcomes (CKHR) and their delivery statements (CKRS) ----------------------------------
const responseCases: { outcome: HttpOutcome; context: { hub: string; agent_id: string; installation_id: string; intent_id: string; payload_hash: string }; ephemeralPrivate: Uint8Array; nonce: Uint8Array; time: number }[] = [
  {
    outcome: {
      outcome: 'response', status: 201,
      headers: [['content-type', 'application/json; charset=utf-8'], ['x-echo', 'Bearer [redacted by Clawkeep]']],
      body: Buffer.from('{"number":7,"you_sent":"Bearer [redacted by Clawkeep]"}').toString('base64'),
      redacted: ['verbatim'], withheld: false, redirect: null,
    },
    context: { hub, agent_id: agentId, installation_id: installationId, intent_id: intentId, payload_hash: approvals[0]!.payload_hash },
    ephemeralPrivate: seq(32, 0x17), nonce: seq(24, 0x37), time: 1795000300000,
  },
  {
    outcome: { outcome: 'response', status: 302, headers: [['location', 'https://login.example/next']], body: '', redacted: [], withheld: false, redirect: { location: 'https://login.example/next' } },
    context: { hub, agent_id: agentId, installation_id: installationId, intent_id: 'in_Redirect0000001', payload_hash: '11'.repeat(32) },
    ephemeralPrivate: seq(32, 0x57), nonce: seq(24, 0x77), time: 1795000400000,
  },
  {
    outcome: { outcome: 'refused', code: 'http_host_not_allowed', message: '“GitHub token” may not be sent to evil.example.' },
    context: { hub, agent_id: agentId, installation_id: installationId, intent_id: 'in_Refused00000001', payload_hash: '22'.repeat(32) },
    ephemeralPrivate: seq(32, 0x97), nonce: seq(24, 0xb7), time: 1795000500000,
  },
];
const responseVectors = [];
for (const c of responseCases) {
  const delivery = await buildResponseDelivery({
    ...c.context, boxKey: agentBoxPublic, outcome: c.outcome, sign: async (m) => ed25519.sign(m, deviceSeed), now: c.time,
    seal: { ephemeralPrivate: c.ephemeralPrivate, nonce: c.nonce },
  });
  responseVectors.push({
    outcome: c.outcome, plaintext: toHex(utf8Encode(canonicalize(c.outcome))), context: c.context, ephemeralPrivate: toHex(c.ephemeralPrivate), nonce: toHex(c.nonce), time: c.time,
    sealed: delivery.sealed_response, statement: delivery.response.statement, statementBytes: toHex(responseStatementBytes(delivery.response.statement)), signature: delivery.response.signature,
  });
}
write('protocol-sealed-response.json', {
  description: 'CKHR v1 sealed http.request outcomes and CKRS v1 delivery statements (issue 18). sealed (base64url) = "CKHR"|0x01|ephemeralPublic[32]|nonce[24]|XChaCha20-Poly1305(ct+tag), key = HKDF-SHA256(X25519(eph, recipient), salt = ephPub||recipientPub, info = "clawkeep/v1/http-response", 32), AD = "CKHR"|0x01|canonicalBytes({agent_id,hub,installation_id,intent_id,payload_hash}); plaintext = canonicalBytes(outcome). The device signs "CKRS"|0x01|canonicalBytes({hub,agent_id,installation_id,intent_id,payload_hash,sealed_sha256,time}) with Ed25519 (seed = keys.device.seed in protocol-statements.json).',
  device: { seed: toHex(deviceSeed), public: toHex(devicePublic) },
  recipient: { private: toHex(agentBoxPrivate), public: toHex(agentBoxPublic) },
  vectors: responseVectors,
});
// ---- device pairing (CKPV sealed vault key, CKDA device-add statement) ---------------------------------------
const newDeviceSeed = seq(32, 0x21);
const newDevicePublic = ed25519.getPublicKey(newDeviceSeed);
const newBoxPrivate = seq(32, 0xa1);
const newBoxPublic = x25519.getPublicKey(newBoxPrivate);
const pairingCases = [
  { pairingId: 'pair_Zr4tY7uI0oP3aS6d', vaultId: seq(16, 0xc0), vaultKey: seq(32, 0xd0), ephemeralPrivate: seq(32, 0x19), nonce: seq(24, 0x39), time: 1795000300000 },
  { pairingId: 'pair_Lk2jH5gF8dS1aQ4w', vaultId: seq(16, 0xe0), vaultKey: seq(32, 0xf0), ephemeralPrivate: seq(32, 0x59), nonce: seq(24, 0x79), time: 1795000400000 },
];
const pairingVectors = [];
for (const c of pairingCases) {
  const accountId = deviceKeyId(devicePublic);
  const approval = await buildPairingApproval({
    hub, accountId, pairingId: c.pairingId, deviceKey: newDevicePublic, boxKey: newBoxPublic,
    signer: { publicKey: devicePublic, sign: async (m) => ed25519.sign(m, deviceSeed) },
    seal: async (boxKey, context) => sealPairedKey(boxKey, { vaultId: c.vaultId, vaultKey: c.vaultKey }, context, { ephemeralPrivate: c.ephemeralPrivate, nonce: c.nonce }),
    now: c.time,
  });
  const s = approval.device.statement;
  pairingVectors.push({
    vaultId: toHex(c.vaultId), vaultKey: toHex(c.vaultKey), ephemeralPrivate: toHex(c.ephemeralPrivate), nonce: toHex(c.nonce), time: c.time,
    context: { hub: s.hub, account_id: s.account_id, pairing_id: s.pairing_id, device_key: s.device_key },
    associatedData: toHex(pairedKeyAssociatedData({ hub: s.hub, account_id: s.account_id, pairing_id: s.pairing_id, device_key: s.device_key })),
    sealed: approval.sealed_vault_key, statement: s, statementBytes: toHex(deviceAddBytes(s)), signature: approval.device.signature,
  });
}
write('protocol-device-pairing.json', {
  description: 'CKPV v1 sealed vault keys and CKDA v1 device-add statements. sealed (base64url) = "CKPV"|0x01|ephemeralPublic[32]|nonce[24]|XChaCha20-Poly1305(ct+tag), key = HKDF-SHA256(X25519(eph, box), salt = ephPub||boxPub, info = "clawkeep/v1/paired-vault-key", 32), AD = "CKPV"|0x01|canonicalBytes({account_id,device_key,hub,pairing_id}); plaintext = vaultId[16]||vaultKey[32]. The approving device signs "CKDA"|0x01|canonicalBytes({account_id,added_by,box_key,device_key,hub,pairing_id,sealed_sha256,time}) with Ed25519.',
  approver: { seed: toHex(deviceSeed), public: toHex(devicePublic), account_id: deviceKeyId(devicePublic) },
  newDevice: { seed: toHex(newDeviceSeed), public: toHex(newDevicePublic), boxPrivate: toHex(newBoxPrivate), boxPublic: toHex(newBoxPublic) },
  vectors: pairingVectors,
});
// ---- key bindings (CKKB: the signing key vouches for the box key) ---------------------------------------------
const bindings: KeyBindingStatement[] = [
  { hub, role: 'agent', signing_key: keys.agent.public, box_key: keys.agentBox.public, name: 'Release bot', time: 1794998000000 },
  { hub, role: 'device', signing_key: encodePublicKey(newDevicePublic), box_key: encodePublicKey(newBoxPublic), name: 'Laptop (Firefox)', time: 1795000200000 },
  { hub: 'http://127.0.0.1:8787', role: 'device', signing_key: encodePublicKey(newDevicePublic), box_key: encodePublicKey(newBoxPublic), name: null, time: 1795000250000 },
];
const bindingSeed = (s: KeyBindingStatement) => (s.role === 'agent' ? agentSeed : newDeviceSeed);
write('protocol-key-binding.json', {
  description: 'CKKB v1 key binding statements: "CKKB"|0x01|canonicalBytes({box_key,hub,name,role,signing_key,time}), signed with Ed25519 by signing_key itself (agent seed = keys.agent.seed in protocol-statements.json; device seed = newDevice.seed in protocol-device-pairing.json). Signatures are unpadded base64url.',
  seeds: { agent: toHex(agentSeed), device: toHex(newDeviceSeed) },
  vectors: bindings.map((s) => ({ statement: s, bytes: toHex(keyBindingBytes(s)), signature: signKeyBinding(bindingSeed(s), s).signature })),
});
// ---- device removal (CKDR) and installation revocation (CKIR), issue 13 item 9 ------------------------------
const removals: DeviceRemovalStatement[] = [
  { hub, account_id: deviceKeyId(devicePublic), device_key_id: deviceKeyId(newDevicePublic), device_key: encodePublicKey(newDevicePublic), removed_by: encodePublicKey(devicePublic), time: 1795000300000 },
  { hub: 'http://127.0.0.1:8787', account_id: deviceKeyId(devicePublic), device_key_id: deviceKeyId(newDevicePublic), device_key: encodePublicKey(newDevicePublic), removed_by: encodePublicKey(devicePublic), time: 1795000300001 },
];
const revocations: InstallationRevocationStatement[] = [
  { hub, installation_id: 'ins_7Qm2Xv9Lp4Rt8Kd1', agent_signing_key: keys.agent.public, revoked_by: encodePublicKey(devicePublic), time: 1795000400000 },
  { hub, installation_id: 'ins_3Hn5Wc7Yb1Zs6Jf0', agent_signing_key: keys.agent.public, revoked_by: encodePublicKey(newDevicePublic), time: 1795000400001 },
];
const revocationSeed = (key: string) => (key === encodePublicKey(devicePublic) ? deviceSeed : newDeviceSeed);
write('protocol-revocation.json', {
  description: 'CKDR v1 device removal statements ("CKDR"|0x01|canonicalBytes({account_id,device_key,device_key_id,hub,removed_by,time}), signed by removed_by) and CKIR v1 installation revocation statements ("CKIR"|0x01|canonicalBytes({agent_signing_key,hub,installation_id,revoked_by,time}), signed by revoked_by), Ed25519, signatures unpadded base64url. Seeds: device = keys.device.seed in protocol-statements.json, newDevice = newDevice.seed in protocol-device-pairing.json.',
  seeds: { device: toHex(deviceSeed), newDevice: toHex(newDeviceSeed) },
  removals: removals.map((s) => ({ statement: s, bytes: toHex(deviceRemovalBytes(s)), signature: toBase64Url(ed25519.sign(deviceRemovalBytes(s), revocationSeed(s.removed_by))) })),
  revocations: revocations.map((s) => ({ statement: s, bytes: toHex(installationRevocationBytes(s)), signature: toBase64Url(ed25519.sign(installationRevocationBytes(s), revocationSeed(s.revoked_by))) })),
});
console.log('wrote protocol-*.json');

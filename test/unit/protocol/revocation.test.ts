// @vitest-environment node
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8Encode } from '../../../lib/bytes';
import { fromBase64Url, toBase64Url } from '../../../lib/protocol/base64url';
import { canonicalize } from '../../../lib/protocol/canonical';
import { devicesVouchedBy, type DeviceListEntry, type DeviceAddStatement } from '../../../lib/protocol/device-pairing';
import { deviceAddBytes } from '../../../lib/protocol/device-pairing';
import { verifiedRemovals, verifyDeviceList } from '../../../lib/protocol/device-removals';
import { deviceKeyId, encodePublicKey } from '../../../lib/protocol/keys';
import {
  deviceRemovalBytes,
  installationRevocationBytes,
  makeDeviceRemoval,
  makeInstallationRevocation,
  verifyDeviceRemoval,
  verifyInstallationRevocation,
  type DeviceRemovalStatement,
  type InstallationRevocationStatement,
} from '../../../lib/protocol/revocation';
import vectors from '../../vectors/protocol-revocation.json';
import { bitFlips, expectCode } from './helpers';

const removals = vectors.removals as { statement: DeviceRemovalStatement; bytes: string; signature: string }[];
const revocations = vectors.revocations as {
  statement: InstallationRevocationStatement;
  bytes: string;
  signature: string;
}[];
const seeds = [fromHex(vectors.seeds.device), fromHex(vectors.seeds.newDevice)];
const seedFor = (key: string) => seeds.find((s) => toBase64Url(ed25519.getPublicKey(s)) === key)!;
const nodePublic = (key: string) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key }, format: 'jwk' });

describe('CKDR device removal and CKIR installation revocation statements', () => {
  it.each(removals)(
    'CKDR: fixed statement -> fixed bytes and signature ($statement.hub), checked by node:crypto',
    async (v) => {
      expect(toHex(deviceRemovalBytes(v.statement))).toBe(v.bytes);
      expect(toHex(concatBytes(utf8Encode('CKDR\x01'), utf8Encode(canonicalize(v.statement))))).toBe(v.bytes);
      expect(nodeVerify(null, fromHex(v.bytes), nodePublic(v.statement.removed_by), fromBase64Url(v.signature))).toBe(
        true,
      );
      const seed = seedFor(v.statement.removed_by);
      const made = await makeDeviceRemoval(
        {
          hub: v.statement.hub,
          accountId: v.statement.account_id,
          deviceKey: fromBase64Url(v.statement.device_key),
          removedBy: ed25519.getPublicKey(seed),
          time: v.statement.time,
        },
        (m) => ed25519.sign(m, seed),
      );
      expect(made).toEqual({ statement: v.statement, signature: v.signature });
      expect(verifyDeviceRemoval(made, { hub: v.statement.hub, device_key: v.statement.device_key })).toEqual(
        v.statement,
      );
    },
  );

  it.each(revocations)(
    'CKIR: fixed statement -> fixed bytes and signature ($statement.installation_id), checked by node:crypto',
    async (v) => {
      expect(toHex(installationRevocationBytes(v.statement))).toBe(v.bytes);
      expect(toHex(concatBytes(utf8Encode('CKIR\x01'), utf8Encode(canonicalize(v.statement))))).toBe(v.bytes);
      expect(nodeVerify(null, fromHex(v.bytes), nodePublic(v.statement.revoked_by), fromBase64Url(v.signature))).toBe(
        true,
      );
      const seed = seedFor(v.statement.revoked_by);
      const made = await makeInstallationRevocation(
        {
          hub: v.statement.hub,
          installationId: v.statement.installation_id,
          agentSigningKey: v.statement.agent_signing_key,
          revokedBy: ed25519.getPublicKey(seed),
          time: v.statement.time,
        },
        (m) => ed25519.sign(m, seed),
      );
      expect(made).toEqual({ statement: v.statement, signature: v.signature });
      expect(verifyInstallationRevocation(made, { installation_id: v.statement.installation_id })).toEqual(v.statement);
    },
  );

  it('refuses a statement for another hub, account, device, installation or agent key, and a missing one', async () => {
    const r = removals[0]!;
    const signedR = { statement: r.statement, signature: r.signature };
    const other = encodePublicKey(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    await expectCode(() => verifyDeviceRemoval(signedR, { hub: 'https://other.example' }), 'revocation_invalid');
    await expectCode(() => verifyDeviceRemoval(signedR, { account_id: 'acct_other' }), 'revocation_invalid');
    await expectCode(() => verifyDeviceRemoval(signedR, { device_key: other }), 'revocation_invalid');
    await expectCode(() => verifyDeviceRemoval(signedR, { removed_by: other }), 'revocation_invalid');
    await expectCode(() => verifyDeviceRemoval(null, {}), 'revocation_invalid');
    const i = revocations[0]!;
    const signedI = { statement: i.statement, signature: i.signature };
    await expectCode(
      () => verifyInstallationRevocation(signedI, { hub: 'https://other.example' }),
      'revocation_invalid',
    );
    await expectCode(
      () => verifyInstallationRevocation(signedI, { installation_id: 'ins_other' }),
      'revocation_invalid',
    );
    await expectCode(() => verifyInstallationRevocation(signedI, { agent_signing_key: other }), 'revocation_invalid');
    await expectCode(() => verifyInstallationRevocation(undefined, {}), 'revocation_invalid');
  });

  it('refuses a changed statement, a flipped signature, a signer swap, and one format passed as the other', async () => {
    const r = removals[0]!;
    const i = revocations[0]!;
    for (const flipped of bitFlips(fromBase64Url(r.signature), 16)) {
      await expectCode(
        () => verifyDeviceRemoval({ statement: r.statement, signature: toBase64Url(flipped) }, {}),
        'revocation_invalid',
      );
    }
    await expectCode(
      () =>
        verifyDeviceRemoval({ statement: { ...r.statement, time: r.statement.time + 1 }, signature: r.signature }, {}),
      'revocation_invalid',
    );
    // The hub names another signer: the signature no longer verifies under it.
    const other = encodePublicKey(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    await expectCode(
      () => verifyDeviceRemoval({ statement: { ...r.statement, removed_by: other }, signature: r.signature }, {}),
      'revocation_invalid',
    );
    await expectCode(
      () =>
        verifyInstallationRevocation({ statement: { ...i.statement, revoked_by: other }, signature: i.signature }, {}),
      'revocation_invalid',
    );
    // Same signer, other tag: a CKDR signature never verifies as a CKIR and the other way round.
    const seed = seedFor(i.statement.revoked_by);
    const crossed = toBase64Url(
      ed25519.sign(concatBytes(utf8Encode('CKDR\x01'), utf8Encode(canonicalize(i.statement))), seed),
    );
    await expectCode(
      () => verifyInstallationRevocation({ statement: i.statement, signature: crossed }, {}),
      'revocation_invalid',
    );
  });

  it('strict shape: exact fields, key id matching the key, well-formed keys, origin, id and time', async () => {
    const r = removals[0]!.statement;
    const i = revocations[0]!.statement;
    const seed = seedFor(r.removed_by);
    const sign = (bytes: Uint8Array) => toBase64Url(ed25519.sign(bytes, seed));
    const removal = (s: unknown) => ({
      statement: s,
      signature: sign(concatBytes(utf8Encode('CKDR\x01'), utf8Encode(canonicalize(s)))),
    });
    const revocation = (s: unknown) => ({
      statement: s,
      signature: sign(concatBytes(utf8Encode('CKIR\x01'), utf8Encode(canonicalize(s)))),
    });
    const { time: _t, ...noTime } = r;
    for (const bad of [
      { ...r, extra: 1 },
      noTime,
      { ...r, device_key_id: deviceKeyId(ed25519.getPublicKey(seed)) },
      { ...r, hub: 'ftp://x' },
      { ...r, hub: 'https://hub.example/path' },
      { ...r, account_id: 'has space' },
      { ...r, device_key: 'AAAA' },
      { ...r, time: -1 },
    ]) {
      await expectCode(() => verifyDeviceRemoval(removal(bad), {}), 'revocation_invalid');
    }
    for (const bad of [
      { ...i, extra: null },
      { ...i, installation_id: '' },
      { ...i, agent_signing_key: 'x' },
      { ...i, revoked_by: i.agent_signing_key },
      { ...i, time: '1' },
    ]) {
      await expectCode(() => verifyInstallationRevocation(revocation(bad), {}), 'revocation_invalid');
    }
    await expectCode(() => verifyDeviceRemoval({ statement: r }, {}), 'revocation_invalid');
    await expectCode(() => verifyDeviceRemoval({ statement: r, signature: 'short' }, {}), 'revocation_invalid');
  });
});

describe('which devices are removed: a CKDR a device of the verified chain signed, never the hub’s revoked_at', () => {
  const hub = 'https://hub.clawkeep.example';
  const key = () => {
    const seed = ed25519.utils.randomSecretKey();
    return { seed, pub: ed25519.getPublicKey(seed), b64: encodePublicKey(ed25519.getPublicKey(seed)) };
  };
  const root = key();
  const accountId = deviceKeyId(root.pub);
  const box = encodePublicKey(new Uint8Array(32).fill(9));
  const add = (by: ReturnType<typeof key>, d: ReturnType<typeof key>, account = accountId): DeviceListEntry => {
    const s: DeviceAddStatement = {
      hub,
      account_id: account,
      device_key: d.b64,
      box_key: box,
      added_by: by.b64,
      pairing_id: `pair_${deviceKeyId(d.pub)}`,
      sealed_sha256: '0'.repeat(64),
      time: 1,
    };
    return {
      device_key_id: deviceKeyId(d.pub),
      device_key: d.b64,
      name: null,
      added_at: 1,
      revoked_at: null,
      statement: { statement: s, signature: toBase64Url(ed25519.sign(deviceAddBytes(s), by.seed)) },
    };
  };
  const removal = async (
    by: ReturnType<typeof key>,
    d: ReturnType<typeof key>,
    over: Partial<{ hub: string; accountId: string }> = {},
  ) =>
    makeDeviceRemoval(
      { hub: over.hub ?? hub, accountId: over.accountId ?? accountId, deviceKey: d.pub, removedBy: by.pub, time: 5 },
      (m) => ed25519.sign(m, by.seed),
    );
  const rootEntry: DeviceListEntry = {
    device_key_id: accountId,
    device_key: root.b64,
    name: null,
    added_at: 0,
    revoked_at: null,
    statement: null,
  };

  it('a valid removal by a chain device counts; hub claims without one, and forged ones, do not', async () => {
    const a = key();
    const b = key();
    const stranger = key();
    const list = [rootEntry, add(root, a), add(a, b)];
    const removed = async (entryB: DeviceListEntry) =>
      verifyDeviceList([rootEntry, list[1]!, entryB], { hub, accountId });
    // The hub's word only: revoked_at, no statement.
    let v = await removed({ ...list[2]!, revoked_at: 9 });
    expect(v.removals.size).toBe(0);
    expect(v.view({ ...list[2]!, revoked_at: 9 })).toBe('unverified');
    // Forged: signed by a stranger, for another hub, for another account, a statement for another device.
    for (const forged of [
      await removal(stranger, b),
      await removal(root, b, { hub: 'https://other.example' }),
      await removal(root, b, { accountId: deviceKeyId(stranger.pub) }),
      await removal(root, a),
    ]) {
      const e = { ...list[2]!, revoked_at: 9, removal: forged };
      v = await removed(e);
      expect(v.removals.size).toBe(0);
      expect(v.view(e)).toBe('unverified');
    }
    // Genuine: signed by the root (or by b's own parent), whatever revoked_at says.
    for (const by of [root, a, b]) {
      const e = { ...list[2]!, revoked_at: null, removal: await removal(by, b) };
      v = await removed(e);
      expect([...v.removals.keys()]).toEqual([deviceKeyId(b.pub)]);
      expect(v.view(e)).toBe('removed');
    }
    // A removal signed by a device already known removed is ignored (a stolen removed device removing its remover).
    const e = { ...list[1]!, removal: await removal(b, a) };
    expect(
      verifiedRemovals(
        [rootEntry, e, list[2]!],
        { hub, accountId },
        new Map([
          [accountId, root.b64],
          [e.device_key_id, a.b64],
          [list[2]!.device_key_id, b.b64],
        ]),
        new Set([b.b64]),
      ).size,
    ).toBe(0);
  });

  it('devicesVouchedBy ignores revoked_at and leaves out the removed devices it is told of, and what only they vouched for', () => {
    const a = key();
    const b = key();
    const list = [rootEntry, add(root, a), add(a, b)];
    const keys = (got: Uint8Array[]) => got.map(encodePublicKey).sort();
    // The hub's revoked_at alone removes no one.
    expect(
      keys(
        devicesVouchedBy(
          root.pub,
          list.map((d) => ({ ...d, revoked_at: 7 })),
          hub,
        ),
      ),
    ).toEqual([root.b64, a.b64, b.b64].sort());
    expect(keys(devicesVouchedBy(root.pub, list, hub, new Set([a.b64])))).toEqual([root.b64]);
    expect(keys(devicesVouchedBy(root.pub, list, hub, new Set([b.b64])))).toEqual([root.b64, a.b64].sort());
    expect(devicesVouchedBy(root.pub, list, hub, new Set([root.b64]))).toEqual([]);
  });
});

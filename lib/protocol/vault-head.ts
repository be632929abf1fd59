import { fromBase64UrlFixed, toBase64Url } from './base64url';
import { exactFields, isEpoch, isSha256Hex } from './fields';
import { decodePublicKey, encodePublicKey, SIGNATURE_LENGTH } from './keys';
import { statementBytes, type SignedStatement, type StatementFormat } from './signed-statement';
import { SyncError } from './sync-errors';
import { verifyEd25519Sync } from './ed25519';

/**
 * A vault head, "CKHD" v1: the writing device's signature over (hub, account, counter, hash of the item set). The
 * counter goes up by one with every accepted push; a device remembers the newest head it saw and refuses a hub that
 * later serves an older counter (rollback) or another hash under the same counter (fork).
 */
export interface VaultHead {
  hub: string;
  account_id: string;
  counter: number;
  items_hash: string;
  /** The signing device's Ed25519 key, base64url. */
  device_key: string;
  time: number;
}

export const VAULT_HEAD_FORMAT: StatementFormat<VaultHead> = {
  tag: 'CKHD',
  version: 1,
  code: 'protocol_invalid',
  what: 'vault head',
  validate(value: unknown): VaultHead {
    const v = exactFields(value, ['account_id', 'counter', 'device_key', 'hub', 'items_hash', 'time'], 'head');
    if (typeof v.hub !== 'string' || typeof v.account_id !== 'string' || !v.account_id)
      throw new Error('hub / account');
    if (!Number.isSafeInteger(v.counter) || (v.counter as number) < 1) throw new Error('counter');
    if (!isSha256Hex(v.items_hash) || !isEpoch(v.time)) throw new Error('hash / time');
    decodePublicKey(v.device_key as string, 'ed25519');
    return {
      hub: v.hub,
      account_id: v.account_id,
      counter: v.counter as number,
      items_hash: v.items_hash,
      device_key: v.device_key as string,
      time: v.time,
    };
  },
};

export type SignedVaultHead = SignedStatement<VaultHead>;

/** Signs with a device signer (a non-extractable WebCrypto key in the extension). */
export async function signVaultHead(
  head: VaultHead,
  sign: (message: Uint8Array) => Promise<Uint8Array>,
): Promise<SignedVaultHead> {
  const clean = VAULT_HEAD_FORMAT.validate(head);
  return { statement: clean, signature: toBase64Url(await sign(statementBytes(VAULT_HEAD_FORMAT, clean))) };
}

/**
 * Checks shape, signature, and that the signer is one of `deviceKeys` (the account's devices as this side trusts
 * them) and the head is for `hub` / `accountId`.
 * @throws SyncError `sync_head_invalid`
 */
export function verifyVaultHead(
  signed: unknown,
  expect: { hub: string; accountId: string; deviceKeys: Uint8Array[] },
): VaultHead {
  let head: VaultHead;
  let signature: Uint8Array;
  try {
    const s = signed as SignedVaultHead;
    head = VAULT_HEAD_FORMAT.validate(s.statement);
    signature = fromBase64UrlFixed(s.signature, SIGNATURE_LENGTH, 'signature');
  } catch (err) {
    throw new SyncError('sync_head_invalid', 'The hub sent a malformed vault head.', { cause: err });
  }
  if (head.hub !== expect.hub || head.account_id !== expect.accountId) {
    throw new SyncError('sync_head_invalid', 'The vault head is for another hub or account.');
  }
  const key = decodePublicKey(head.device_key, 'ed25519');
  if (!expect.deviceKeys.some((k) => encodePublicKey(k) === head.device_key)) {
    throw new SyncError('sync_head_invalid', 'The vault head was not signed by a device of this account.');
  }
  // verifyEd25519Sync never throws: malformed input is false
  if (!verifyEd25519Sync(signature, statementBytes(VAULT_HEAD_FORMAT, head), key))
    throw new SyncError('sync_head_invalid', 'The vault head signature does not verify.');
  return head;
}

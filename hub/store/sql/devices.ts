import type { AccountDevice, AccountDeviceRepo, JsonValue, NewPairing, Pairing, PairingRepo } from '../port';
import { StoreError } from '../errors';
import { bytes, bytesOrNull, jsonText, jsonValue, type SqlExecutor } from './executor';

interface DeviceRow {
  device_key_id: string;
  account_id: string;
  public_key: Buffer;
  name: string | null;
  statement: string;
  added_at: number;
  revoked_at: number | null;
  removal_statement: string | null;
}

interface PairingRow {
  pairing_id: string;
  code_hash: Buffer;
  device_key: Buffer;
  box_key: Buffer;
  name: string | null;
  account_id: string | null;
  status: Pairing['status'];
  statement: string | null;
  sealed: Buffer | null;
  created_at: number;
  expires_at: number;
  key_binding: string | null;
}

const toDevice = (r: DeviceRow): AccountDevice => ({
  deviceKeyId: r.device_key_id,
  accountId: r.account_id,
  publicKey: bytes(r.public_key),
  name: r.name,
  statement: jsonValue(r.statement),
  addedAt: r.added_at,
  revokedAt: r.revoked_at,
  removalStatement: r.removal_statement === null ? null : jsonValue(r.removal_statement),
});

const toPairing = (r: PairingRow): Pairing => ({
  pairingId: r.pairing_id,
  codeHash: bytes(r.code_hash),
  deviceKey: bytes(r.device_key),
  boxKey: bytes(r.box_key),
  name: r.name,
  accountId: r.account_id,
  status: r.status,
  statement: r.statement === null ? null : jsonValue(r.statement),
  sealed: bytesOrNull(r.sealed),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  keyBinding: r.key_binding === null ? null : jsonValue(r.key_binding),
});

/** Devices added to accounts (migration 4 `account_devices`). */
export class SqlDevices implements AccountDeviceRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async create(d: Omit<AccountDevice, 'revokedAt' | 'removalStatement'>): Promise<AccountDevice> {
    await this.sql.run(
      'add device',
      'INSERT INTO account_devices (device_key_id, account_id, public_key, name, statement, added_at) VALUES (?, ?, ?, ?, ?, ?)',
      d.deviceKeyId,
      d.accountId,
      d.publicKey,
      d.name,
      jsonText(d.statement),
      d.addedAt,
    );
    return (await this.get(d.deviceKeyId))!;
  }

  async get(deviceKeyId: string): Promise<AccountDevice | null> {
    const r = await this.sql.get<DeviceRow>(
      'get device',
      'SELECT * FROM account_devices WHERE device_key_id = ?',
      deviceKeyId,
    );
    return r && toDevice(r);
  }

  async listByAccount(accountId: string): Promise<AccountDevice[]> {
    return (
      await this.sql.all<DeviceRow>(
        'list devices',
        'SELECT * FROM account_devices WHERE account_id = ? ORDER BY added_at, device_key_id',
        accountId,
      )
    ).map(toDevice);
  }

  async revoke(deviceKeyId: string, at: number, removalStatement: JsonValue): Promise<AccountDevice> {
    // `revoked_at IS NULL` keeps the first revocation time: a second DELETE is not_found, not a new time.
    const changed = await this.sql.run(
      'revoke device',
      'UPDATE account_devices SET revoked_at = ?, removal_statement = ? WHERE device_key_id = ? AND revoked_at IS NULL',
      at,
      jsonText(removalStatement),
      deviceKeyId,
    );
    if (changed !== 1) throw new StoreError('not_found', 'revoke device: no active device with that id');
    return (await this.get(deviceKeyId))!;
  }
}

/** Pairing requests of new devices (migration 4 `pairings`). */
export class SqlPairings implements PairingRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async create(p: NewPairing): Promise<Pairing> {
    await this.sql.run(
      'create pairing',
      `INSERT INTO pairings (pairing_id, code_hash, device_key, box_key, name, status, created_at, expires_at, key_binding)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
      p.pairingId,
      p.codeHash,
      p.deviceKey,
      p.boxKey,
      p.name,
      p.createdAt,
      p.expiresAt,
      p.keyBinding == null ? null : jsonText(p.keyBinding),
    );
    return (await this.get(p.pairingId))!;
  }

  async get(pairingId: string): Promise<Pairing | null> {
    const r = await this.sql.get<PairingRow>('get pairing', 'SELECT * FROM pairings WHERE pairing_id = ?', pairingId);
    return r && toPairing(r);
  }

  async findPendingByCode(codeHash: Uint8Array, now: number): Promise<Pairing | null> {
    const r = await this.sql.get<PairingRow>(
      'find pairing by code',
      "SELECT * FROM pairings WHERE code_hash = ? AND status = 'pending' AND expires_at > ?",
      codeHash,
      now,
    );
    return r && toPairing(r);
  }

  async approve(
    pairingId: string,
    a: { accountId: string; statement: Pairing['statement']; sealed: Uint8Array },
    at: number,
  ): Promise<Pairing> {
    const changed = await this.sql.run(
      'approve pairing',
      "UPDATE pairings SET status = 'approved', account_id = ?, statement = ?, sealed = ? WHERE pairing_id = ? AND status = 'pending' AND expires_at > ?",
      a.accountId,
      jsonText(a.statement),
      a.sealed,
      pairingId,
      at,
    );
    if (changed !== 1) {
      if (!(await this.get(pairingId))) throw new StoreError('not_found', 'approve pairing: no such pairing');
      throw new StoreError('invalid_state', 'approve pairing: not pending, or expired');
    }
    return (await this.get(pairingId))!;
  }

  async deny(pairingId: string, at: number): Promise<Pairing> {
    const changed = await this.sql.run(
      'deny pairing',
      "UPDATE pairings SET status = 'denied' WHERE pairing_id = ? AND status = 'pending' AND expires_at > ?",
      pairingId,
      at,
    );
    if (changed !== 1) {
      if (!(await this.get(pairingId))) throw new StoreError('not_found', 'deny pairing: no such pairing');
      throw new StoreError('invalid_state', 'deny pairing: not pending, or expired');
    }
    return (await this.get(pairingId))!;
  }

  async expireDue(now: number): Promise<number> {
    return await this.sql.run(
      'expire pairings',
      "UPDATE pairings SET status = 'expired' WHERE status = 'pending' AND expires_at <= ?",
      now,
    );
  }
}

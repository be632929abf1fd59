import type { Account, AccountRepo, EnrollmentCode, EnrollmentRepo } from '../port';
import { StoreError } from '../errors';
import { bytes, type SqlExecutor } from './executor';

interface AccountRow {
  account_id: string;
  device_public_key: Buffer;
  created_at: number;
}

interface EnrollmentRow {
  code_hash: Buffer;
  created_at: number;
  used_at: number | null;
  account_id: string | null;
}

const toAccount = (r: AccountRow): Account => ({
  accountId: r.account_id,
  devicePublicKey: bytes(r.device_public_key),
  createdAt: r.created_at,
});

const toEnrollment = (r: EnrollmentRow): EnrollmentCode => ({
  codeHash: bytes(r.code_hash),
  createdAt: r.created_at,
  usedAt: r.used_at,
  accountId: r.account_id,
});

/** Accounts (humans) in SQLite. */
export class SqlAccounts implements AccountRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async create(a: Account): Promise<Account> {
    await this.sql.run(
      'create account',
      'INSERT INTO accounts (account_id, device_public_key, created_at) VALUES (?, ?, ?)',
      a.accountId,
      a.devicePublicKey,
      a.createdAt,
    );
    return { ...a, devicePublicKey: bytes(a.devicePublicKey) };
  }

  async get(accountId: string): Promise<Account | null> {
    const r = await this.sql.get<AccountRow>('get account', 'SELECT * FROM accounts WHERE account_id = ?', accountId);
    return r && toAccount(r);
  }

  async getByDeviceKey(devicePublicKey: Uint8Array): Promise<Account | null> {
    const r = await this.sql.get<AccountRow>(
      'get account by device key',
      'SELECT * FROM accounts WHERE device_public_key = ?',
      devicePublicKey,
    );
    return r && toAccount(r);
  }

  async count(): Promise<number> {
    return (await this.sql.get<{ n: number }>('count accounts', 'SELECT count(*) AS n FROM accounts'))!.n;
  }
}

/** One-time enrollment codes (hash only) in SQLite. */
export class SqlEnrollment implements EnrollmentRepo {
  constructor(private readonly sql: SqlExecutor) {}

  async create(codeHash: Uint8Array, createdAt: number): Promise<void> {
    await this.sql.run(
      'create enrollment code',
      'INSERT INTO enrollment (code_hash, created_at) VALUES (?, ?)',
      codeHash,
      createdAt,
    );
  }

  async consume(codeHash: Uint8Array, accountId: string, usedAt: number): Promise<EnrollmentCode> {
    // The `used_at IS NULL` guard makes the code one-time even if two requests race: only one UPDATE changes a row.
    const changed = await this.sql.run(
      'use enrollment code',
      'UPDATE enrollment SET used_at = ?, account_id = ? WHERE code_hash = ? AND used_at IS NULL',
      usedAt,
      accountId,
      codeHash,
    );
    if (changed !== 1) throw new StoreError('not_found', 'use enrollment code: no unused code matches');
    const r = await this.sql.get<EnrollmentRow>(
      'get enrollment code',
      'SELECT * FROM enrollment WHERE code_hash = ?',
      codeHash,
    );
    return toEnrollment(r!);
  }

  async retireUnused(): Promise<number> {
    // Deleted, not marked: the schema ties `used_at` to the account that used the code, and a deleted hash can match
    // nothing. The audit log keeps the fact (enrollment_code.reissued).
    return await this.sql.run('retire unused enrollment codes', 'DELETE FROM enrollment WHERE used_at IS NULL');
  }

  async count(): Promise<number> {
    return (await this.sql.get<{ n: number }>('count enrollment codes', 'SELECT count(*) AS n FROM enrollment'))!.n;
  }
}

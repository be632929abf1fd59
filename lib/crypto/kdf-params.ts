import { KdfParamsError } from '../errors';

/**
 * KDF parameters as they travel in a vault header or a backup file.
 *
 * Registry of algorithm ids (never reuse a retired id): 1 = Argon2id (RFC 9106, v0x13), 2 = PBKDF2-HMAC-SHA256.
 */
export type KdfParams =
  | { algorithm: 'argon2id'; memoryKiB: number; iterations: number; parallelism: number }
  | { algorithm: 'pbkdf2-sha256'; iterations: number };

export const KDF_ALGORITHM_IDS = { argon2id: 1, 'pbkdf2-sha256': 2 } as const;

/** Bitwarden's Argon2id defaults: 64 MiB, 3 passes, 4 lanes. */
export const DEFAULT_ARGON2ID: KdfParams = {
  algorithm: 'argon2id',
  memoryKiB: 64 * 1024,
  iterations: 3,
  parallelism: 4,
};
/** OWASP / Bitwarden PBKDF2-SHA256 default. */
export const DEFAULT_PBKDF2: KdfParams = { algorithm: 'pbkdf2-sha256', iterations: 600_000 };
export const DEFAULT_KDF: KdfParams = DEFAULT_ARGON2ID;

/**
 * Floors stop a tampered header or backup from downgrading the KDF; ceilings stop it from making unlock
 * allocate or compute without bound. Ranges follow Bitwarden's accepted ranges.
 */
export const KDF_LIMITS = {
  argon2id: {
    memoryKiB: { min: 16 * 1024, max: 1024 * 1024 },
    iterations: { min: 2, max: 10 },
    parallelism: { min: 1, max: 16 },
  },
  'pbkdf2-sha256': { iterations: { min: 600_000, max: 10_000_000 } },
} as const;

export const SALT_LENGTH = 16;
export const KEY_LENGTH = 32;

function checkRange(label: string, value: number, range: { min: number; max: number }): void {
  if (!Number.isInteger(value)) throw new KdfParamsError(`${label} must be a whole number.`);
  if (value < range.min) {
    throw new KdfParamsError(
      `${label} ${value} is below the minimum ${range.min}: refusing a weakened key derivation.`,
    );
  }
  if (value > range.max) {
    throw new KdfParamsError(
      `${label} ${value} is above the maximum ${range.max}: refusing an unbounded key derivation.`,
    );
  }
}

/** Throws KdfParamsError unless the parameters are inside our floor and ceiling. */
export function assertKdfParams(params: KdfParams): KdfParams {
  if (params.algorithm === 'argon2id') {
    const limits = KDF_LIMITS.argon2id;
    checkRange('Argon2id memory (KiB)', params.memoryKiB, limits.memoryKiB);
    checkRange('Argon2id iterations', params.iterations, limits.iterations);
    checkRange('Argon2id parallelism', params.parallelism, limits.parallelism);
    return params;
  }
  if (params.algorithm === 'pbkdf2-sha256') {
    checkRange('PBKDF2 iterations', params.iterations, KDF_LIMITS['pbkdf2-sha256'].iterations);
    return params;
  }
  throw new KdfParamsError('Unknown key derivation algorithm.');
}

export function describeKdf(params: KdfParams): string {
  return params.algorithm === 'argon2id'
    ? `Argon2id, ${params.memoryKiB / 1024} MiB, ${params.iterations} passes, ${params.parallelism} lanes`
    : `PBKDF2-SHA256, ${params.iterations.toLocaleString('en-US')} iterations`;
}

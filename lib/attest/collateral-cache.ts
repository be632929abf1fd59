/**
 * IndexedDB cache of fetched DCAP collateral, and `getCollateral` = cache-or-fetch.
 *
 * The cache is only a speed-up, never a source of trust: the verifier checks every signature and date of
 * whatever we hand it. An entry is fresh until the EARLIEST nextUpdate of its four dated documents (TCB info,
 * QE identity, PCK CRL, root CA CRL), computed from the documents themselves on every read, not from a stored
 * timestamp. A stale entry is refetched; if that refetch fails we fail closed (the stale copy is not used).
 * An entry that does not parse, or does not belong to its key, is deleted and treated as a miss.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import { createStore, del, get, set, clear, type UseStore } from 'idb-keyval';
import { fromHex } from '../bytes';
import {
  CollateralFetchError,
  checkCollateralNeeds,
  fetchCollateral,
  type CollateralNeeds,
  type FetchCollateralOptions,
} from './collateral-fetch';
import { COLLATERAL_FIELDS } from './collateral';
import { AttestError } from './errors';
import { normalizePccsUrl } from './pccs-endpoints';
import type { Collateral } from './types';
import { COLLATERAL_CACHE_DB } from '../storage/persisted-keys';

// A database of its own (COLLATERAL_CACHE_DB in lib/storage/persisted-keys.ts): idb-keyval's createStore only
// creates its object store when it creates the database, so sharing a database name would leave a store missing.
const ENTRY_VERSION = 1;

const toMs = (now: Date | number): number => (typeof now === 'number' ? now : now.getTime());

function jsonNextUpdate(json: string, what: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new AttestError('collateral_malformed', `${what} is not valid JSON.`);
  }
  const next = (parsed as { nextUpdate?: unknown } | null)?.nextUpdate;
  const ms = typeof next === 'string' ? Date.parse(next) : NaN;
  if (!Number.isFinite(ms)) throw new AttestError('collateral_malformed', `${what} has no valid nextUpdate.`);
  return ms;
}

function crlNextUpdate(hex: string, what: string): number {
  let crl: CertificateList;
  try {
    crl = AsnConvert.parse(fromHex(hex), CertificateList);
  } catch {
    throw new AttestError('crl_malformed', `${what} is not a hex DER CRL.`);
  }
  // nextUpdate is optional in X.509 but Intel always sets it; without it we cannot know when to refetch.
  const next = crl.tbsCertList.nextUpdate?.getTime().getTime();
  if (next === undefined || !Number.isFinite(next))
    throw new AttestError('crl_malformed', `${what} has no nextUpdate.`);
  return next;
}

/**
 * The instant (ms since epoch) until which a collateral set is current: the earliest nextUpdate of its TCB info,
 * QE identity, PCK CRL and root CA CRL. Throws AttestError when a document does not parse.
 */
export function collateralFreshUntil(collateral: Collateral): number {
  return Math.min(
    jsonNextUpdate(collateral.tcb_info, 'TCB info'),
    jsonNextUpdate(collateral.qe_identity, 'QE identity'),
    crlNextUpdate(collateral.pck_crl, 'PCK CRL'),
    crlNextUpdate(collateral.root_ca_crl, 'Root CA CRL'),
  );
}

/** Cache key: canonical PCCS URL + TEE type + upper-case FMSPC + PCK CA. */
export function collateralCacheKey(pccsUrl: string, needs: CollateralNeeds): string {
  const n = checkCollateralNeeds(needs);
  return `${normalizePccsUrl(pccsUrl)}|${n.teeType}|${n.fmspc}|${n.pckCa}`;
}

interface StoredEntry {
  version: typeof ENTRY_VERSION;
  key: string;
  fetchedAt: number;
  collateral: Collateral;
}

export interface CachedCollateral {
  collateral: Collateral;
  /** Earliest nextUpdate of the set (ms since epoch). */
  freshUntil: number;
  fetchedAt: number;
}

/** Returns the entry's collateral if the stored value is well-formed and belongs to `key` and `needs`. */
function readEntry(value: unknown, key: string, needs: CollateralNeeds): CachedCollateral | null {
  if (typeof value !== 'object' || value === null) return null;
  const entry = value as Partial<StoredEntry>;
  if (entry.version !== ENTRY_VERSION || entry.key !== key || typeof entry.fetchedAt !== 'number') return null;
  const stored = entry.collateral as Record<string, unknown> | undefined;
  if (typeof stored !== 'object' || stored === null) return null;
  if (!COLLATERAL_FIELDS.every((f) => typeof stored[f] === 'string')) return null;
  const collateral = Object.fromEntries(COLLATERAL_FIELDS.map((f) => [f, stored[f]])) as unknown as Collateral;
  try {
    const tcb = JSON.parse(collateral.tcb_info) as { fmspc?: unknown };
    if (typeof tcb.fmspc !== 'string' || tcb.fmspc.toUpperCase() !== needs.fmspc) return null;
    return { collateral, freshUntil: collateralFreshUntil(collateral), fetchedAt: entry.fetchedAt };
  } catch {
    return null;
  }
}

export interface CollateralCacheOptions {
  /** Database name; tests pass their own. Default COLLATERAL_CACHE_DB.name. */
  dbName?: string;
}

export class CollateralCache {
  private readonly store: UseStore;

  constructor(options: CollateralCacheOptions = {}) {
    this.store = createStore(options.dbName ?? COLLATERAL_CACHE_DB.name, COLLATERAL_CACHE_DB.stores[0]!);
  }

  /**
   * The cached collateral for `needs` if present and well-formed (fresh or not: compare `freshUntil` with your
   * `now`). A malformed entry is deleted and reported as absent.
   */
  async read(pccsUrl: string, needs: CollateralNeeds): Promise<CachedCollateral | null> {
    const key = collateralCacheKey(pccsUrl, needs);
    const value: unknown = await get(key, this.store);
    if (value === undefined) return null;
    const entry = readEntry(value, key, checkCollateralNeeds(needs));
    if (entry === null) await del(key, this.store);
    return entry;
  }

  /** Stores collateral fetched at `now`, only if it is still current then (stale data is never cached). */
  async write(pccsUrl: string, needs: CollateralNeeds, collateral: Collateral, now: Date | number): Promise<boolean> {
    const key = collateralCacheKey(pccsUrl, needs);
    const at = toMs(now);
    let freshUntil: number;
    try {
      freshUntil = collateralFreshUntil(collateral);
    } catch {
      return false;
    }
    if (freshUntil <= at) return false;
    const collateralCopy = Object.fromEntries(
      COLLATERAL_FIELDS.map((f) => [f, collateral[f]]),
    ) as unknown as Collateral;
    const entry: StoredEntry = { version: ENTRY_VERSION, key, fetchedAt: at, collateral: collateralCopy };
    await set(key, entry, this.store);
    return true;
  }

  async delete(pccsUrl: string, needs: CollateralNeeds): Promise<void> {
    await del(collateralCacheKey(pccsUrl, needs), this.store);
  }

  async clear(): Promise<void> {
    await clear(this.store);
  }
}

let defaultCache: CollateralCache | null | undefined;

/** The shared cache, or null where there is no IndexedDB (Node CLI): then every call fetches. */
export function defaultCollateralCache(): CollateralCache | null {
  if (defaultCache === undefined) defaultCache = typeof indexedDB === 'undefined' ? null : new CollateralCache();
  return defaultCache;
}

export interface GetCollateralOptions extends Omit<FetchCollateralOptions, 'pccsUrl'> {
  pccsUrl: string;
  /** Decides freshness. Default: the current time. */
  now?: Date | number;
  /** Default: defaultCollateralCache(); null: no caching. */
  cache?: CollateralCache | null;
}

/**
 * Cache-or-fetch. Fresh cached collateral (`now < earliest nextUpdate`) is returned without network. Otherwise the
 * collateral is fetched, stored if current, and returned (even when the PCCS serves already-expired documents:
 * the verifier then rejects them with a dated error). If a stale entry exists and the refetch fails, the call
 * fails: an expired copy is never used as a fallback. IndexedDB errors degrade to fetching (the cache is optional).
 */
export async function getCollateral(needs: CollateralNeeds, options: GetCollateralOptions): Promise<Collateral> {
  const now = toMs(options.now ?? Date.now());
  const cache = options.cache === undefined ? defaultCollateralCache() : options.cache;
  const { now: _now, cache: _cache, ...fetchOptions } = options;

  let stale: CachedCollateral | null = null;
  if (cache) {
    const cached = await cache.read(options.pccsUrl, needs).catch((err: unknown) => {
      if (err instanceof AttestError) throw err; // bad needs / URL: the caller's error, not the cache's
      return null;
    });
    if (cached && now < cached.freshUntil) return cached.collateral;
    stale = cached;
  }

  let collateral: Collateral;
  try {
    collateral = await fetchCollateral(needs, fetchOptions);
  } catch (err) {
    if (stale && err instanceof AttestError) {
      // Fail closed, and say so: the expired copy is dropped rather than kept as a tempting fallback.
      await cache?.delete(options.pccsUrl, needs).catch(() => undefined);
      const message = `${err.message} The cached collateral expired at ${new Date(stale.freshUntil).toISOString()} and is not used.`;
      throw err instanceof CollateralFetchError
        ? new CollateralFetchError(err.document, err.status, message, { cause: err })
        : new AttestError(err.code, message, { cause: err });
    }
    throw err;
  }
  if (cache) {
    const stored = await cache.write(options.pccsUrl, needs, collateral, now).catch(() => false);
    if (!stored && stale) await cache.delete(options.pccsUrl, needs).catch(() => undefined);
  }
  return collateral;
}

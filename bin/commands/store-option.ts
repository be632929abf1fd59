import { StoreError } from '../../hub/store/errors';
import { parseStoreLocation, type StoreLocation } from '../../hub/store/open';
import { UsageError } from '../command';

/** `--store`, checked: a bad value is a usage error whose message never repeats the URL (it may hold a password). */
export function storeOption(value: string | undefined, dataDir: string): StoreLocation {
  try {
    return parseStoreLocation(value ?? '', dataDir);
  } catch (err) {
    throw new UsageError(err instanceof StoreError ? err.message : 'bad --store', { cause: err });
  }
}

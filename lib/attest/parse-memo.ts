import { equalBytes } from '../bytes';

/**
 * Memoizes a pure parser by its exact input bytes. ASN.1 parsing of Intel's CA certificates and CRLs is the
 * most expensive part of a warm verification and the inputs repeat on every call; signatures, dates and
 * revocation are still checked on every verification. Entries are compared byte for byte, never by hash alone.
 */
export class ParseMemo<T> {
  private readonly entries = new Map<string, Array<{ input: Uint8Array; value: T }>>();
  private size = 0;

  constructor(private readonly maxEntries = 128) {}

  get(input: Uint8Array, parse: (input: Uint8Array) => T): T {
    const key = `${input.length}:${fnv1a(input)}`;
    const bucket = this.entries.get(key);
    const hit = bucket?.find((e) => equalBytes(e.input, input));
    if (hit) return hit.value;
    // Parse our own copy: the result holds views into its input, and the caller's buffer may change later.
    const copy = input.slice();
    const value = parse(copy);
    if (this.size >= this.maxEntries) {
      this.entries.clear();
      this.size = 0;
    }
    const entry = { input: copy, value };
    if (bucket) bucket.push(entry);
    else this.entries.set(key, [entry]);
    this.size++;
    return value;
  }
}

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

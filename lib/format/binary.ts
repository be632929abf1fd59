import { concatBytes } from '../bytes';
import { FormatError } from '../errors';

/** Strict big-endian reader: every read is bounds-checked and `end()` insists on no trailing bytes. */
export class ByteReader {
  private offset = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  get position(): number {
    return this.offset;
  }

  take(length: number): Uint8Array {
    if (length < 0 || this.offset + length > this.bytes.length) throw new FormatError(`${this.what} is truncated.`);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  u8(): number {
    return this.take(1)[0]!;
  }

  u32(): number {
    const b = this.take(4);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }

  rest(): Uint8Array {
    return this.take(this.bytes.length - this.offset);
  }

  /** The bytes read so far (for binding a header prefix as associated data). */
  consumed(): Uint8Array {
    return this.bytes.subarray(0, this.offset);
  }

  end(): void {
    if (this.offset !== this.bytes.length) throw new FormatError(`${this.what} has unexpected trailing bytes.`);
  }
}

export class ByteWriter {
  private readonly parts: Uint8Array[] = [];

  bytes(b: Uint8Array): this {
    this.parts.push(b.slice());
    return this;
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError('u8 out of range');
    this.parts.push(Uint8Array.of(v));
    return this;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError('u32 out of range');
    this.parts.push(Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff));
    return this;
  }

  finish(): Uint8Array {
    return concatBytes(...this.parts);
  }
}

/** Reads and checks a 4-byte ASCII tag plus a version byte; the first thing every format does. */
export function readTagAndVersion(reader: ByteReader, tag: string, supportedVersion: number, what: string): void {
  const got = reader.take(4);
  for (let i = 0; i < 4; i++) {
    if (got[i] !== tag.charCodeAt(i)) throw new FormatError(`Not a ${what} (wrong format tag).`);
  }
  const version = reader.u8();
  if (version !== supportedVersion) {
    throw new FormatError(
      `${what} version ${version} is not supported by this version of Clawkeep.`,
      'format_unsupported_version',
    );
  }
}

export function writeTagAndVersion(writer: ByteWriter, tag: string, version: number): void {
  for (let i = 0; i < 4; i++) writer.u8(tag.charCodeAt(i));
  writer.u8(version);
}

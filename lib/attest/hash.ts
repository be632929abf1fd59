import { concatBytes, fromHex } from '../bytes';
import { AttestError, type AttestErrorCode } from './errors';

export async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const data = concatBytes(...parts);
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data.buffer as ArrayBuffer));
}

export function hexToBytesStrict(hex: string, length: number, what: string, code: AttestErrorCode): Uint8Array {
  if (typeof hex !== 'string' || hex.length !== length * 2 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new AttestError(code, `${what} must be ${length * 2} hex characters.`);
  }
  return fromHex(hex);
}

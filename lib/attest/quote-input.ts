import { fromHex, utf8Decode } from '../bytes';
import { AttestError } from './errors';
import { MAX_QUOTE_BYTES } from './quote';

/**
 * A quote as people hand it to us: raw bytes (a .bin file) or hex text (dstack's GetQuote `quote`, a pasted
 * string, possibly with a 0x prefix, whitespace or line breaks). Binary quotes start with version 3/4/5 as a
 * little-endian u16, i.e. a 0x03..0x05 byte then 0x00, which is never hex text.
 */
export function parseQuoteText(input: string | Uint8Array): Uint8Array {
  if (input instanceof Uint8Array) {
    if (input.length >= 2 && input[0]! >= 3 && input[0]! <= 5 && input[1] === 0) return input;
    if (input.length > MAX_QUOTE_BYTES * 2 + 1024)
      throw new AttestError('quote_malformed', 'The quote file is too large.');
    let text: string;
    try {
      text = utf8Decode(input);
    } catch {
      throw new AttestError('quote_malformed', 'The file is neither a binary quote nor hex text.');
    }
    return hexQuote(text);
  }
  if (typeof input !== 'string') throw new AttestError('quote_malformed', 'The quote must be bytes or hex text.');
  return hexQuote(input);
}

function hexQuote(text: string): Uint8Array {
  if (text.length > MAX_QUOTE_BYTES * 2 + 1024)
    throw new AttestError('quote_malformed', 'The quote text is too large.');
  const compact = text.replace(/\s+/g, '').replace(/^0x/i, '');
  if (compact.length === 0) throw new AttestError('quote_malformed', 'The quote is empty.');
  if (!/^[0-9a-fA-F]*$/.test(compact))
    throw new AttestError('quote_malformed', 'The quote is not hex: it contains characters other than 0-9 and a-f.');
  if (compact.length % 2 !== 0) throw new AttestError('quote_malformed', 'The quote hex has an odd number of digits.');
  return fromHex(compact);
}

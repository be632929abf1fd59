import { wipe } from './bytes';

/**
 * Reads at most `limit` bytes of a fetch response body; null when the body is (or declares itself) larger. Remote
 * services (PCCS, cloud APIs) are not trusted to send bounded answers. With `wipeChunks`, the chunks read are zeroed
 * once copied or refused (an answer that may hold a secret: lib/http-request/call.ts).
 */
export async function readBounded(
  response: Response,
  limit: number,
  { wipeChunks = false }: { wipeChunks?: boolean } = {},
): Promise<Uint8Array | null> {
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) {
    await response.body?.cancel().catch(() => undefined);
    return null;
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      if (wipeChunks) wipe(value, ...chunks);
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
    if (wipeChunks) wipe(chunk);
  }
  return out;
}

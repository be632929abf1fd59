import { sha256 } from '@noble/hashes/sha2.js';
import * as v from 'valibot';
import { toHex } from '../bytes';
import { fromBase64Url, toBase64Url } from './base64url';
import { IdSchema, Sha256HexSchema } from './wire';

/**
 * The locked watcher's wire format (issue 15; docs/protocol.md §Watching while locked). A device registers a random
 * watch token with a device-signed `PUT /v1/watch` that carries only the token's SHA-256; the token then rides in
 * `Authorization: Bearer …` on `GET /v1/watch` and `GET /v1/watch/events`, which answer the ids of the account's
 * pending intents and nothing else. No other route reads that header.
 */

/** Random bytes in a watch token: guessing one is out of reach, so the hub can look it up by hash. */
export const WATCH_TOKEN_BYTES = 32;
/** Most intent ids one watch answer carries (the hub cuts the list there; the count still says at least this many). */
export const WATCH_MAX_IDS = 500;
/** The scheme in the Authorization header. */
export const WATCH_AUTH_SCHEME = 'Bearer';

/** A fresh watch token (base64url of WATCH_TOKEN_BYTES random bytes). */
export function newWatchToken(): string {
  return toBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(WATCH_TOKEN_BYTES)));
}

/** Whether `token` has the shape of a watch token (base64url of exactly WATCH_TOKEN_BYTES bytes). */
export function isWatchToken(token: string): boolean {
  if (token.length !== Math.ceil((WATCH_TOKEN_BYTES * 4) / 3)) return false;
  try {
    return fromBase64Url(token, 'watch token').length === WATCH_TOKEN_BYTES;
  } catch {
    return false;
  }
}

/** The SHA-256 the hub stores and looks the token up by (hex). */
export function watchTokenHash(token: string): string {
  return toHex(sha256(new TextEncoder().encode(token)));
}

/** `PUT /v1/watch` body (signed by the device key): the token's hash, never the token. */
export const WatchRegisterRequestSchema = v.strictObject({ token_sha256: Sha256HexSchema });
export type WatchRegisterRequest = v.InferOutput<typeof WatchRegisterRequestSchema>;

export const WatchRegisterResponseSchema = v.object({ device_key_id: IdSchema, registered_at: v.number() });
export type WatchRegisterResponse = v.InferOutput<typeof WatchRegisterResponseSchema>;

/**
 * `GET /v1/watch` and each `event: watch` of `GET /v1/watch/events`: the account's pending intents as ids only
 * (oldest first, at most WATCH_MAX_IDS) and their number. No agent, kind, payload or hash.
 */
export const WatchSnapshotSchema = v.strictObject({
  pending: v.pipe(v.number(), v.integer(), v.minValue(0)),
  intent_ids: v.pipe(v.array(IdSchema), v.maxLength(WATCH_MAX_IDS)),
});
export type WatchSnapshot = v.InferOutput<typeof WatchSnapshotSchema>;

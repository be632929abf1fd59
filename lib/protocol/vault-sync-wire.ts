import * as v from 'valibot';

/**
 * The vault sync wire format (GET/POST /v1/vault). Envelopes are the CKIE bytes exactly as the device sealed them,
 * base64url; a null envelope is a deletion. Kinds and ids are the vault's own (ids are UUIDs made by the device).
 */
export const VAULT_ITEM_ID = /^[A-Za-z0-9-]{1,64}$/;
export const VAULT_KINDS = ['secret', 'agentConfig'] as const;
/** Per push: at most this many changes and this many envelope bytes (before base64). */
export const VAULT_PUSH_MAX_CHANGES = 500;
export const VAULT_PUSH_MAX_BYTES = 2 * 1024 * 1024;
export const VAULT_ENVELOPE_MAX_BYTES = 256 * 1024;

const ItemId = v.pipe(v.string(), v.regex(VAULT_ITEM_ID));
const Revision = v.pipe(v.number(), v.safeInteger(), v.minValue(1));
const Envelope = v.nullable(
  v.pipe(v.string(), v.maxLength(Math.ceil((VAULT_ENVELOPE_MAX_BYTES * 4) / 3) + 4), v.regex(/^[A-Za-z0-9_-]*$/)),
);
const SignedHead = v.object({ statement: v.unknown(), signature: v.string() });

export const VaultChangeSchema = v.strictObject({
  id: ItemId,
  kind: v.picklist(VAULT_KINDS),
  revision: Revision,
  envelope: Envelope,
  /** The hub's revision this change is based on; 0 = the item is new to the hub. */
  base_revision: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
});
export type VaultChange = v.InferOutput<typeof VaultChangeSchema>;

export const VaultPushSchema = v.strictObject({
  base_counter: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  changes: v.pipe(v.array(VaultChangeSchema), v.minLength(1), v.maxLength(VAULT_PUSH_MAX_CHANGES)),
  head: SignedHead,
});
export type VaultPush = v.InferOutput<typeof VaultPushSchema>;

export const VaultPushResponseSchema = v.object({ counter: v.pipe(v.number(), v.safeInteger(), v.minValue(1)) });

export const VaultItemSchema = v.object({
  id: ItemId,
  kind: v.picklist(VAULT_KINDS),
  revision: Revision,
  envelope: Envelope,
  seq: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
});
export type VaultItemWire = v.InferOutput<typeof VaultItemSchema>;

export const VaultPullSchema = v.object({
  /** The account's change counter (0 before the first push). */
  counter: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  head: v.nullable(SignedHead),
  /** Items changed after `since`, in seq order. */
  items: v.array(VaultItemSchema),
});
export type VaultPull = v.InferOutput<typeof VaultPullSchema>;

import { utf8Decode, utf8Encode, wipe } from '../bytes';
import type { KdfParams } from '../crypto/kdf-params';
import { FormatError } from '../errors';
import { decodeBackupFile, openBackupFile, sealBackupFile } from '../format/backup-file';
import { normalizeAgentConfigFields, normalizeSecretFields } from './item-codec';
import type { VaultItem } from './types';

/** Inner payload of a CKBK file: canonical JSON, versioned separately from the outer envelope. */
const PAYLOAD_FORMAT = 'clawkeep-backup-items';
const PAYLOAD_VERSION = 1;
const ITEM_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

export function exportItemsToBackup(
  items: VaultItem[],
  args: { kdf: KdfParams; salt: Uint8Array; kek: Uint8Array; exportedAt: number },
): Uint8Array {
  const payload = {
    format: PAYLOAD_FORMAT,
    version: PAYLOAD_VERSION,
    exportedAt: new Date(args.exportedAt).toISOString(),
    items: items.map(({ id, kind, revision, createdAt, updatedAt, fields }) => ({
      id,
      kind,
      revision,
      createdAt,
      updatedAt,
      fields,
    })),
  };
  const plaintext = utf8Encode(JSON.stringify(payload));
  try {
    return sealBackupFile({ kdf: args.kdf, salt: args.salt, kek: args.kek, plaintext });
  } finally {
    wipe(plaintext);
  }
}

function invalid(message: string): FormatError {
  return new FormatError(message, 'backup_invalid');
}

function timestamp(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalid('Backup item has a bad timestamp.');
  return value;
}

function readItem(raw: unknown): VaultItem {
  const r = raw as Record<string, unknown>;
  if (typeof r?.id !== 'string' || !ITEM_ID_PATTERN.test(r.id)) throw invalid('Backup item has a bad id.');
  if (typeof r.revision !== 'number' || !Number.isSafeInteger(r.revision) || r.revision < 1)
    throw invalid('Backup item has a bad revision.');
  const meta = { id: r.id, revision: r.revision, createdAt: timestamp(r.createdAt), updatedAt: timestamp(r.updatedAt) };
  if (r.kind === 'secret') return { ...meta, kind: 'secret', fields: normalizeSecretFields(r.fields) };
  if (r.kind === 'agentConfig') return { ...meta, kind: 'agentConfig', fields: normalizeAgentConfigFields(r.fields) };
  throw invalid('Backup item has an unknown kind.');
}

/**
 * Opens and validates a whole backup. Throws before returning anything if the passphrase is wrong, the file was
 * altered, or any item is malformed, so an import either takes every item or none.
 * @throws FormatError (backup_invalid / format_*), KdfParamsError, WrongPassphraseError
 */
export function readItemsFromBackup(file: Uint8Array, kek: Uint8Array): VaultItem[] {
  const plaintext = openBackupFile(decodeBackupFile(file), kek);
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(utf8Decode(plaintext)) as Record<string, unknown>;
  } catch {
    throw invalid('The backup could not be read.');
  } finally {
    wipe(plaintext);
  }
  if (payload?.format !== PAYLOAD_FORMAT || payload.version !== PAYLOAD_VERSION || !Array.isArray(payload.items)) {
    throw invalid('The backup content is not in a format this version of Clawkeep understands.');
  }
  const items = payload.items.map(readItem);
  if (new Set(items.map((i) => i.id)).size !== items.length) throw invalid('The backup lists an item twice.');
  return items;
}

/**
 * Bitwarden's unencrypted JSON export ("File format: .json" in Bitwarden's export dialog, or `bw export --format json`).
 * Shape, as Bitwarden's exporter writes it (bitwarden/clients, individual-vault-export.service.ts buildJsonExport and
 * libs/common/src/models/export/*.export.ts; provenance in test/fixtures/imports/README.md):
 *
 * ```
 *   { encrypted: false, folders: [{id, name}], collections?: [{id, name, …}],
 *     items: [{ id, folderId, collectionIds, type, name, notes, favorite, reprompt,
 *               fields: [{name, value, type: 0 text | 1 hidden | 2 boolean | 3 linked, linkedId}],
 *               login?: {uris: [{uri, match}], username, password, totp, fido2Credentials},
 *               secureNote?: {type: 0}, card?, identity?, sshKey?: {privateKey, publicKey, keyFingerprint},
 *               creationDate, revisionDate, deletedDate, passwordHistory }] }
 * ```
 *
 * CipherType: 1 login, 2 secure note, 3 card, 4 identity, 5 SSH key (6+ newer kinds).
 *
 * Mapping onto Clawkeep's one secret shape (name, value, notes, tags):
 * - login: the password is the value; username, URIs and text/boolean custom fields go into the notes (before the
 *   item's own notes); the TOTP seed and each hidden custom field are secrets of their own, so each becomes a
 *   separate item "<name> — TOTP" / "<name> — <field>" (an agent can then be given one without the other);
 * - secure note: the note text is the value (it is the secret the note keeps);
 * - SSH key: the private key is the value, the public key and fingerprint go into the notes;
 * - card, identity and newer kinds are skipped (listed in the preview);
 * - the folder name and collection names become tags (never a reserved `clawkeep:` one).
 */
import { candidate, finishPlan, importableTags, type ImportCandidate, type ImportPlan } from './candidate';
import { ImportError, positionAt, type ImportPosition } from './errors';

type Json = Record<string, unknown>;

const LOGIN = 1;
const SECURE_NOTE = 2;
const SSH_KEY = 5;
const SKIPPED_KINDS: Record<number, string> = {
  3: 'a payment card',
  4: 'an identity',
};
const FIELD_TEXT = 0;
const FIELD_HIDDEN = 1;
const FIELD_BOOLEAN = 2;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Where JSON.parse stopped, from its message (V8: "position N" / "line L column C"; Firefox: "line L column C"). */
function jsonErrorPosition(text: string, message: string): ImportPosition | null {
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const pos = /position (\d+)/.exec(message);
  if (pos) return positionAt(text, Number(pos[1]));
  if (/end of (JSON input|data)/i.test(message)) return positionAt(text, text.length);
  return null;
}

/** Parses JSON text, turning a syntax error into a positioned ImportError (the message never quotes the text). */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const position = jsonErrorPosition(text, err instanceof Error ? err.message : '');
    const end = position && positionAt(text, text.length);
    const truncated = !!end && position.line === end.line && position.column === end.column;
    const where = position ? ` at line ${position.line}, column ${position.column ?? 1}` : '';
    throw new ImportError(
      'import_malformed',
      truncated
        ? `The JSON file ends too early${where}: it looks truncated. Nothing was imported.`
        : `The JSON file is malformed${where}. Nothing was imported.`,
      position,
    );
  }
}

function fieldLines(fields: Json[]): string[] {
  return fields
    .filter((f) => f.type === FIELD_TEXT || f.type === FIELD_BOOLEAN)
    .map((f) => `${str(f.name) || 'Field'}: ${str(f.value)}`);
}

function joinNotes(lines: string[], notes: string): string {
  const head = lines.join('\n');
  if (!head) return notes;
  return notes ? `${head}\n\n${notes}` : head;
}

/** Turns a parsed Bitwarden export into an import plan (nothing written). */
export function planBitwardenImport(text: string): ImportPlan {
  const doc = parseJsonText(text);
  if (!isObject(doc) || !Array.isArray(doc.items))
    throw new ImportError('import_unsupported', 'This JSON file is not a Bitwarden export (it has no "items" list).');
  if (doc.encrypted === true)
    throw new ImportError(
      'import_unsupported',
      'This is an encrypted Bitwarden export. Export again choosing “.json” (not “.json (Encrypted)”), import it, then delete that file.',
    );
  const names = new Map<string, string>();
  for (const list of [doc.folders, doc.collections]) {
    if (!Array.isArray(list)) continue;
    for (const f of list) if (isObject(f) && typeof f.id === 'string') names.set(f.id, str(f.name));
  }
  const plan: ImportPlan = { format: 'bitwarden-json', candidates: [], skipped: [], notes: [] };
  const dropped = (tag: string) => plan.notes.push(`The tag “${tag}” is reserved for Clawkeep and was left out.`);

  doc.items.forEach((raw, index) => {
    if (!isObject(raw) || typeof raw.type !== 'number')
      throw new ImportError('import_malformed', `Item ${index + 1} of the Bitwarden export is not a valid item.`);
    const name = str(raw.name).trim() || `Bitwarden item ${index + 1}`;
    const source = `item ${index + 1} “${name}”`;
    if (raw.deletedDate) {
      plan.skipped.push({ source, reason: 'in Bitwarden’s trash' });
      return;
    }
    const groupIds = [str(raw.folderId), ...(Array.isArray(raw.collectionIds) ? raw.collectionIds.map(str) : [])];
    const tags = importableTags(
      groupIds.map((id) => names.get(id) ?? ''),
      dropped,
    );
    const fields = Array.isArray(raw.fields) ? raw.fields.filter(isObject) : [];
    const notes = str(raw.notes);
    const add = (c: ImportCandidate) => plan.candidates.push(c);
    const extras = (): void => {
      for (const f of fields) {
        const label = str(f.name) || 'field';
        if (f.type === FIELD_HIDDEN)
          add(
            candidate(`${source}, hidden field “${label}”`, 'the hidden field', {
              name: `${name} — ${label}`,
              value: str(f.value),
              notes: `Hidden field of the Bitwarden item “${name}”.`,
              tags,
            }),
          );
        else if (f.type !== FIELD_TEXT && f.type !== FIELD_BOOLEAN)
          plan.skipped.push({
            source: `${source}, field “${label}”`,
            reason: 'a linked field (it points at another field)',
          });
      }
    };

    if (raw.type === LOGIN) {
      const login = isObject(raw.login) ? raw.login : {};
      const uris = Array.isArray(login.uris)
        ? login.uris
            .filter(isObject)
            .map((u) => str(u.uri))
            .filter(Boolean)
        : [];
      const lines = [
        ...(str(login.username) ? [`Username: ${str(login.username)}`] : []),
        ...uris.map((u) => `URL: ${u}`),
        ...fieldLines(fields),
      ];
      add(
        candidate(source, 'the password', { name, value: str(login.password), notes: joinNotes(lines, notes), tags }),
      );
      if (str(login.totp))
        add(
          candidate(`${source}, TOTP`, 'the TOTP seed', {
            name: `${name} — TOTP`,
            value: str(login.totp),
            notes: `TOTP seed of the Bitwarden login “${name}”.`,
            tags,
          }),
        );
      extras();
    } else if (raw.type === SECURE_NOTE) {
      add(candidate(source, 'the note text', { name, value: notes, notes: joinNotes(fieldLines(fields), ''), tags }));
      extras();
    } else if (raw.type === SSH_KEY) {
      const key = isObject(raw.sshKey) ? raw.sshKey : {};
      const lines = [
        ...(str(key.publicKey) ? [`Public key: ${str(key.publicKey)}`] : []),
        ...(str(key.keyFingerprint) ? [`Fingerprint: ${str(key.keyFingerprint)}`] : []),
        ...fieldLines(fields),
      ];
      add(
        candidate(source, 'the private key', {
          name,
          value: str(key.privateKey),
          notes: joinNotes(lines, notes),
          tags,
        }),
      );
      extras();
    } else {
      plan.skipped.push({
        source,
        reason: `${SKIPPED_KINDS[raw.type] ?? 'a kind of item'} (Clawkeep imports logins, secure notes and SSH keys)`,
      });
    }
  });
  return finishPlan(plan);
}

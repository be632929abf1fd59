// @vitest-environment node
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALARMS, HUB_SETTINGS, INDEXED_DBS, PERSISTED_ITEMS } from '../../../lib/storage/persisted-keys';
import { isReservedTag, RESERVED_TAG_PREFIX, RESERVED_TAGS } from '../../../lib/storage/vault-tags';

/**
 * The release check for issue 14 step 4 (run by `npm test`, as every unit file): the registries in lib/storage are
 * the only place a persisted key, an alarm name, an IndexedDB name or a reserved `clawkeep:` vault tag is spelled.
 * A new key written straight to chrome.storage, or a new reserved tag, fails here until it is declared there.
 */

const ROOT = path.resolve(__dirname, '../../..');
const SHIPPED = ['lib', 'components', 'entrypoints', 'workers', 'web'];
const REGISTRY = new Set(['lib/storage/persisted-keys.ts', 'lib/storage/vault-tags.ts', 'lib/storage/stored-item.ts']);

/** `clawkeep.` names that are not storage: message channels and notification ids (nothing persisted). */
const NOT_STORAGE = new Set([
  'clawkeep.vault.rpc',
  'clawkeep.vault.event',
  'clawkeep.hub.rpc',
  'clawkeep.hub.event',
  'clawkeep.sync.rpc',
  'clawkeep.sync.event',
  'clawkeep.openclaw.rpc',
  'clawkeep.openclaw.event',
  'clawkeep.rpc.pending',
  'clawkeep.intent.',
]);

function sources(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const name of readdirSync(abs)) {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|tsx|mts)$/.test(name) && !/\.d\.ts$/.test(name)) out.push(rel.split(path.sep).join('/'));
  }
  return out;
}

/** Every shipped source file except the registries, with its text and its comment-free code. */
const FILES = SHIPPED.flatMap(sources)
  .filter((f) => !REGISTRY.has(f))
  .map((file) => {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    // Comments may name keys and tags (that is documentation); code may not.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    return { file, code };
  });

/** Quoted string literals ('…', "…" or `…` without interpolation) in a file's code. */
const literals = (code: string): string[] => [...code.matchAll(/(['"`])((?:(?!\1)[^\\\n]|\\.)*)\1/g)].map((m) => m[2]!);

const hits = (test: (f: { file: string; code: string }) => string[]) =>
  FILES.flatMap((f) => test(f).map((what) => `${f.file}: ${what}`));

const DECLARED = new Set<string>([...PERSISTED_ITEMS.map((i) => i.key), ...Object.values(ALARMS)]);
const DB_NAMES = new Set(INDEXED_DBS.flatMap((d) => [d.name, ...('key' in d ? [d.key as string] : [])]));

/** Each rule: what in a file's code spells a registry entry outside the registry. */
const RULES: Record<string, (code: string) => string[]> = {
  reservedTag: (code) => literals(code).filter((s) => s.includes(RESERVED_TAG_PREFIX)),
  storageKey: (code) => literals(code).filter((s) => /^clawkeep\./.test(s) && (DECLARED.has(s) || !NOT_STORAGE.has(s))),
  indexedDbName: (code) => literals(code).filter((s) => DB_NAMES.has(s)),
  // storage.local/.session get/set/remove with a key; rpc-channel's storageArea passes the area, not a key.
  storageApi: (code) =>
    [
      ...code.matchAll(
        /storage\.(local|session)\.(get|set|remove)\(|\b(localStorage|store)\.(getItem|setItem|removeItem)\(/g,
      ),
    ].map((m) => m[0]),
  alarmName: (code) =>
    [...code.matchAll(/alarms\.(create|clear)\(\s*(?!ALARMS\.|name\b)[^,)]*|alarm\.name === (?!ALARMS\.)\S+/g)].map(
      (m) => m[0],
    ),
  prefixCheck: (code) => [...code.matchAll(/startsWith\(\s*['"`]clawkeep/g)].map((m) => m[0]),
};

describe('registry of persisted keys, alarms and reserved vault tags', () => {
  it('the source scan sees the code base (guards against a scan that silently finds nothing)', () => {
    expect(FILES.length).toBeGreaterThan(200);
    expect(FILES.some((f) => f.file === 'lib/ext/hub/hub-core.ts')).toBe(true);
  });

  it('declares each key, alarm, database and tag once, each with an owner that exists', () => {
    const keys = PERSISTED_ITEMS.map((i) => `${i.area}:${i.key}`);
    expect(new Set(keys).size).toBe(keys.length);
    const alarms = Object.values(ALARMS);
    expect(new Set(alarms).size).toBe(alarms.length);
    const dbs = INDEXED_DBS.map((d) => d.name);
    expect(new Set(dbs).size).toBe(dbs.length);
    const tags = RESERVED_TAGS.map((t) => t.tag);
    expect(new Set(tags).size).toBe(tags.length);
    for (const owner of [...PERSISTED_ITEMS, ...INDEXED_DBS, ...RESERVED_TAGS].map((x) => x.owner))
      expect(existsSync(path.join(ROOT, owner)), owner).toBe(true);
    for (const t of RESERVED_TAGS) expect(isReservedTag(t.tag)).toBe(true);
  });

  it('isReservedTag covers the whole namespace, nothing else', () => {
    expect(isReservedTag(`${RESERVED_TAG_PREFIX}from-a-newer-version`)).toBe(true);
    for (const tag of ['clawkeep', 'Clawkeep:x', 'clawkeep.x', 'x:clawkeep:', '', 'prod'])
      expect(isReservedTag(tag)).toBe(false);
  });

  it('no clawkeep: tag is spelled outside lib/storage/vault-tags.ts', () => {
    expect(hits((f) => RULES.reservedTag!(f.code))).toEqual([]);
  });

  it('no clawkeep. storage key or alarm name is spelled outside lib/storage (only message channel names are)', () => {
    expect(hits((f) => RULES.storageKey!(f.code))).toEqual([]);
  });

  it('no IndexedDB name is spelled outside lib/storage/persisted-keys.ts', () => {
    expect(hits((f) => RULES.indexedDbName!(f.code))).toEqual([]);
  });

  it('chrome.storage and localStorage are reached only through the registry helpers', () => {
    expect(hits((f) => RULES.storageApi!(f.code))).toEqual([]);
  });

  it('alarms are created and matched by their registry names only', () => {
    expect(hits((f) => RULES.alarmName!(f.code))).toEqual([]);
  });

  it('reserved-tag checks go through isReservedTag (no hand-written prefix test)', () => {
    expect(hits((f) => RULES.prefixCheck!(f.code))).toEqual([]);
  });

  it('each rule flags the violation it exists for (the check can fail)', () => {
    const bad: Record<keyof typeof RULES, string> = {
      reservedTag: "const tags = ['clawkeep:my-new-record'];",
      storageKey: "await port.set({ 'clawkeep.hub.brand-new': 1 });",
      indexedDbName: "createStore('clawkeep-openclaw', 'identity');",
      storageApi: 'await browser.storage.local.get(KEY);',
      alarmName: "browser.alarms.create('clawkeep.tick', { periodInMinutes: 1 });",
      prefixCheck: "tags.some((t) => t.startsWith('clawkeep:'));",
    };
    for (const [rule, code] of Object.entries(bad)) expect(RULES[rule]!(code), rule).not.toEqual([]);
    // A registered key spelled again elsewhere is flagged too, a message channel name is not.
    expect(RULES.storageKey!(`get('${HUB_SETTINGS.key}')`)).toEqual([HUB_SETTINGS.key]);
    expect(RULES.storageKey!("const CH = 'clawkeep.hub.rpc';")).toEqual([]);
  });
});

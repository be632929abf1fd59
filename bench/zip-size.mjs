// Store-upload sizes: `wxt zip` (Chrome) and `wxt zip -b firefox`, each zip's bytes vs its unpacked build.
// Informational only. Note: `wxt zip` rebuilds .output/chrome-mv3 and .output/firefox-mv2 first.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function dirBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

/** The newest .output/*-<suffix>.zip written after `since` (ms epoch). */
function newestZip(outputDir, suffix, since) {
  const zips = readdirSync(outputDir)
    .filter((f) => f.endsWith(`-${suffix}.zip`))
    .map((f) => ({ file: path.join(outputDir, f), mtime: statSync(path.join(outputDir, f)).mtimeMs }))
    .filter((z) => z.mtime >= since)
    .sort((a, b) => b.mtime - a.mtime);
  if (!zips[0]) throw new Error(`wxt zip wrote no *-${suffix}.zip in ${outputDir}`);
  return zips[0].file;
}

/** `run(cmd, args)` resolves with `{ code }` (scripts/lib/ensure.mjs). */
export async function benchZipSizes({ root, run, wxt }) {
  const outputDir = path.join(root, '.output');
  const targets = [
    { name: 'chrome-mv3', args: ['zip'], suffix: 'chrome' },
    { name: 'firefox-mv2', args: ['zip', '-b', 'firefox'], suffix: 'firefox' },
  ];
  const rows = [];
  for (const t of targets) {
    const since = Date.now() - 1000;
    const { code } = await run(wxt, t.args);
    if (code !== 0) throw new Error(`wxt ${t.args.join(' ')} failed (exit ${code})`);
    const zip = newestZip(outputDir, t.suffix, since);
    const zipBytes = statSync(zip).size;
    const unpackedBytes = dirBytes(path.join(outputDir, t.name));
    rows.push({
      target: t.name,
      zip: path.relative(root, zip),
      zipBytes,
      unpackedBytes,
      ratio: zipBytes / unpackedBytes,
    });
  }
  return rows;
}

// @vitest-environment node
// The import-boundary zones of eslint.config.js (README "Layout": entrypoints → components → lib; workers → lib;
// hub → lib/protocol; lib imports none of them; nothing shipped imports test/) fail deliberate violations and pass
// allowed imports, so this test can fail both ways. Must-show 2 of issue 14.
//
// Each case lints a small source with the repository's own config at a virtual path inside the real tree (the file
// need not exist; its imports must, because zones match resolved paths). Type-aware rules are switched off for these
// virtual files: the zones need no type information, and the project service only knows files on disk.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({
    cwd: ROOT,
    overrideConfig: [{ files: ['**/*.{ts,tsx}'], ...(tseslint.configs.disableTypeChecked as Linter.Config) }],
  });
});

/** A real module in `dir` (relative to the root), as a specifier relative to `fromFile`: renames cannot break it. */
function someModuleIn(dir: string, fromFile: string): string {
  const name = readdirSync(path.join(ROOT, dir)).find((n) => /\.tsx?$/.test(n) && !n.endsWith('.d.ts'));
  if (!name) throw new Error(`no module in ${dir}`);
  const target = path.join(ROOT, dir, name.replace(/\.tsx?$/, ''));
  const spec = path
    .relative(path.dirname(path.join(ROOT, fromFile)), target)
    .split(path.sep)
    .join('/');
  return spec.startsWith('.') ? spec : `./${spec}`;
}

/** Rule ids of the boundary problems ESLint reports for `code` placed at `file`. */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  expect(result, 'ESLint linted the virtual file (not ignored)').toBeDefined();
  const fatal = result!.messages.filter((m) => m.fatal);
  expect(fatal, 'the source parses').toEqual([]);
  return result!.messages
    .filter((m) =>
      ['import-x/no-restricted-paths', 'no-restricted-imports', 'no-restricted-globals'].includes(m.ruleId ?? ''),
    )
    .map((m) => m.ruleId!);
}

/** `import { x } from '<spec>'; export const y = x;` (uses the binding, so no unused-import noise). */
const importing = (spec: string) => `import * as m from '${spec}';\nexport const y = m;\n`;

describe('import boundaries (eslint.config.js zones)', () => {
  it('components/ may not import the extension API (wxt/browser, browser)', async () => {
    const file = 'components/shared/zz-lint-probe.tsx';
    expect(await boundaryErrors(file, "import { browser } from 'wxt/browser';\nexport const y = browser;\n")).toEqual([
      'no-restricted-imports',
    ]);
    expect(await boundaryErrors(file, "import browser from 'browser';\nexport const y = browser;\n")).toEqual([
      'no-restricted-imports',
    ]);
    expect(await boundaryErrors(file, 'export const y = () => browser.runtime.id;\n')).toEqual([
      'no-restricted-globals',
    ]);
  });

  it('lib/ext/ may import the extension API', async () => {
    expect(
      await boundaryErrors(
        'lib/ext/zz-lint-probe.ts',
        "import { browser } from 'wxt/browser';\nexport const y = browser;\n",
      ),
    ).toEqual([]);
  });

  it('lib/ may not import components/ (relative or through a tsconfig path alias)', async () => {
    const file = 'lib/vault/zz-lint-probe.ts';
    expect(await boundaryErrors(file, importing(someModuleIn('components/shared', file)))).toEqual([
      'import-x/no-restricted-paths',
    ]);
    const alias = someModuleIn('components/shared', 'zz.ts').replace(/^\.\//, '@/');
    expect(await boundaryErrors(file, importing(alias))).toEqual(['import-x/no-restricted-paths']);
  });

  it('lib/ may not import sim/, hub/ or entrypoints/', async () => {
    const file = 'lib/protocol/zz-lint-probe.ts';
    expect(await boundaryErrors(file, importing(someModuleIn('sim/cvm', file)))).toEqual([
      'import-x/no-restricted-paths',
    ]);
    expect(await boundaryErrors(file, importing(someModuleIn('hub', file)))).toEqual(['import-x/no-restricted-paths']);
    expect(await boundaryErrors(file, importing('../../entrypoints/background'))).toEqual([
      'import-x/no-restricted-paths',
    ]);
  });

  it('bin/ may not import test/, but may import lib/, hub/ and sim/', async () => {
    const file = 'bin/commands/zz-lint-probe.ts';
    expect(await boundaryErrors(file, importing(someModuleIn('test/sim', file)))).toEqual([
      'import-x/no-restricted-paths',
    ]);
    expect(await boundaryErrors(file, importing(someModuleIn('lib/attest', file)))).toEqual([]);
    expect(await boundaryErrors(file, importing(someModuleIn('hub', file)))).toEqual([]);
    expect(await boundaryErrors(file, importing('../../sim/cvm'))).toEqual([]);
  });

  it('sim/ (shipped with the CLI) may not import test/', async () => {
    const file = 'sim/cvm/zz-lint-probe.ts';
    expect(await boundaryErrors(file, importing(someModuleIn('test/sim', file)))).toEqual([
      'import-x/no-restricted-paths',
    ]);
  });

  it('hub/ may import lib/protocol, lib/bytes and lib/errors, and nothing else of lib/', async () => {
    const file = 'hub/routes/zz-lint-probe.ts';
    expect(await boundaryErrors(file, importing(someModuleIn('lib/vault', file)))).toEqual([
      'import-x/no-restricted-paths',
    ]);
    expect(await boundaryErrors(file, importing(someModuleIn('lib/sync', file)))).toEqual([
      'import-x/no-restricted-paths',
    ]);
    expect(await boundaryErrors(file, importing(someModuleIn('lib/protocol', file)))).toEqual([]);
    expect(await boundaryErrors(file, importing('../../lib/bytes'))).toEqual([]);
    expect(await boundaryErrors(file, importing('../../lib/errors'))).toEqual([]);
  });

  it('workers/ import lib/ only; components/ may import lib/', async () => {
    expect(
      await boundaryErrors(
        'workers/zz-lint-probe.ts',
        importing(someModuleIn('components/shared', 'workers/zz-lint-probe.ts')),
      ),
    ).toEqual(['import-x/no-restricted-paths']);
    const file = 'components/items/zz-lint-probe.tsx';
    expect(await boundaryErrors(file, importing(someModuleIn('lib/vault', file)))).toEqual([]);
  });

  it('entrypoints/ and the web vault may not import sim/ or test/', async () => {
    expect(await boundaryErrors('entrypoints/popup/zz-lint-probe.tsx', importing('../../sim/cvm'))).toEqual([
      'import-x/no-restricted-paths',
    ]);
    expect(
      await boundaryErrors('web/zz-lint-probe.tsx', importing(someModuleIn('test/sim', 'web/zz-lint-probe.tsx'))),
    ).toEqual(['import-x/no-restricted-paths']);
  });
});

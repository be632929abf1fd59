// ESLint for the whole repository: typescript-eslint's type-checked rules, unused code, TSDoc syntax, and the import
// boundaries of README.md ("Imports flow inward") as zones. `npm run lint` runs it; `npm test` runs it as a stage.
// test/unit/lint/boundaries.test.ts proves the zones fire on deliberate violations and stay quiet on allowed imports.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tsdoc from 'eslint-plugin-tsdoc';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

/** Folders no shipped code may import: tests, their fixtures, dev scripts, benchmarks. */
const DEV_ONLY = ['test', 'scripts', 'bench'];

/**
 * The direction rules of README.md "Layout", as import-x/no-restricted-paths zones: files under `target` may not import
 * anything that resolves under `from` (minus `except`). Paths are resolved, so `../../components/x`, an index import
 * and a type-only import are all caught the same way.
 */
const ZONES = [
  // lib/ is the framework-free core: it imports none of the layers above it, nor the Node-only programs.
  {
    target: 'lib',
    from: ['entrypoints', 'components', 'workers', 'web', 'hub', 'bin', 'sim', ...DEV_ONLY],
    message: 'lib/ imports nothing above it (README "Layout": entrypoints → components → lib; workers → lib).',
  },
  // UI: may use lib/ and the page-side worker runners; never an entrypoint, a Node program or the simulators.
  {
    target: 'components',
    from: ['entrypoints', 'web', 'hub', 'bin', 'sim', ...DEV_ONLY],
    message: 'components/ may import lib/ (and workers/ runners) only.',
  },
  {
    target: 'entrypoints',
    from: ['web', 'hub', 'bin', 'sim', ...DEV_ONLY],
    message: 'entrypoints/ wire components/ and lib/ only.',
  },
  {
    target: 'workers',
    from: ['entrypoints', 'components', 'web', 'hub', 'bin', 'sim', ...DEV_ONLY],
    message: 'workers/ import lib/ only.',
  },
  {
    target: 'web',
    from: ['entrypoints', 'hub', 'bin', 'sim', ...DEV_ONLY],
    message: 'the web vault imports components/, lib/ and workers/ only.',
  },
  // The hub is a separate Node program sharing only the wire formats (lib/protocol) and two leaf modules.
  {
    target: 'hub',
    from: ['lib'],
    except: ['./protocol', './bytes', './bytes.ts', './errors', './errors.ts'],
    message: 'hub/ imports lib/protocol, lib/bytes and lib/errors only (README "Layout").',
  },
  {
    target: 'hub',
    from: ['entrypoints', 'components', 'workers', 'web', 'bin', 'sim', ...DEV_ONLY],
    message: 'hub/ imports lib/protocol, lib/bytes and lib/errors only.',
  },
  // The CLI may run the hub and the simulators; it never reaches into browser code or tests.
  {
    target: 'bin',
    from: ['entrypoints', 'components', 'workers', 'web', ...DEV_ONLY],
    message: 'bin/ imports lib/, hub/ and sim/ only.',
  },
  {
    target: 'sim',
    from: ['entrypoints', 'components', 'workers', 'web', 'bin', ...DEV_ONLY],
    message: 'sim/ is shipped with the CLI: it imports lib/ only, never test code.',
  },
];

/** Extension APIs live in lib/ext and entrypoints; UI and the framework-free core never touch them. */
const EXTENSION_API_IMPORTS = {
  patterns: [
    {
      group: ['wxt', 'wxt/*', '@wxt-dev/*', 'webextension-polyfill', 'browser', '#imports'],
      message: 'Extension APIs live in lib/ext/ (and entrypoints/); call them through a lib/ext client.',
    },
  ],
};

export default defineConfig(
  {
    ignores: [
      '.output/',
      '.shots/',
      '.wxt/',
      'dist/',
      'test-results/',
      'playwright-report/',
      'bench/results/',
      '.clawkeep/',
      'test/fixtures/',
      'test/vectors/',
    ],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },

  js.configs.recommended,

  // JavaScript (CLI launcher, npm scripts, benchmarks, the OpenClaw harness, config files): Node globals, no types.
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // `try { … } catch {}` in the harness scripts is best effort on purpose: killing an exited process, removing a
      // temp dir, reading a version file or a JSON body that may be absent.
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },

  // TypeScript: type-checked recommended rules over tsconfig.json (which sees every .ts/.tsx file).
  {
    files: ['**/*.{ts,tsx,mts}'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    plugins: { tsdoc },
    rules: {
      'tsdoc/syntax': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // `import('x').T` stays allowed in an annotation: a one-off type that would shadow a global (Response) if imported.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      // `let server; const handler = () => server!.x; server = start(handler)`: a late-bound handle read by a closure.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `import { type A } from` survives verbatimModuleSyntax as a bare `import {} from`: a runtime edge that
      // scripts/check-cycles.mjs treats as erased. Requiring `import type` keeps the two in agreement.
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // Preact ignores an event handler's return value; `onSubmit={async (e) => …}` is the UI's pattern.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      // `async` without `await` is deliberate where a Promise-returning interface is implemented (VaultClient,
      // SyncPort, CLI commands): a throw then becomes a rejection, as every caller of the interface expects.
      '@typescript-eslint/require-await': 'off',
      // Passing on a caught value or an AbortSignal's reason unchanged is the point of those rejections.
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
      // Ports and format descriptors (`ports.now`, `FORMAT.validate`, `input.seal`) are plain objects of functions
      // declared with method syntax and never use `this`; the rule cannot tell them from class methods, and making
      // it pass means rewriting those interfaces (lib/ext's belong to the service-boundary work of issue 14).
      '@typescript-eslint/unbound-method': 'off',
      // A defensive initial value before a try that always assigns (`let ok = false; try { ok = verify() } …`) is
      // the habit of the verification code; tsc's definite-assignment analysis already catches a read before a write.
      'no-useless-assignment': 'off',
    },
  },

  // Tests read untyped JSON bodies and feed malformed values on purpose: the `any` rules would only add casts.
  {
    files: ['test/**/*.{ts,tsx,mts}'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Literal members next to `string` ('ok' | string) document the values a helper expects.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      // IndexedDB requests reject with `req.error` (a DOMException or null) in the test helpers, as IDB reports it.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
    },
  },

  // Benchmarks and the OpenClaw harness run some functions inside a browser page (page.evaluate).
  {
    files: ['bench/**/*.mjs', 'test/openclaw/**/*.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser, chrome: 'readonly' } },
  },

  // Import boundaries (README "Layout"). One object sets the zones for every file; each zone names its target.
  {
    files: ['**/*.{ts,tsx,js,mjs}'],
    plugins: { 'import-x': importX },
    settings: {
      // Zones match resolved paths, and an import the resolver cannot resolve is skipped by the rule: so it resolves
      // what tsc and the bundlers resolve, including the root aliases WXT declares in .wxt/tsconfig.json.
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.tsx', '.mjs', '.js', '.json'],
          alias: { '@': [root], '~': [root], '@@': [root], '~~': [root] },
        }),
      ],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: ZONES }],
    },
  },

  // UI and framework-free code never import extension APIs (components/ is UI only; see lib/ext).
  {
    files: ['components/**', 'workers/**', 'web/**', 'hub/**', 'bin/**', 'sim/**', 'lib/**'],
    ignores: ['lib/ext/**'],
    rules: {
      'no-restricted-imports': ['error', EXTENSION_API_IMPORTS],
      'no-restricted-globals': [
        'error',
        { name: 'browser', message: 'Extension APIs live in lib/ext/ (and entrypoints/).' },
        { name: 'chrome', message: 'Extension APIs live in lib/ext/ (and entrypoints/).' },
      ],
    },
  },

  // The PostgreSQL client is loaded on demand by hub/store/postgres.ts only (`await import('pg')`), so a hub on its
  // embedded SQLite (`npm start`) never loads it (issue 16 must-show 6). Type imports are erased and allowed.
  {
    files: ['hub/**/*.ts', 'bin/**/*.ts', 'lib/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'pg',
              allowTypeImports: true,
              message: "Load pg with `await import('pg')` in hub/store/postgres.ts only: SQLite hubs must not need it.",
            },
          ],
        },
      ],
    },
  },
);

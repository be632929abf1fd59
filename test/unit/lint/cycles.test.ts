// @vitest-environment node
// The runtime import-cycle check (scripts/check-cycles.mjs, a stage of `npm test`) finds planted cycles, ignores
// type-only ones, and fails on a stale allowlist entry. Must-show 3 of issue 14.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGraph, cyclePath, findCycles, judge, runtimeImports } from '../../../scripts/check-cycles.mjs';

describe('runtimeImports', () => {
  it('keeps value imports, side-effect imports and re-exports', () => {
    const src = [
      "import a from './a';",
      "import { b, type B } from './b';",
      "import * as c from './c';",
      "import './d';",
      "export { e } from './e';",
      "export * from './f';",
      "import { g } from 'some-package';",
    ].join('\n');
    expect(runtimeImports('x.ts', src)).toEqual(['./a', './b', './c', './d', './e', './f']);
  });

  it('drops type-only imports and re-exports and dynamic import()', () => {
    const src = [
      "import type { A } from './a';",
      "import { type B, type C } from './b';",
      "export type { D } from './d';",
      "export { type E } from './e';",
      "const lazy = () => import('./f');",
    ].join('\n');
    expect(runtimeImports('x.ts', src)).toEqual([]);
  });

  it('parses TSX', () => {
    expect(runtimeImports('x.tsx', "import { h } from './h';\nexport const X = () => <div>{h}</div>;")).toEqual([
      './h',
    ]);
  });
});

describe('findCycles', () => {
  it('finds a three-module cycle and a self-import, not an acyclic chain', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', ['e.ts']],
      ['e.ts', []],
      ['s.ts', ['s.ts']],
    ]);
    expect(findCycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['s.ts']]);
    expect(cyclePath(graph, ['a.ts', 'b.ts', 'c.ts'])).toEqual(['a.ts', 'b.ts', 'c.ts', 'a.ts']);
  });

  it('finds nothing in a DAG with shared leaves', () => {
    const graph = new Map([
      ['a.ts', ['b.ts', 'c.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', []],
    ]);
    expect(findCycles(graph)).toEqual([]);
  });
});

describe('buildGraph on planted files', () => {
  let root: string;
  const write = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  };

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'clawkeep-cycles-'));
    // A runtime cycle through a folder index: lib/a.ts → lib/pair (index.ts) → lib/a.ts.
    write('lib/a.ts', "import { p } from './pair';\nexport const a = p + 1;\n");
    write('lib/pair/index.ts', "import { a } from '../a';\nexport const p = 1;\nexport const q = () => a;\n");
    // A type-only loop: not a cycle at run time.
    write('lib/t1.ts', "import type { T2 } from './t2';\nexport interface T1 { t2?: T2 }\n");
    write('lib/t2.ts', "import { type T1 } from './t1';\nexport interface T2 { t1?: T1 }\n");
    // A loop closed only by dynamic import(): not a cycle of module evaluation.
    write('lib/d1.ts', "import { d2 } from './d2';\nexport const d1 = () => d2;\n");
    write('lib/d2.ts', "export const d2 = () => import('./d1');\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reports exactly the runtime cycle', () => {
    const graph = buildGraph(root, ['lib']);
    expect(graph.get('lib/a.ts')).toEqual(['lib/pair/index.ts']);
    expect(findCycles(graph)).toEqual([['lib/a.ts', 'lib/pair/index.ts']]);
  });

  it('fails an unlisted cycle, passes a listed one, and flags a stale entry', () => {
    const cycles = findCycles(buildGraph(root, ['lib']));
    expect(judge(cycles, [])).toEqual({ unexpected: cycles, stale: [] });
    expect(judge(cycles, [['lib/pair/index.ts', 'lib/a.ts']])).toEqual({ unexpected: [], stale: [] });
    const gone = [['lib/t1.ts', 'lib/t2.ts']];
    expect(judge(cycles, gone)).toEqual({ unexpected: cycles, stale: gone });
  });
});

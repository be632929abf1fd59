#!/usr/bin/env node
// No runtime import cycle in lib/ (issue 14, must-show 3), nor anywhere else in shipped code. A cycle between modules makes evaluation order decide
// whether a binding is initialised (a TDZ error or `undefined` at import time) and usually means two modules share
// state that one of them should own. `npm test` runs this as a stage; test/unit/lint/cycles.test.ts plants cycles.
//
// The graph is built from the TypeScript AST (typescript is already a devDependency), counting only edges that exist
// at run time:
//   - `import x from`, `import { a }`, `import * as`, `import './a'`, `export … from`, `export * from`: runtime;
//   - `import type …`, `export type … from`, and an import or re-export whose every named binding is `type`: erased
//     (ESLint's @typescript-eslint/no-import-type-side-effects forbids the all-inline-`type` form, which
//     verbatimModuleSyntax would keep as a bare `import {} from`, so erased here means erased in the build too);
//   - dynamic `import()`: not an edge; it runs after every module has been evaluated, so it cannot form a cycle of
//     module evaluation.
// Only relative specifiers are followed (a package cannot import our files back).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Folders whose import graph is checked (relative to the repository root): lib/ and everything shipped around it. */
export const CHECKED_DIRS = ['lib', 'entrypoints', 'components', 'workers', 'web', 'hub', 'bin', 'sim'];

/**
 * Known cycles, each as the sorted list of its module paths (relative, forward slashes). A listed cycle passes; a
 * listed cycle that no longer exists fails, so the entry is deleted together with the cycle. Empty: there are none,
 * and a new one is a design problem to fix, not an entry to add.
 */
export const ALLOWED_CYCLES = [];

const SOURCE = /\.(ts|tsx|mts)$/;
const isDeclaration = (file) => file.endsWith('.d.ts');

/**
 * The relative module specifiers a file imports at run time.
 * @param {string} fileName - used only to pick the TS/TSX parser
 * @param {string} text - the file's source
 * @returns {string[]}
 */
export function runtimeImports(fileName, text) {
  const kind = fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, kind);
  const out = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      if (clause?.isTypeOnly) continue;
      // `import { type A, type B } from` (no default, no namespace): every binding is a type.
      const named = clause?.namedBindings;
      if (clause && !clause.name && named && ts.isNamedImports(named) && named.elements.length > 0) {
        if (named.elements.every((e) => e.isTypeOnly)) continue;
      }
      if (ts.isStringLiteral(st.moduleSpecifier)) out.push(st.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      if (st.isTypeOnly) continue;
      const clause = st.exportClause;
      if (
        clause &&
        ts.isNamedExports(clause) &&
        clause.elements.length > 0 &&
        clause.elements.every((e) => e.isTypeOnly)
      )
        continue;
      out.push(st.moduleSpecifier.text);
    }
  }
  return out.filter((s) => s.startsWith('./') || s.startsWith('../'));
}

/** Resolves a relative specifier the way the bundler does for our sources (extensionless, or a folder's index). */
function resolveRelative(fromFile, spec, exists) {
  const base = path.resolve(path.dirname(fromFile), spec);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts'), path.join(base, 'index.tsx')];
  return candidates.find((c) => SOURCE.test(c) && !isDeclaration(c) && exists(c)) ?? null;
}

/**
 * The runtime import graph of every .ts/.tsx file under `dirs`: file → files it imports (edges leaving `dirs` are
 * kept; they cannot close a cycle inside `dirs` unless they come back, which the walk follows).
 * @param {string} root - repository root
 * @param {string[]} dirs - folders relative to root
 * @returns {Map<string, string[]>} paths relative to root, forward slashes
 */
export function buildGraph(root, dirs = CHECKED_DIRS) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(p);
      } else if (SOURCE.test(entry.name) && !isDeclaration(entry.name)) files.push(p);
    }
  };
  for (const d of dirs) if (existsSync(path.join(root, d))) walk(path.join(root, d));
  const rel = (p) => path.relative(root, p).split(path.sep).join('/');
  const exists = (p) => existsSync(p) && statSync(p).isFile();
  const graph = new Map();
  for (const file of files) {
    const deps = runtimeImports(file, readFileSync(file, 'utf8'))
      .map((spec) => resolveRelative(file, spec, exists))
      .filter((p) => p !== null)
      .map(rel);
    graph.set(rel(file), [...new Set(deps)]);
  }
  return graph;
}

/**
 * Strongly connected components with more than one module, or one module importing itself (Tarjan's algorithm,
 * iterative so a deep graph cannot overflow the stack). Each component is returned sorted.
 * @param {Map<string, string[]>} graph
 * @returns {string[][]}
 */
export function findCycles(graph) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const out = [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const deps = graph.get(frame.node) ?? [];
      if (frame.next < deps.length) {
        const dep = deps[frame.next++];
        if (!graph.has(dep)) continue; // outside the checked folders
        if (!index.has(dep)) {
          index.set(dep, counter);
          low.set(dep, counter++);
          stack.push(dep);
          onStack.add(dep);
          work.push({ node: dep, next: 0 });
        } else if (onStack.has(dep)) {
          low.set(frame.node, Math.min(low.get(frame.node), index.get(dep)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent), low.get(frame.node)));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = component.length === 1 && (graph.get(frame.node) ?? []).includes(frame.node);
        if (component.length > 1 || selfLoop) out.push(component.sort());
      }
    }
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** One concrete loop through a component (a → b → … → a), for the message. */
export function cyclePath(graph, component) {
  const members = new Set(component);
  const start = component[0];
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const dep of graph.get(node) ?? []) {
      if (dep === start) {
        const loop = [start];
        for (let n = node; n !== null && n !== start; n = prev.get(n)) loop.splice(1, 0, n);
        return [...loop, start];
      }
      if (members.has(dep) && !prev.has(dep)) {
        prev.set(dep, node);
        queue.push(dep);
      }
    }
  }
  return [...component, start];
}

/**
 * Compares found cycles with the allowlist.
 * @returns {{ unexpected: string[][], stale: string[][] }}
 */
export function judge(cycles, allowed = ALLOWED_CYCLES) {
  const key = (c) => [...c].sort().join('\n');
  const allowedKeys = new Set(allowed.map(key));
  const foundKeys = new Set(cycles.map(key));
  return {
    unexpected: cycles.filter((c) => !allowedKeys.has(key(c))),
    stale: allowed.filter((c) => !foundKeys.has(key(c))),
  };
}

function main() {
  const graph = buildGraph(ROOT);
  const cycles = findCycles(graph);
  const { unexpected, stale } = judge(cycles);
  for (const c of cycles) {
    const mark = unexpected.includes(c) ? 'CYCLE' : 'allowed (temporary, see ALLOWED_CYCLES)';
    console.log(`${mark}: ${cyclePath(graph, c).join(' → ')}`);
  }
  for (const c of stale)
    console.log(`STALE allowlist entry (the cycle is gone; delete it from ALLOWED_CYCLES): ${c.join(', ')}`);
  const edges = [...graph.values()].reduce((n, d) => n + d.length, 0);
  console.log(
    `[cycles] ${graph.size} modules, ${edges} runtime imports in ${CHECKED_DIRS.join(', ')}: ${unexpected.length} cycle(s), ${stale.length} stale allowlist entr(ies)`,
  );
  process.exit(unexpected.length === 0 && stale.length === 0 ? 0 : 1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

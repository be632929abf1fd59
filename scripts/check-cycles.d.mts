// Types for scripts/check-cycles.mjs (plain Node ESM, run by `npm test`), so test/unit/lint/cycles.test.ts is checked.
export declare const CHECKED_DIRS: string[];
export declare const ALLOWED_CYCLES: string[][];
export declare function runtimeImports(fileName: string, text: string): string[];
export declare function buildGraph(root: string, dirs?: string[]): Map<string, string[]>;
export declare function findCycles(graph: Map<string, string[]>): string[][];
export declare function cyclePath(graph: Map<string, string[]>, component: string[]): string[];
export declare function judge(cycles: string[][], allowed?: string[][]): { unexpected: string[][]; stale: string[][] };

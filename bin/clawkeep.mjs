#!/usr/bin/env node
// Entry point of the `clawkeep` command: loads the TypeScript CLI in bin/ through tsx, without a build step.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
// tsconfig.json extends the generated .wxt/tsconfig.json; without it (before `wxt prepare`) use tsx defaults.
register({ tsconfig: existsSync(new URL('../.wxt/tsconfig.json', import.meta.url)) ? tsconfig : false });

const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));

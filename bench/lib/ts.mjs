// Loads TypeScript modules of the product (lib/, hub/) through tsx, the way bin/clawkeep.mjs runs the CLI, so the
// benches drive the shipped code with no build step. tsx is unhooked afterwards; loaded modules stay loaded.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `importTs('lib/agent/index.ts', …)`, paths relative to the repository root. */
export async function importTs(...relPaths) {
  const { register } = await import('tsx/esm/api');
  const tsconfig = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));
  // tsconfig.json extends the generated .wxt/tsconfig.json; without it use tsx defaults (as bin/clawkeep.mjs does).
  const unregister = register({
    tsconfig: existsSync(new URL('../../.wxt/tsconfig.json', import.meta.url)) ? tsconfig : false,
  });
  try {
    return await Promise.all(relPaths.map((p) => import(new URL(`../../${p}`, import.meta.url).href)));
  } finally {
    await unregister();
  }
}

/**
 * Like importTs, but tsx stays registered: for a process that keeps using modules which import further TypeScript
 * later (hub/store/open.ts loads the PostgreSQL store on first use). The load harness's processes only.
 */
export async function importTsKeepingLoader(...relPaths) {
  const { register } = await import('tsx/esm/api');
  const tsconfig = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));
  register({ tsconfig: existsSync(new URL('../../.wxt/tsconfig.json', import.meta.url)) ? tsconfig : false });
  return Promise.all(relPaths.map((p) => import(new URL(`../../${p}`, import.meta.url).href)));
}

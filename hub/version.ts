import { readFileSync } from 'node:fs';

/** The Clawkeep version from the repository's package.json, read once. */
export const HUB_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A file of test/fixtures/imports/ (provenance in its README) as text. */
export function importFixture(name: string): string {
  return readFileSync(path.join(__dirname, '../../fixtures/imports', name), 'utf8');
}

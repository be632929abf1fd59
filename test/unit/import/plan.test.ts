// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { detectFormat, IMPORT_MAX_BYTES, planImport, readImportFile } from '../../../lib/import/plan';
import { importFixture } from './fixtures';

describe('reading and recognising an import file', () => {
  it('refuses a file over the size cap before reading it, and bytes that are not UTF-8', async () => {
    await expect(readImportFile(new Blob([new Uint8Array(IMPORT_MAX_BYTES + 1)]))).rejects.toMatchObject({
      code: 'import_too_large',
    });
    await expect(readImportFile(new Blob([new Uint8Array([0x41, 0xff, 0xfe])]))).rejects.toMatchObject({
      code: 'import_malformed',
    });
    expect(await readImportFile(new Blob(['A=1\n']))).toBe('A=1\n');
  });

  it('guesses the format by extension, then by content', () => {
    expect(detectFormat('bitwarden_export_2026.json', '')).toBe('bitwarden-json');
    expect(detectFormat('secrets.CSV', '')).toBe('csv');
    expect(detectFormat('.env', '')).toBe('dotenv');
    expect(detectFormat('.env.production', '')).toBe('dotenv');
    expect(detectFormat('export.txt', importFixture('bitwarden-export.json'))).toBe('bitwarden-json');
    expect(detectFormat('vars', importFixture('sample.env'))).toBe('dotenv');
    expect(detectFormat('list', importFixture('secrets.csv'))).toBe('csv');
  });

  it('a file read as the wrong format is a typed error, not a wrong import', () => {
    expect(() => planImport('dotenv', importFixture('secrets.csv'))).toThrow(
      expect.objectContaining({ code: 'import_malformed' }),
    );
    expect(() => planImport('csv', importFixture('sample.env'))).toThrow(
      expect.objectContaining({ code: 'import_unsupported' }),
    );
    expect(() => planImport('bitwarden-json', importFixture('secrets.csv'))).toThrow(
      expect.objectContaining({ code: 'import_malformed' }),
    );
  });
});

// @vitest-environment node
import path from 'node:path';
import { openSqliteStore } from '../../../hub/store/sqlite';
import { describeStoreConformance } from './store-conformance';
import { tempDir } from './helpers';

// In memory and on a file (WAL, the mode the hub runs in): the same behaviour either way.
describeStoreConformance('SQLite in memory', async () => openSqliteStore({ file: ':memory:' }));
describeStoreConformance('SQLite file', async () => openSqliteStore({ file: path.join(tempDir(), 'hub.sqlite') }));

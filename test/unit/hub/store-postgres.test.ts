// @vitest-environment node
import { afterAll, beforeAll } from 'vitest';
import { openPostgresStore } from '../../../hub/store/postgres';
import { startPostgresCluster, type PostgresCluster } from '../../support/postgres-cluster';
import { describeStoreConformance } from './store-conformance';

// One throwaway cluster for this file; every test gets an empty schema of its own in it.
let cluster: PostgresCluster | undefined;
let schemas = 0;

beforeAll(async () => {
  cluster = await startPostgresCluster();
}, 60_000);
afterAll(() => cluster?.stop());

describeStoreConformance('PostgreSQL', async () =>
  openPostgresStore({ url: cluster!.url, schema: `conformance_${++schemas}`, maxConnections: 4 }),
);

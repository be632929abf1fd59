// Child process: the real hub via startHub (as bin/commands/hub.ts runs it: loopback, default JSON-lines access log
// on stdout), plus N extra enrollment codes issued through the hub's own store, exactly as test/unit/hub/flow.ts
// extraEnrollmentCode does. Reports { url, enrollmentCode, codes, pid } to the parent over IPC.
// On the message 'restart' it closes the hub and starts it again on the same port and data directory (same origin,
// same database): a restart, as an operator would do, which also starts the in-memory rate limiters afresh.
import { importTs } from './ts.mjs';

const [dataDir, n] = process.argv.slice(2);
const [{ startHub }, { enrollmentCodeHash, generateEnrollmentCode }] = await importTs(
  'hub/server.ts',
  'hub/enrollment.ts',
);
let hub = await startHub({ port: 0, dataDir });
const codes = [];
for (let i = 0; i < Number(n); i++) {
  const code = generateEnrollmentCode();
  await hub.store.enrollment.create(enrollmentCodeHash(code), Date.now());
  codes.push(code);
}
process.on('message', async (m) => {
  if (m !== 'restart') return;
  await hub.close();
  hub = await startHub({ port: hub.port, dataDir });
  process.send('restarted');
});
process.on('SIGTERM', () => void hub.close().then(() => process.exit(0)));
process.send({ url: hub.url, enrollmentCode: hub.enrollmentCode, codes, pid: process.pid });

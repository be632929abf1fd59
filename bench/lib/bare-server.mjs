// Child process: the reference for hub throughput. The same framework and adapter as the hub (Hono on
// @hono/node-server, node:http underneath) with one route that parses the JSON body and answers 201 with it
// (a response of similar size to the hub's). No middleware, no auth, no database.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono().post('/v1/intents', async (c) => c.json(await c.req.json(), 201));
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.send({ url: `http://127.0.0.1:${info.port}` });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

import { Hono } from 'hono';
import type { HubDeps } from '../app';
import type { HubEnv } from '../middleware';

/** `GET /v1/health` → `{ok: true, version}`. Touches no storage: it says the process is up and answering. */
export function healthRoutes(deps: HubDeps): Hono<HubEnv> {
  return new Hono<HubEnv>().get('/health', (c) => c.json({ ok: true, version: deps.version }));
}

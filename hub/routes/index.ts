import type { Hono } from 'hono';
import type { HubDeps } from '../deps';
import type { HubEnv } from '../middleware';
import { accountRoutes } from './accounts';
import { agentConfigRoutes } from './agent-configs';
import { agentRoutes } from './agents';
import { auditRoutes } from './audit';
import { claimRoutes } from './claims';
import { deviceRoutes } from './devices';
import { eventRoutes } from './events';
import { healthRoutes } from './health';
import { installationRoutes } from './installations';
import { intentDecisionRoutes } from './intent-decisions';
import { intentRoutes } from './intents';
import { vaultSyncRoutes } from './vault-sync';
import { watchRoutes } from './watch';

/**
 * Where route modules are mounted. Each module under hub/routes/ exports a factory `(deps) => Hono<HubEnv>` and gets
 * one line here, e.g. `app.route('/v1/agents', agentRoutes(deps))`. Routes do their checks, mutation and audit row
 * in one `deps.store.transaction(...)` (no await inside) and throw HubError for client errors.
 */
export function mountRoutes(app: Hono<HubEnv>, deps: HubDeps): void {
  app.route('/v1', healthRoutes(deps));
  app.route('/v1', agentRoutes(deps));
  app.route('/v1', accountRoutes(deps));
  app.route('/v1', claimRoutes(deps));
  app.route('/v1', intentRoutes(deps));
  app.route('/v1', intentDecisionRoutes(deps));
  app.route('/v1', installationRoutes(deps));
  app.route('/v1', agentConfigRoutes(deps));
  app.route('/v1', vaultSyncRoutes(deps));
  app.route('/v1', eventRoutes(deps));
  app.route('/v1', auditRoutes(deps));
  app.route('/v1', deviceRoutes(deps));
  app.route('/v1', watchRoutes(deps));
}

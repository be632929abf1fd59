/**
 * The Phala Cloud API shapes the simulator serves under /api/v1 (shapes fixed in the issue-6 design, from
 * specs/sealing-to-cvm.md §3). X-API-Key is required; errors are `{"detail": string}`.
 */
import { Hono, type Context } from 'hono';
import { toHex } from '../../lib/bytes';
import type { ComposeFileInput } from './app-compose';
import { SimError, type SimCvm, type SimState } from './state';

export interface CloudRouteOptions {
  apiKey: string;
  /** e.g. http://127.0.0.1:4321 — for guest_agent_url and public_urls. */
  origin: () => string;
  /** Whether `GET /cvms/{id}` names a guest agent URL (a simulator extension; real Phala Cloud gives none). */
  guestAgentExposed: () => boolean;
}

const detail = (c: Context, status: number, message: string) =>
  c.json({ detail: message }, status as 400 | 401 | 404 | 409 | 422 | 500);

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    throw new SimError(422, 'The request body is not JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SimError(422, 'The request body must be a JSON object.');
  return value as Record<string, unknown>;
}

function stringList(value: unknown, what: string, optional = false): string[] {
  if (value === undefined && optional) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw new SimError(422, `${what} must be a list of strings.`);
  return value as string[];
}

function bool(value: unknown, fallback: boolean, what: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new SimError(422, `${what} must be a boolean.`);
  return value;
}

function composeFile(value: unknown): ComposeFileInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SimError(422, 'compose_file must be an object.');
  const v = value as Record<string, unknown>;
  if (typeof v.docker_compose_file !== 'string' || v.docker_compose_file.trim() === '') {
    throw new SimError(422, 'compose_file.docker_compose_file is required.');
  }
  if (v.pre_launch_script !== undefined && typeof v.pre_launch_script !== 'string')
    throw new SimError(422, 'compose_file.pre_launch_script must be a string.');
  if (v.name !== undefined && typeof v.name !== 'string')
    throw new SimError(422, 'compose_file.name must be a string.');
  return {
    docker_compose_file: v.docker_compose_file,
    allowed_envs: stringList(v.allowed_envs, 'compose_file.allowed_envs', true),
    gateway_enabled: bool(v.gateway_enabled, true, 'compose_file.gateway_enabled'),
    kms_enabled: bool(v.kms_enabled, true, 'compose_file.kms_enabled'),
    public_logs: bool(v.public_logs, true, 'compose_file.public_logs'),
    ...(v.pre_launch_script !== undefined ? { pre_launch_script: v.pre_launch_script } : {}),
    ...(v.name !== undefined ? { name: v.name } : {}),
  };
}

export function cloudRoutes(state: SimState, options: CloudRouteOptions): Hono {
  const app = new Hono();
  const guestUrl = (appId: string) => `${options.origin()}/guest/${appId}`;

  const cvmObject = (cvm: SimCvm) => ({
    id: cvm.id,
    app_id: cvm.appId,
    name: cvm.name,
    status: cvm.status,
    uptime_seconds: state.uptimeSeconds(cvm),
    created_at: cvm.createdAt,
    instance_type: cvm.instanceType,
    kms_info: {
      id: state.kms.id,
      slug: state.kms.slug,
      k256_pubkey: state.kms.k256Pubkey,
      encrypted_env_pubkey: state.envPublicKey(cvm.appId),
    },
    public_urls: [{ app: `${options.origin()}/app/${cvm.appId}`, instance: `${options.origin()}/app/${cvm.appId}` }],
    // replayed-quote: the provider names no instance (nothing to tie its replayed quote to).
    ...(state.misbehave === 'replayed-quote' ? {} : { instance_id: cvm.instanceId }),
    // SIMULATOR EXTENSION, not a Phala field: stands for "the app exposes dstack's GetQuote" (a client can then
    // challenge the CVM with its own report data). Only once the CVM runs, and only while the switch allows it.
    ...(options.guestAgentExposed() && cvm.status === 'running' ? { guest_agent_url: guestUrl(cvm.appId) } : {}),
  });

  app.onError((err, c) => {
    if (err instanceof SimError) return detail(c, err.status, err.detail);
    return detail(c, 500, 'The CVM simulator failed on this request.');
  });
  app.notFound((c) => detail(c, 404, 'Not found.'));

  app.use('*', async (c, next) => {
    if (c.req.method === 'OPTIONS') return next();
    // eslint-disable-next-line @typescript-eslint/no-unsafe-argument -- hono types a '*' middleware's input as `any`; detail() only calls c.json
    if (c.req.header('X-API-Key') !== options.apiKey) return detail(c, 401, 'Invalid or missing API key.');
    return next();
  });

  app.get('/auth/me', (c) =>
    c.json({
      username: 'simulator',
      email: 'simulator@example.invalid',
      workspace: { name: 'CVM simulator workspace' },
    }),
  );

  app.get('/kms', (c) =>
    c.json({
      items: [
        {
          id: state.kms.id,
          slug: state.kms.slug,
          name: state.kms.name,
          chain_id: null,
          k256_pubkey: state.kms.k256Pubkey,
          ca_pubkey: state.kms.caPubkey,
        },
      ],
    }),
  );

  app.get('/kms/:kms/pubkey/:appId', (c) => {
    const kms = c.req.param('kms');
    if (kms !== state.kms.id && kms !== state.kms.slug) throw new SimError(404, 'KMS not found.');
    const appId = c.req.param('appId').toLowerCase().replace(/^0x/, '');
    if (!/^[0-9a-f]{40}$/.test(appId)) throw new SimError(422, 'app_id must be 40 hex characters.');
    return c.json(state.envKeyResponse(appId));
  });

  app.get('/os-images', (c) => {
    const image = state.osImage;
    return c.json({
      items: [
        {
          name: image.name,
          version: image.version,
          os_image_hash: image.osImageHash,
          is_dev: image.isDev,
          measurement: { ...image.measurement },
        },
      ],
    });
  });

  app.post('/cvms/provision', async (c) => {
    const body = await jsonBody(c);
    if (typeof body.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(body.name)) {
      throw new SimError(422, 'name is required: letters, digits, "-", "_" or ".", at most 63 characters.');
    }
    const kmsId = body.kms_id === undefined ? state.kms.id : body.kms_id;
    if (kmsId !== state.kms.id && kmsId !== state.kms.slug) throw new SimError(400, 'Unknown kms_id.');
    const instanceType = body.instance_type === undefined ? 'tdx.small' : body.instance_type;
    if (typeof instanceType !== 'string') throw new SimError(422, 'instance_type must be a string.');
    const app = state.provision(
      body.name,
      composeFile(body.compose_file),
      stringList(body.env_keys, 'env_keys', true),
      instanceType,
      state.kms.id,
    );
    return c.json({
      app_id: app.appId,
      app_env_encrypt_pubkey: state.envPublicKey(app.appId),
      compose_hash: app.composeHash,
      kms_id: app.kmsId,
      os_image_hash: state.osImage.osImageHash,
      device_id: app.deviceId,
      // Extra field (the public SDK does not promise it): clients must not depend on it.
      app_compose: app.appCompose,
    });
  });

  app.post('/cvms', async (c) => {
    const body = await jsonBody(c);
    if (typeof body.app_id !== 'string') throw new SimError(422, 'app_id is required.');
    const provisioned = state.app(body.app_id);
    if (body.compose_hash !== provisioned.composeHash)
      throw new SimError(400, 'compose_hash does not match the provisioned compose.');
    stringList(body.env_keys, 'env_keys', true);
    // No encrypted_env: the CVM boots without secrets (a client attests it first and sends them by PATCH envs).
    const env =
      body.encrypted_env === undefined || body.encrypted_env === null
        ? null
        : await state.openEnv(provisioned.appId, body.encrypted_env);
    return c.json(cvmObject(state.createCvm(provisioned, env)));
  });

  app.get('/cvms/:id', (c) => c.json(cvmObject(state.cvm(c.req.param('id')))));

  app.get('/cvms/:id/state', (c) => {
    const cvm = state.cvm(c.req.param('id'));
    return c.json({ status: cvm.status, uptime_seconds: state.uptimeSeconds(cvm) });
  });

  app.get('/cvms/:id/logs', (c) => {
    const cvm = state.cvm(c.req.param('id'));
    const tail = Number(c.req.query('tail') ?? '100');
    const n = Number.isInteger(tail) && tail > 0 ? Math.min(tail, 10_000) : 100;
    return c.json({ lines: cvm.logs.slice(-n) });
  });

  app.get('/cvms/:id/attestation', async (c) => {
    const cvm = state.cvm(c.req.param('id'));
    const provisioned = state.app(cvm.appId);
    // A TD that is not running has nothing to quote.
    if (cvm.status !== 'running') return c.json({ is_online: false, tcb_info: null, app_certificates: [] });
    // The provider's copy of the quote: its REPORTDATA is not a client's challenge (zero here).
    const evidence = await state.evidence(cvm, '00'.repeat(64));
    const [rtmr0, rtmr1, rtmr2, rtmr3] = evidence.rtmrs;
    return c.json({
      is_online: true,
      tcb_info: {
        mrtd: evidence.mrtd,
        rtmr0,
        rtmr1,
        rtmr2,
        rtmr3,
        event_log: evidence.events,
        app_compose: provisioned.appCompose,
      },
      app_certificates: [{ quote: toHex(evidence.quote) }],
      compose_file: provisioned.appCompose,
    });
  });

  app.patch('/cvms/:id/envs', async (c) => {
    const cvm = state.cvm(c.req.param('id'));
    const body = await jsonBody(c);
    stringList(body.env_keys, 'env_keys', true);
    state.updateEnv(cvm, await state.openEnv(cvm.appId, body.encrypted_env));
    return c.json({ status: 'in_progress', correlation_id: crypto.randomUUID(), allowed_envs_changed: false });
  });

  app.post('/cvms/:id/start', (c) => {
    const cvm = state.cvm(c.req.param('id'));
    state.start(cvm);
    return c.json(cvmObject(cvm));
  });
  app.post('/cvms/:id/stop', (c) => {
    const cvm = state.cvm(c.req.param('id'));
    state.stop(cvm);
    return c.json(cvmObject(cvm));
  });
  app.post('/cvms/:id/restart', (c) => {
    const cvm = state.cvm(c.req.param('id'));
    state.restart(cvm);
    return c.json(cvmObject(cvm));
  });
  app.delete('/cvms/:id', (c) => {
    state.delete(state.cvm(c.req.param('id')));
    return c.body(null, 204);
  });

  return app;
}

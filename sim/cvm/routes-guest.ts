/**
 * The dstack guest API of each simulated app (spec §2.1), at `/guest/<app_id>`: `Info` and `GetQuote`, answered by
 * the app's running CVM only (404 before it is created and while it is not running: there is no TD to ask). On
 * real Phala Cloud the app itself would have to expose GetQuote; `GET /cvms/{id}` names this URL as a simulator
 * extension. Also `/app/<app_id>`: the deployed app's health.
 */
import { Hono, type Context } from 'hono';
import { toHex } from '../../lib/bytes';
import { keyProviderPayload } from './event-log';
import { SimError, type SimState } from './state';

const detail = (c: Context, status: number, message: string) =>
  c.json({ detail: message }, status as 400 | 404 | 500 | 503);

function vmConfig(state: SimState): string {
  return JSON.stringify({
    os_image_hash: state.osImage.osImageHash,
    cpu_count: 2,
    memory_size: 4294967296,
    simulator: true,
  });
}

export function guestRoutes(state: SimState): Hono {
  const app = new Hono();
  app.onError((err, c) =>
    err instanceof SimError
      ? detail(c, err.status, err.detail)
      : detail(c, 500, 'The CVM simulator failed on this request.'),
  );

  app.get('/:appId/Info', async (c) => {
    const cvm = state.runningCvmOfApp(c.req.param('appId'));
    const provisioned = state.app(cvm.appId);
    const evidence = await state.evidence(cvm, '00'.repeat(64));
    const [rtmr0, rtmr1, rtmr2, rtmr3] = evidence.rtmrs;
    return c.json({
      app_id: provisioned.appId,
      instance_id: cvm.instanceId,
      app_name: provisioned.name,
      device_id: provisioned.deviceId,
      tcb_info: {
        mrtd: evidence.mrtd,
        rtmr0,
        rtmr1,
        rtmr2,
        rtmr3,
        event_log: evidence.events,
        app_compose: provisioned.appCompose,
        os_image_hash: state.osImage.osImageHash,
        compose_hash: evidence.identity.composeHash,
        device_id: provisioned.deviceId,
      },
      key_provider_info: keyProviderPayload(state.kms.caPubkey),
      vm_config: vmConfig(state),
    });
  });

  app.get('/:appId/GetQuote', async (c) => {
    const cvm = state.runningCvmOfApp(c.req.param('appId'));
    const reportData = (c.req.query('report_data') ?? '').toLowerCase().replace(/^0x/, '');
    if (!/^(?:[0-9a-f]{2}){0,64}$/.test(reportData))
      return detail(c, 400, 'report_data must be at most 64 bytes of hex.');
    const padded = reportData.padEnd(128, '0');
    const evidence = await state.evidence(cvm, padded);
    return c.json({
      quote: toHex(evidence.quote),
      event_log: JSON.stringify(evidence.events),
      report_data: padded,
      vm_config: vmConfig(state),
    });
  });

  return app;
}

export function appHealthRoutes(state: SimState): Hono {
  const app = new Hono();
  app.get('/:appId', (c) => {
    const cvm = state.cvmOfApp(c.req.param('appId').toLowerCase());
    if (!cvm) return detail(c, 404, 'No CVM runs this app.');
    if (cvm.status !== 'running') return detail(c, 503, `The CVM is ${cvm.status}.`);
    return c.json({ status: 'ok', app: 'openclaw (simulated)', uptime_seconds: state.uptimeSeconds(cvm) });
  });
  return app;
}

/**
 * CVM SIMULATOR (test only). One local HTTP server on 127.0.0.1 that stands in for Phala Cloud and the dstack
 * CVMs it runs, which tests cannot reach:
 *
 * ```text
 *   /api/v1/…           Phala Cloud API shapes (X-API-Key required): KMS, OS images, provision, CVMs, env updates
 *   /guest/<app_id>/…   dstack guest API of the app's running CVM: Info, GetQuote (quotes signed by a TEST PKI)
 *   /app/<app_id>       the deployed app's health
 *   /pccs/…             collateral for its quotes in the Intel PCS v4 wire format (through the PCCS simulator)
 *   /_sim/…             test controls: misbehave, guest-agent, received request bodies, decrypted env, test root
 * ```
 *
 * Nothing it signs chains to Intel: its quotes verify only where a test passes its root explicitly as a test
 * trust anchor (lib/attest/trust-anchor.ts), and a production build refuses them.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { toHex } from '../../lib/bytes';
import type { Collateral } from '../../lib/attest/types';
import type { EnvVar } from '../../lib/seal/env-encryption';
import { PccsSimulator } from '../pccs/pccs-simulator';
import { buildCollateral, freshWindow, staleWindow } from './collateral';
import { TestKms } from './kms';
import { parseMisbehaveMode, type MisbehaveMode } from './misbehave';
import { simulatedOsImage, type OsImageMeasurement } from './os-image';
import { randomFmspc } from './platform';
import { createQuotingEnclave } from './quote';
import { cloudRoutes } from './routes-cloud';
import { appHealthRoutes, guestRoutes } from './routes-guest';
import { SimState, type ReceivedRequest } from './state';
import { generateTestPki } from './test-pki';

export interface CvmSimulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  misbehave?: MisbehaveMode;
  /** Clock for collateral dates, KMS signature timestamps, uptime. Default Date.now. */
  now?: () => number;
  /** The API key /api/v1 accepts. Default "sim-key". */
  apiKey?: string;
  /** How long a CVM stays creating/starting before it runs. Default 1000 ms. */
  startDelayMs?: number;
  /**
   * Whether `GET /cvms/{id}` names the CVM's guest agent (`guest_agent_url`, a simulator extension standing for "the
   * app exposes dstack's GetQuote"). Default true; false = like real Phala Cloud, only `GET /cvms/{id}/attestation`.
   */
  guestAgentExposed?: boolean;
}

export interface CvmSimulator {
  /** Base URL of the Phala Cloud API shapes, e.g. http://127.0.0.1:4321/api/v1 */
  apiUrl: string;
  /** PCCS base URL for the simulator's collateral (pass as `pccsUrl`). */
  pccsUrl: string;
  /** Guest API base; an app's guest API is `${guestBaseUrl}/${appId}`. */
  guestBaseUrl: string;
  apiKey: string;
  /** DER of the simulator's TEST root CA: pass as `testTrustAnchor: { rootCertDer }`. */
  testRootDer: Uint8Array;
  kms: { id: string; slug: string; k256Pubkey: string; caPubkey: string };
  osImage: { name: string; version: string; osImageHash: string; measurement: OsImageMeasurement };
  misbehave(): MisbehaveMode;
  setMisbehave(mode: MisbehaveMode): void;
  /** Hide (false) or show (true) `guest_agent_url` on `GET /cvms/{id}`; the guest API itself keeps answering. */
  setGuestAgentExposed(exposed: boolean): void;
  guestAgentExposed(): boolean;
  /** Every request received outside /_sim, in order, with its raw body. */
  received(): ReceivedRequest[];
  /** The decrypted env the app's CVM received, or null when it received none. */
  envOf(appId: string): EnvVar[] | null;
  /** The collateral currently served under /pccs (stale under `stale-collateral`). */
  collateral(): Collateral;
  close(): Promise<void>;
}

const DEFAULT_API_KEY = 'sim-key';

export async function startCvmSimulator(options: CvmSimulatorOptions = {}): Promise<CvmSimulator> {
  const now = options.now ?? Date.now;
  const apiKey = options.apiKey ?? DEFAULT_API_KEY;
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`startCvmSimulator: bad port ${port}`);
  let mode = parseMisbehaveMode(options.misbehave);
  let guestAgentExposed = options.guestAgentExposed ?? true;

  // Two simulated platforms (FMSPCs): quotes come from the second one while `stale-collateral` is on, so a client
  // that cached the first one's (fresh) collateral must fetch again and gets the stale set.
  const fmspcs = { fresh: randomFmspc(), stale: randomFmspc() };
  const pki = await generateTestPki(now(), [fmspcs.fresh, fmspcs.stale]);
  const quoting = {
    fresh: await createQuotingEnclave(pki.platforms[0]!),
    stale: await createQuotingEnclave(pki.platforms[1]!),
  };
  const kms = new TestKms();
  const osImage = simulatedOsImage();
  const state = new SimState(kms, osImage, quoting, now, options.startDelayMs ?? 1000, mode);
  const collateral = {
    fresh: await buildCollateral(pki, freshWindow(now()), fmspcs.fresh),
    stale: await buildCollateral(pki, staleWindow(now()), fmspcs.stale),
  };
  const served = (): Collateral => (mode === 'stale-collateral' ? collateral.stale : collateral.fresh);
  const pccs = await PccsSimulator.start();
  pccs.publish(served());

  const setMisbehave = (next: MisbehaveMode): void => {
    mode = parseMisbehaveMode(next);
    state.misbehave = mode;
    pccs.publish(served());
  };

  let origin = '';
  const app = new Hono();
  app.use(
    '*',
    cors({
      origin: '*',
      allowHeaders: ['X-API-Key', 'X-Phala-Version', 'Content-Type'],
      allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    }),
  );
  // Record every request body before any route reads it (for plaintext scans); the test controls are excluded.
  app.use('*', async (c, next) => {
    const url = new URL(c.req.url);
    if (!url.pathname.startsWith('/_sim/') && c.req.method !== 'OPTIONS') {
      const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? '' : await c.req.text();
      state.received.push({ method: c.req.method, path: url.pathname + url.search, body });
    }
    return next();
  });

  app.route(
    '/api/v1',
    cloudRoutes(state, { apiKey, origin: () => origin, guestAgentExposed: () => guestAgentExposed }),
  );
  app.route('/guest', guestRoutes(state));
  app.route('/app', appHealthRoutes(state));

  app.get('/pccs/*', async (c) => {
    const url = new URL(c.req.url);
    const upstream = await fetch(pccs.url + url.pathname.slice('/pccs'.length) + url.search);
    const headers = new Headers();
    for (const [name, value] of upstream.headers) {
      if (!['content-length', 'connection', 'keep-alive', 'transfer-encoding', 'date'].includes(name))
        headers.set(name, value);
    }
    return new Response(await upstream.arrayBuffer(), { status: upstream.status, headers });
  });

  app.get('/_sim/misbehave', (c) => c.json({ mode }));
  app.post('/_sim/misbehave', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ detail: 'Body must be JSON {"mode": name}.' }, 400);
    }
    try {
      setMisbehave(parseMisbehaveMode((body as { mode?: unknown } | null)?.mode));
    } catch (err) {
      return c.json({ detail: (err as Error).message }, 400);
    }
    return c.json({ mode });
  });
  app.get('/_sim/guest-agent', (c) => c.json({ exposed: guestAgentExposed }));
  app.post('/_sim/guest-agent', async (c) => {
    const body = (await c.req.json().catch(() => null)) as { exposed?: unknown } | null;
    if (typeof body?.exposed !== 'boolean')
      return c.json({ detail: 'Body must be JSON {"exposed": true|false}.' }, 400);
    guestAgentExposed = body.exposed;
    return c.json({ exposed: guestAgentExposed });
  });
  app.get('/_sim/received', (c) => c.json({ requests: state.received }));
  app.get('/_sim/env/:appId', (c) => {
    const appId = c.req.param('appId').toLowerCase();
    const env = state.envs.get(appId);
    return env ? c.json({ app_id: appId, env }) : c.json({ detail: 'This app received no env.' }, 404);
  });
  app.get('/_sim/test-root', (c) => c.json({ root_der_hex: toHex(pki.root.der) }));
  app.notFound((c) => c.json({ detail: 'Not found.' }, 404));

  const server = createAdaptorServer({ fetch: app.fetch, hostname: '127.0.0.1' }) as Server;
  let bound: AddressInfo;
  try {
    bound = await new Promise<AddressInfo>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  } catch (err) {
    await pccs.close();
    throw err;
  }
  origin = `http://127.0.0.1:${bound.port}`;

  return {
    apiUrl: `${origin}/api/v1`,
    pccsUrl: `${origin}/pccs`,
    guestBaseUrl: `${origin}/guest`,
    apiKey,
    testRootDer: pki.root.der,
    kms: { id: kms.id, slug: kms.slug, k256Pubkey: kms.k256Pubkey, caPubkey: kms.caPubkey },
    osImage: {
      name: osImage.name,
      version: osImage.version,
      osImageHash: osImage.osImageHash,
      measurement: { ...osImage.measurement },
    },
    misbehave: () => mode,
    setMisbehave,
    setGuestAgentExposed: (exposed) => {
      guestAgentExposed = exposed;
    },
    guestAgentExposed: () => guestAgentExposed,
    received: () => state.received.map((r) => ({ ...r })),
    envOf: (appId) => {
      const env = state.envs.get(appId.toLowerCase());
      return env ? env.map((e) => ({ ...e })) : null;
    },
    collateral: served,
    async close() {
      state.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pccs.close();
    },
  };
}

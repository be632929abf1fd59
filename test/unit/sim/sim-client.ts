/**
 * A minimal client of the CVM simulator for its tests: raw fetch calls in the documented wire shapes (no product
 * client, so the simulator's shapes are tested on their own), and evidence gathering as a sealing client does it.
 */
import { fromHex } from '../../../lib/bytes';
import { collateralNeeds } from '../../../lib/attest/collateral-needs';
import { fetchCollateral } from '../../../lib/attest/collateral-fetch';
import type { Collateral } from '../../../lib/attest/types';
import type { CvmSimulator } from '../../../sim/cvm';

export async function api<T = Record<string, unknown>>(
  sim: CvmSimulator,
  method: string,
  path: string,
  body?: unknown,
  apiKey: string | null = sim.apiKey,
): Promise<{ status: number; json: T }> {
  const headers: Record<string, string> = { 'X-Phala-Version': '2026-01-21' };
  if (apiKey !== null) headers['X-API-Key'] = apiKey;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(sim.apiUrl + path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}

export interface Provisioned {
  app_id: string;
  app_env_encrypt_pubkey: string;
  compose_hash: string;
  kms_id: string;
  os_image_hash: string;
  device_id: string;
  app_compose: string;
}

/** The CVM object fields these tests read. */
export interface SimCvmObject {
  id: string;
  app_id: string;
  status: string;
  instance_id: string;
  guest_agent_url?: string;
  kms_info: Record<string, string>;
}

export const DEMO_COMPOSE =
  'services:\n  agent:\n    image: ghcr.io/openclaw/openclaw:latest\n    environment:\n      - OPENAI_API_KEY\n';

export async function provision(
  sim: CvmSimulator,
  name = 'demo-agent',
  allowedEnvs = ['OPENAI_API_KEY', 'TELEGRAM_TOKEN'],
): Promise<Provisioned> {
  const res = await api<Provisioned>(sim, 'POST', '/cvms/provision', {
    name,
    instance_type: 'tdx.small',
    compose_file: {
      docker_compose_file: DEMO_COMPOSE,
      allowed_envs: allowedEnvs,
      gateway_enabled: true,
      kms_enabled: true,
      public_logs: false,
    },
    env_keys: allowedEnvs,
  });
  if (res.status !== 200) throw new Error(`provision failed: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

export interface GuestQuote {
  quote: Uint8Array;
  eventLog: string;
  reportData: string;
}

export async function getQuote(guestUrl: string, reportDataHex: string): Promise<GuestQuote> {
  const res = await fetch(`${guestUrl}/GetQuote?report_data=${reportDataHex}`);
  if (res.status !== 200) throw new Error(`GetQuote failed: ${res.status}`);
  const body = (await res.json()) as { quote: string; event_log: string; report_data: string };
  return { quote: fromHex(body.quote), eventLog: body.event_log, reportData: body.report_data };
}

/** Collateral for a quote, fetched from the simulator's PCCS in the Intel PCS v4 wire format. */
export function collateralFor(sim: CvmSimulator, quote: Uint8Array): Promise<Collateral> {
  return fetchCollateral(collateralNeeds(quote), { pccsUrl: sim.pccsUrl, retries: 0 });
}

/** POST /cvms without any env (the CVM boots without secrets), then waits until it runs: its guest agent answers. */
export async function createRunning(
  sim: CvmSimulator,
  p: Provisioned,
): Promise<SimCvmObject & { guest_agent_url: string }> {
  const created = await api<SimCvmObject>(sim, 'POST', '/cvms', { app_id: p.app_id, compose_hash: p.compose_hash });
  if (created.status !== 200) throw new Error(`create failed: ${created.status} ${JSON.stringify(created.json)}`);
  for (let i = 0; i < 400; i++) {
    const cvm = await api<SimCvmObject>(sim, 'GET', `/cvms/${created.json.id}`);
    if (cvm.json.status === 'running' && cvm.json.guest_agent_url)
      return cvm.json as SimCvmObject & { guest_agent_url: string };
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the CVM did not run in time');
}

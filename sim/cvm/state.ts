/**
 * In-memory state of the CVM simulator: provisioned apps, CVMs, the decrypted envs they received, the current
 * misbehaviour, and the evidence (event log, quote) each app's simulated TD produces. Everything a route needs
 * is computed here at request time, so switching the misbehaviour affects the very next answer.
 */
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { toHex, utf8Encode } from '../../lib/bytes';
import type { DstackEvent } from '../../lib/attest/types';
import { ClawkeepError, type SimErrorCode } from '../../lib/errors';
import { decryptEnv } from '../../lib/seal/env-decryption';
import type { EnvVar } from '../../lib/seal/env-encryption';
import { appComposeText, composeHashOf, type ComposeFileInput } from './app-compose';
import { buildEventLog, mrConfigIdFor, type CvmBootIdentity } from './event-log';
import type { TestKms, EnvKeySignature } from './kms';
import type { MisbehaveMode } from './misbehave';
import type { SimOsImage } from './os-image';
import { buildTdxQuote, type QuotingEnclave } from './quote';
import { SIM_TD_ATTRIBUTES } from './platform';

export type CvmStatus = 'creating' | 'starting' | 'running' | 'stopped' | 'deleting';

export interface ProvisionedApp {
  appId: string;
  name: string;
  appCompose: string;
  composeHash: string;
  allowedEnvs: string[];
  envKeys: string[];
  instanceType: string;
  deviceId: string;
  kmsId: string;
}

export interface SimCvm {
  id: string;
  appId: string;
  name: string;
  status: CvmStatus;
  createdAt: string;
  /** When the CVM last became running (ms), for uptime. */
  runningSince: number | null;
  instanceType: string;
  /** dstack's instance id of this CVM (20 bytes hex): measured as the instance-id event, reported by the API. */
  instanceId: string;
  /** What the CVM decrypted; empty when it was created without an env (it then waits for one). */
  env: EnvVar[];
  logs: string[];
  timer: ReturnType<typeof setTimeout> | null;
}

export interface ReceivedRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  /** Raw body text ('' when none). */
  body: string;
}

export interface TdEvidence {
  quote: Uint8Array;
  events: DstackEvent[];
  rtmrs: [string, string, string, string];
  mrtd: string;
  identity: CvmBootIdentity;
}

/** A request the simulator refuses: `status` is its HTTP answer, `detail` its body's `detail`. */
export class SimError extends ClawkeepError {
  declare readonly code: SimErrorCode;
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super('sim_refused', detail);
    this.name = 'SimError';
  }
}

const randomHex = (bytes: number): string => toHex(crypto.getRandomValues(new Uint8Array(bytes)));

export class SimState {
  misbehave: MisbehaveMode;
  readonly apps = new Map<string, ProvisionedApp>();
  readonly cvms = new Map<string, SimCvm>();
  readonly received: ReceivedRequest[] = [];
  /** Decrypted env per app id: the last env any CVM of the app received. */
  readonly envs = new Map<string, EnvVar[]>();

  constructor(
    readonly kms: TestKms,
    readonly osImage: SimOsImage,
    /** Quotes come from `stale` while `stale-collateral` is on (its platform's collateral is the expired set). */
    readonly quoting: { fresh: QuotingEnclave; stale: QuotingEnclave },
    readonly now: () => number,
    readonly startDelayMs: number,
    misbehave: MisbehaveMode,
  ) {
    this.misbehave = misbehave;
  }

  // ---- provisioning ------------------------------------------------------------------------------------------

  provision(
    name: string,
    compose: ComposeFileInput,
    envKeys: string[],
    instanceType: string,
    kmsId: string,
  ): ProvisionedApp {
    const appCompose = appComposeText(name, compose);
    const composeHash = composeHashOf(appCompose);
    // No on-chain KMS: the app id is the first 20 bytes of the compose hash (dstack's default).
    const appId = composeHash.slice(0, 40);
    const existing = this.apps.get(appId);
    const app: ProvisionedApp = {
      appId,
      name,
      appCompose,
      composeHash,
      allowedEnvs: [...compose.allowed_envs],
      envKeys: [...envKeys],
      instanceType,
      deviceId: existing?.deviceId ?? randomHex(32),
      kmsId,
    };
    this.apps.set(appId, app);
    return app;
  }

  app(appId: string): ProvisionedApp {
    const app = this.apps.get(appId.toLowerCase());
    if (!app) throw new SimError(404, `App ${appId.slice(0, 40)} is not provisioned.`);
    return app;
  }

  // ---- env keys ----------------------------------------------------------------------------------------------

  /** The env public key the API hands out for an app (the rogue one when `unbound-env-key`). */
  envPublicKey(appId: string): string {
    const pair = this.misbehave === 'unbound-env-key' ? this.kms.rogueEnvKeyPair(appId) : this.kms.envKeyPair(appId);
    return toHex(pair.publicKey);
  }

  /** What `GET /kms/{id}/pubkey/{app_id}` answers, per misbehaviour. */
  envKeyResponse(appId: string): { public_key: string } & Partial<EnvKeySignature> {
    const timestamp = Math.floor(this.now() / 1000);
    switch (this.misbehave) {
      case 'unsigned-env-key':
        return { public_key: this.envPublicKey(appId) };
      case 'unbound-env-key': {
        const rogue = this.kms.rogueEnvKeyPair(appId).publicKey;
        return { public_key: toHex(rogue), ...this.kms.signEnvKey(appId, rogue, timestamp, 'rogue') };
      }
      case 'bad-kms-signature': {
        const key = this.kms.envKeyPair(appId).publicKey;
        const signed = this.kms.signEnvKey(appId, key, timestamp);
        return {
          public_key: toHex(key),
          ...signed,
          signature: flipByte(signed.signature),
          signature_v1: flipByte(signed.signature_v1),
        };
      }
      default: {
        const key = this.kms.envKeyPair(appId).publicKey;
        return { public_key: toHex(key), ...this.kms.signEnvKey(appId, key, timestamp) };
      }
    }
  }

  /**
   * Opens an env sealed for the app, as its CVM would. The KMS-derived key is the CVM's; the rogue key stands
   * for whoever handed out an unbound key (it can read what was sealed to it).
   */
  async openEnv(appId: string, encryptedEnv: unknown): Promise<EnvVar[]> {
    if (typeof encryptedEnv !== 'string' || encryptedEnv.length === 0)
      throw new SimError(400, 'encrypted_env is required (hex).');
    for (const pair of [this.kms.envKeyPair(appId), this.kms.rogueEnvKeyPair(appId)]) {
      try {
        return await decryptEnv(encryptedEnv, pair.privateKey);
      } catch {
        // try the next key; undecryptable with every key is reported below
      }
    }
    throw new SimError(400, "encrypted_env does not decrypt with the app's env key.");
  }

  // ---- CVMs --------------------------------------------------------------------------------------------------

  /** A new CVM of the app; `env` null = created without any encrypted env (it boots and runs with an empty env). */
  createCvm(app: ProvisionedApp, env: EnvVar[] | null): SimCvm {
    const cvm: SimCvm = {
      id: randomHex(16),
      appId: app.appId,
      name: app.name,
      status: 'creating',
      createdAt: new Date(this.now()).toISOString(),
      runningSince: null,
      instanceType: app.instanceType,
      instanceId: randomHex(20),
      env: env ?? [],
      logs: [],
      timer: null,
    };
    this.cvms.set(cvm.id, cvm);
    this.log(cvm, `CVM ${cvm.name} created (app ${app.appId}, instance ${cvm.instanceId})`);
    if (env) {
      this.envs.set(app.appId, env);
      this.log(
        cvm,
        `encrypted env received: ${env.length} variable(s): ${env.map((e) => e.key).join(', ') || '(none)'}`,
      );
    } else {
      this.log(cvm, 'no encrypted env: booting with an empty env (app containers needing a variable wait for it)');
    }
    this.scheduleRunning(cvm, 'creating');
    return cvm;
  }

  /** By CVM id, `app_<app id>`, or name (as Phala Cloud accepts). */
  cvm(idOrName: string): SimCvm {
    const key = idOrName.toLowerCase();
    const byId = this.cvms.get(key);
    if (byId) return byId;
    const appId = key.startsWith('app_') ? key.slice(4) : null;
    for (const cvm of this.cvms.values()) {
      if ((appId && cvm.appId === appId) || cvm.name === idOrName) return cvm;
    }
    throw new SimError(404, 'CVM not found.');
  }

  /** The newest CVM of an app, if any. */
  cvmOfApp(appId: string): SimCvm | null {
    let found: SimCvm | null = null;
    for (const cvm of this.cvms.values()) if (cvm.appId === appId) found = cvm;
    return found;
  }

  /** Replaces the whole env (as dstack does) and applies it: the CVM goes `starting`, then `running` again. */
  updateEnv(cvm: SimCvm, env: EnvVar[]): void {
    cvm.env = env;
    this.envs.set(cvm.appId, env);
    this.log(cvm, `encrypted env updated: ${env.length} variable(s): ${env.map((e) => e.key).join(', ') || '(none)'}`);
    if (cvm.status === 'stopped') return;
    cvm.runningSince = null;
    this.log(cvm, 'restarting to apply the env');
    this.scheduleRunning(cvm, 'starting');
  }

  /** The app's CVM whose dstack guest agent answers: one that exists and runs (404 otherwise, like a TD not booted). */
  runningCvmOfApp(appId: string): SimCvm {
    this.app(appId);
    const key = appId.toLowerCase();
    let found: SimCvm | null = null;
    for (const cvm of this.cvms.values()) if (cvm.appId === key && cvm.status === 'running') found = cvm;
    if (!found) throw new SimError(404, 'No running CVM of this app: its guest agent does not answer.');
    return found;
  }

  start(cvm: SimCvm): void {
    if (cvm.status === 'running' || cvm.status === 'starting' || cvm.status === 'creating') return;
    this.log(cvm, 'starting');
    this.scheduleRunning(cvm, 'starting');
  }

  stop(cvm: SimCvm): void {
    this.clearTimer(cvm);
    cvm.status = 'stopped';
    cvm.runningSince = null;
    this.log(cvm, 'stopped');
  }

  restart(cvm: SimCvm): void {
    this.clearTimer(cvm);
    cvm.runningSince = null;
    this.log(cvm, 'restarting');
    this.scheduleRunning(cvm, 'starting');
  }

  delete(cvm: SimCvm): void {
    this.clearTimer(cvm);
    cvm.status = 'deleting';
    this.log(cvm, 'deleted');
    this.cvms.delete(cvm.id);
  }

  uptimeSeconds(cvm: SimCvm): number {
    return cvm.status === 'running' && cvm.runningSince !== null
      ? Math.max(0, Math.floor((this.now() - cvm.runningSince) / 1000))
      : 0;
  }

  close(): void {
    for (const cvm of this.cvms.values()) this.clearTimer(cvm);
  }

  private scheduleRunning(cvm: SimCvm, via: 'creating' | 'starting'): void {
    this.clearTimer(cvm);
    cvm.status = via;
    cvm.timer = setTimeout(() => {
      cvm.timer = null;
      cvm.status = 'running';
      cvm.runningSince = this.now();
      this.log(cvm, 'system-ready: dstack boot measured, app containers started');
      this.log(cvm, 'openclaw agent listening');
    }, this.startDelayMs);
  }

  private clearTimer(cvm: SimCvm): void {
    if (cvm.timer) clearTimeout(cvm.timer);
    cvm.timer = null;
  }

  private log(cvm: SimCvm, line: string): void {
    cvm.logs.push(`${new Date(this.now()).toISOString()} [cvm-simulator] ${line}`);
  }

  // ---- evidence ----------------------------------------------------------------------------------------------

  /** Per app: the genuine quote of an earlier instance that `replayed-quote` serves again and again. */
  private readonly replayed = new Map<string, TdEvidence>();

  /** What the CVM's TD measured and quotes, under the current misbehaviour. */
  async evidence(cvm: SimCvm, reportData: string): Promise<TdEvidence> {
    if (this.misbehave === 'replayed-quote') {
      const old =
        this.replayed.get(cvm.appId) ?? (await this.measure({ ...cvm, instanceId: randomHex(20) }, '00'.repeat(64)));
      this.replayed.set(cvm.appId, old);
      return old;
    }
    return this.measure(cvm, reportData);
  }

  private async measure(cvm: SimCvm, reportData: string): Promise<TdEvidence> {
    const app = this.app(cvm.appId);
    const identity: CvmBootIdentity = {
      appId: app.appId,
      // compose-mismatch: the TD booted a compose other than the one the API shows.
      composeHash:
        this.misbehave === 'compose-mismatch'
          ? toHex(sha256(utf8Encode(`${app.appCompose}\n# not what the API returned`)))
          : app.composeHash,
      instanceId: cvm.instanceId,
      osImageHash: this.osImage.osImageHash,
      kmsCaPubkey: this.kms.caPubkey,
    };
    const log = buildEventLog(this.osImage, identity);
    const mrtd =
      this.misbehave === 'wrong-measurement'
        ? toHex(sha384(utf8Encode('clawkeep-cvm-simulator/unpublished-image/mrtd')))
        : this.osImage.measurement.mrtd;
    const tdAttributes = this.misbehave === 'debug-td' ? setDebugBit(SIM_TD_ATTRIBUTES) : SIM_TD_ATTRIBUTES;
    const quote = await buildTdxQuote(this.misbehave === 'stale-collateral' ? this.quoting.stale : this.quoting.fresh, {
      mrTd: mrtd,
      rtmrs: log.rtmrs,
      mrConfigId: mrConfigIdFor(identity),
      reportData,
      tdAttributes,
    });
    return { quote, events: log.events, rtmrs: log.rtmrs, mrtd, identity };
  }
}

/** Flips one byte inside r of a 130-hex signature (r ‖ s ‖ v): still well-formed, no longer the KMS's. */
function flipByte(signatureHex: string): string {
  const at = 10 * 2;
  const flipped = (parseInt(signatureHex.slice(at, at + 2), 16) ^ 0xff).toString(16).padStart(2, '0');
  return signatureHex.slice(0, at) + flipped + signatureHex.slice(at + 2);
}

function setDebugBit(tdAttributesHex: string): string {
  const first = (parseInt(tdAttributesHex.slice(0, 2), 16) | 0x01).toString(16).padStart(2, '0');
  return first + tdAttributesHex.slice(2);
}

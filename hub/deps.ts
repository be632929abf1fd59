import type { HubIdentity } from './identity';
import type { IntentAdmission } from './intent-admission';
import type { HubLogger } from './logger';
import type { Limiter } from './rate-limit';
import type { HubStore } from './store/port';

/** What route modules receive. Everything with side effects is injected, so tests control time and storage. */
export interface HubDeps {
  store: HubStore;
  /** Milliseconds since the epoch; all expiry and audit times come from here. */
  now: () => number;
  logger: HubLogger;
  /** This hub's origin (`http://127.0.0.1:8787`): approval statements name it so they cannot be replayed elsewhere. */
  origin: string;
  version: string;
  /** The hub's Ed25519 identity key (hub/identity.ts): proves the hub to pinned clients, signs the audit head. */
  identity: HubIdentity;
  /** Per signing key (`human:<key id>`, `agent:<agent id>`), taken in hub/auth.ts once the signature verified. */
  signedLimiter: Limiter;
  /** How long one GET /v1/events stream lives before the hub ends it (routes/events.ts EVENTS_MAX_LIFETIME_MS). */
  eventStreamLifetimeMs: number;
  /** Turns for POST /v1/intents in this process (hub/intent-admission.ts): new work waits, work in progress does not. */
  intentAdmission: IntentAdmission;
}

import * as v from 'valibot';
import type { PendingApproval } from '../../openclaw/approvals';
import type { OperatorStatus } from '../../openclaw/client';
import { defineService, events, method, type ServiceApi } from '../rpc/service';

/** What pages see. Never the gateway token or the device token. */
export interface OpenClawState {
  unlocked: boolean;
  configured: boolean;
  url: string | null;
  /** A device token from an earlier pairing is kept. */
  paired: boolean;
  /** The person opted in to operator.admin (every agent's approvals); false = operator.approvals only. */
  allAgents: boolean;
  /** 'off' = not configured, locked, or disconnected by the user. */
  status: OperatorStatus | 'off';
  /** What went wrong last, with the one step the person takes (pairing command, allowlist command…). */
  problem: { code: string; title: string; action: string } | null;
  /** This extension's Origin, as the gateway sees it. */
  origin: string;
  deviceId: string | null;
  approvals: PendingApproval[];
}

/**
 * The OpenClaw gateway connection as extension pages reach it (rpc/service.ts): the connection lives in the
 * background. `OpenClawService` (openclaw-service.ts) implements it; pages get the generated proxy as {@link OpenClawApi}.
 */
export const OPENCLAW_SERVICE = defineService({
  channel: 'clawkeep.openclaw.rpc',
  name: 'the OpenClaw connection',
  events: events('clawkeep.openclaw.event'),
  methods: {
    state: method().returns<OpenClawState>(),
    /**
     * Stores URL + token encrypted in the vault and (re)connects. An empty token keeps the stored one. `allAgents`
     * asks the gateway for operator.admin too, to approve every agent's commands (default: operator.approvals only).
     */
    save: method(v.string(), v.string(), v.optional(v.boolean())).returns<OpenClawState>(),
    connect: method().returns<OpenClawState>(),
    disconnect: method().returns<OpenClawState>(),
    /** Removes the gateway settings from the vault. */
    forget: method().returns<OpenClawState>(),
    resolve: method(
      v.picklist(['exec', 'plugin']),
      v.string(),
      v.picklist(['allow-once', 'allow-always', 'deny']),
    ).returns<OpenClawState>(),
  },
});

/** The OpenClaw connection as extension pages use it; `subscribe` is called whenever its state changes. */
export type OpenClawApi = ServiceApi<typeof OPENCLAW_SERVICE>;

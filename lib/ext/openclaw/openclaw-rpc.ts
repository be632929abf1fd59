import type { ApprovalDecision, ApprovalKind, PendingApproval } from '../../openclaw/approvals';
import type { OperatorStatus } from '../../openclaw/client';
import { isChannelRequest, type ChannelRequest, type ChannelResponse } from '../rpc/rpc-channel';

/** Messages between extension pages and the background about the OpenClaw gateway. Plain JSON. */
export const OPENCLAW_RPC_CHANNEL = 'clawkeep.openclaw.rpc';
export const OPENCLAW_EVENT_CHANNEL = 'clawkeep.openclaw.event';

export const OPENCLAW_METHODS = ['state', 'save', 'connect', 'disconnect', 'forget', 'resolve'] as const;
export type OpenClawMethod = (typeof OPENCLAW_METHODS)[number];

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

export interface OpenClawApi {
  state(): Promise<OpenClawState>;
  /**
   * Stores URL + token encrypted in the vault and (re)connects. An empty token keeps the stored one. `allAgents`
   * asks the gateway for operator.admin too, to approve every agent's commands (default: operator.approvals only).
   */
  save(url: string, token: string, allAgents?: boolean): Promise<OpenClawState>;
  connect(): Promise<OpenClawState>;
  disconnect(): Promise<OpenClawState>;
  /** Removes the gateway settings from the vault. */
  forget(): Promise<OpenClawState>;
  resolve(kind: ApprovalKind, id: string, decision: ApprovalDecision): Promise<OpenClawState>;
  subscribe(listener: () => void): () => void;
}

/** The shared channel shapes (rpc-channel.ts), on this channel. */
export type OpenClawRpcRequest = ChannelRequest<OpenClawMethod>;
export type OpenClawRpcResponse = ChannelResponse;

export interface OpenClawEventMessage {
  channel: typeof OPENCLAW_EVENT_CHANNEL;
  type: 'openclaw-changed';
}

export function isOpenClawRpcRequest(message: unknown): message is OpenClawRpcRequest {
  return isChannelRequest(message, OPENCLAW_RPC_CHANNEL, OPENCLAW_METHODS);
}

export function isOpenClawEventMessage(message: unknown): message is OpenClawEventMessage {
  const m = message as OpenClawEventMessage | null;
  return !!m && m.channel === OPENCLAW_EVENT_CHANNEL && m.type === 'openclaw-changed';
}

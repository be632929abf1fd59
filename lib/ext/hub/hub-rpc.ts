import { isChannelRequest, type ChannelRequest, type ChannelResponse } from '../rpc/rpc-channel';

/** Messages between extension pages and the background about the hub. Plain JSON: no bytes travel this way. */
export const HUB_RPC_CHANNEL = 'clawkeep.hub.rpc';
export const HUB_EVENT_CHANNEL = 'clawkeep.hub.event';

export const HUB_METHODS = ['state', 'setHubUrl', 'enroll', 'lookupClaim', 'claim', 'refresh', 'revoke', 'enableInstallation', 'setPrefs', 'decide', 'revokeStandingApproval', 'denyAllFromAgent', 'activity', 'assignConfig', 'unassignConfig', 'lookupDevice', 'approveDevice', 'devices', 'removeDevice', 'startJoin', 'pollJoin', 'cancelJoin', 'finishJoin', 'denyDevice'] as const;
export type HubMethod = (typeof HUB_METHODS)[number];

/** The shared channel shapes (rpc-channel.ts), on this channel. */
export type HubRpcRequest = ChannelRequest<HubMethod>;
export type HubRpcResponse = ChannelResponse;

export interface HubEventMessage {
  channel: typeof HUB_EVENT_CHANNEL;
  type: 'hub-changed';
}

export function isHubRpcRequest(message: unknown): message is HubRpcRequest {
  return isChannelRequest(message, HUB_RPC_CHANNEL, HUB_METHODS);
}

export function isHubEventMessage(message: unknown): message is HubEventMessage {
  const m = message as HubEventMessage | null;
  return !!m && m.channel === HUB_EVENT_CHANNEL && m.type === 'hub-changed';
}

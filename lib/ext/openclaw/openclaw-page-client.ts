import { relayedCode } from '../../errors';
import { OpenClawError } from '../../openclaw/errors';
import { channelCaller, subscribeTo } from '../rpc/rpc-channel';
import { isOpenClawEventMessage, OPENCLAW_RPC_CHANNEL, type OpenClawApi, type OpenClawMethod } from './openclaw-rpc';

const call = channelCaller<OpenClawMethod>(OPENCLAW_RPC_CHANNEL, (code, message, cause) => new OpenClawError(relayedCode(code), message, cause === undefined ? undefined : { cause }));

/** The OpenClawApi for extension pages: the connection lives in the background. */
export function createExtensionOpenClawApi(): OpenClawApi {
  return {
    state: () => call('state'),
    save: (url, token, allAgents) => call('save', { url, token, allAgents: allAgents === true }),
    connect: () => call('connect'),
    disconnect: () => call('disconnect'),
    forget: () => call('forget'),
    resolve: (kind, id, decision) => call('resolve', { kind, id, decision }),
    subscribe: (listener) => subscribeTo(isOpenClawEventMessage, listener),
  };
}

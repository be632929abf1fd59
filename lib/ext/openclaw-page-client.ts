import { browser } from 'wxt/browser';
import { OpenClawError } from '../openclaw/errors';
import { isOpenClawEventMessage, OPENCLAW_RPC_CHANNEL, type OpenClawApi, type OpenClawMethod, type OpenClawRpcResponse } from './openclaw-rpc';

async function call<T>(method: OpenClawMethod, args: Record<string, unknown> | null = null): Promise<T> {
  let response: OpenClawRpcResponse | undefined;
  try {
    response = await browser.runtime.sendMessage({ channel: OPENCLAW_RPC_CHANNEL, method, args });
  } catch (err) {
    throw new OpenClawError('rpc_failed', 'Could not reach the Clawkeep background. Reload the extension and try again.', { cause: err });
  }
  if (!response) throw new OpenClawError('rpc_failed', 'The Clawkeep background did not answer.');
  if (!response.ok) throw new OpenClawError(response.error.code, response.error.message);
  return response.value as T;
}

/** The OpenClawApi for extension pages: the connection lives in the background. */
export function createExtensionOpenClawApi(): OpenClawApi {
  return {
    state: () => call('state'),
    save: (url, token) => call('save', { url, token }),
    connect: () => call('connect'),
    disconnect: () => call('disconnect'),
    forget: () => call('forget'),
    resolve: (kind, id, decision) => call('resolve', { kind, id, decision }),
    subscribe(listener) {
      const onMessage = (message: unknown) => {
        if (isOpenClawEventMessage(message)) listener();
      };
      browser.runtime.onMessage.addListener(onMessage);
      return () => browser.runtime.onMessage.removeListener(onMessage);
    },
  };
}

import { browser } from 'wxt/browser';
import type { HubApi } from '../hub-client/api';
import { HubClientError } from '../hub-client/errors';
import { HUB_RPC_CHANNEL, isHubEventMessage, type HubMethod, type HubRpcResponse } from './hub-rpc';

async function call<T>(method: HubMethod, args: Record<string, unknown> | null = null): Promise<T> {
  let response: HubRpcResponse | undefined;
  try {
    response = await browser.runtime.sendMessage({ channel: HUB_RPC_CHANNEL, method, args });
  } catch (err) {
    throw new HubClientError('rpc_failed', 'Could not reach the Clawkeep background. Reload the extension and try again.', { cause: err });
  }
  if (!response) throw new HubClientError('rpc_failed', 'The Clawkeep background did not answer.');
  if (!response.ok) throw new HubClientError(response.error.code, response.error.message);
  return response.value as T;
}

/** The HubApi for extension pages: every call runs in the background, which holds the device key. */
export function createExtensionHubApi(): HubApi {
  return {
    state: () => call('state'),
    setHubUrl: (hubUrl) => call('setHubUrl', { hubUrl }),
    enroll: (enrollmentCode) => call('enroll', { enrollmentCode }),
    lookupClaim: (claimCode) => call('lookupClaim', { claimCode }),
    claim: (claimCode, grantedScopes, policy) => call('claim', { claimCode, grantedScopes, ...(policy ? { policy } : {}) }),
    refresh: () => call('refresh'),
    revoke: (installationId) => call('revoke', { installationId }),
    enableInstallation: (installationId) => call('enableInstallation', { installationId }),
    setPrefs: (prefs) => call('setPrefs', { ...prefs }),
    decide: (intentId, payloadHash, decision, remember) => call('decide', { intentId, payloadHash, decision, ...(remember ? { remember: true } : {}) }),
    revokeStandingApproval: (id) => call('revokeStandingApproval', { id }),
    denyAllFromAgent: (agentId) => call('denyAllFromAgent', { agentId }),
    activity: (before) => call('activity', before === undefined ? null : { before }),
    subscribe(listener) {
      const onMessage = (message: unknown) => {
        if (isHubEventMessage(message)) listener();
      };
      browser.runtime.onMessage.addListener(onMessage);
      return () => browser.runtime.onMessage.removeListener(onMessage);
    },
  };
}

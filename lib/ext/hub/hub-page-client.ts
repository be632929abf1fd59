import type { HubApi } from '../../hub-client/api';
import { relayedCode } from '../../errors';
import { HubClientError } from '../../hub-client/errors';
import { HUB_RPC_CHANNEL, isHubEventMessage, type HubMethod } from './hub-rpc';
import { channelCaller, subscribeTo } from '../rpc/rpc-channel';

const call = channelCaller<HubMethod>(HUB_RPC_CHANNEL, (code, message, cause) => new HubClientError(relayedCode(code), message, cause === undefined ? undefined : { cause }));

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
    assignConfig: (configId, installationId) => call('assignConfig', { configId, installationId }),
    unassignConfig: (installationId) => call('unassignConfig', { installationId }),
    activity: (before) => call('activity', before === undefined ? null : { before }),
    lookupDevice: (code) => call('lookupDevice', { code }),
    approveDevice: (pairingId) => call('approveDevice', { pairingId }),
    denyDevice: (pairingId) => call('denyDevice', { pairingId }),
    devices: () => call('devices'),
    removeDevice: (deviceKeyId) => call('removeDevice', { deviceKeyId }),
    subscribe: (listener) => subscribeTo(isHubEventMessage, listener),
  };
}

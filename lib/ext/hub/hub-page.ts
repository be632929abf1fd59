import { createServiceProxy } from '../rpc/service-proxy';
import { HUB_SERVICE, type HubApi } from './hub-api';
import { requestHubAccess } from './host-access';

/**
 * The hub service as extension pages use it: the background's proxy, except that the two calls that point this
 * device at a hub (saving the hub URL, starting a pairing with a hub) first ask the browser for that hub's host
 * permission (issue 16, "Reachable"). `requestHubAccess` runs synchronously inside the call, so a component that
 * calls `setHubUrl` / `startJoin` straight from its click or submit handler, before any `await`, keeps the user
 * gesture the browser's prompt needs. A refusal rejects with `hub_permission_refused` and nothing reaches the
 * background: nothing is saved, no pairing starts.
 */
export function createHubPageApi(): HubApi {
  const api = createServiceProxy(HUB_SERVICE);
  return {
    ...api,
    setHubUrl: (hubUrl) => requestHubAccess(hubUrl).then(() => api.setHubUrl(hubUrl)),
    startJoin: (hubUrl, name) => requestHubAccess(hubUrl).then(() => api.startJoin(hubUrl, name)),
  };
}

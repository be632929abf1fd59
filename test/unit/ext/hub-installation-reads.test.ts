// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { FetchLike } from '../../../lib/agent';
import { realHubService } from './real-hub-service';

// Stop 29's CI: the Agents tab kept showing an agent as active after five denials locked it. Reads of the hub's
// installation list overlap (each denial, the stream's start, an unknown installation begin one); here the network
// holds the first read's answer (the hub answered "active") until a read begun after the lock has answered.

/** The real hub, except that the next GET /v1/installations answer is held until `release()`. */
function holdingNextList(app: FetchLike) {
  let holding = false;
  let release: () => void = () => {};
  const fetch: FetchLike = async (url, init) => {
    const answer = await app(url, init);
    const isList = new URL(String(url)).pathname === '/v1/installations' && (init?.method ?? 'GET') === 'GET';
    if (isList && holding) {
      holding = false;
      await new Promise<void>((resolve) => (release = resolve));
    }
    return answer;
  };
  return {
    fetch,
    hold: () => void (holding = true),
    release: () => release(),
  };
}

describe('the background keeps the newest installation list', () => {
  it('an older read answering last does not show a locked agent as active again', async () => {
    let network!: ReturnType<typeof holdingNextList>;
    const { svc, hub, claimAgent } = await realHubService([], {
      serviceFetch: (h) => {
        network = holdingNextList(async (url, init) => h.app.request(url, init));
        return network.fetch;
      },
    });
    const { installation_id } = await claimAgent('deny-bot', ['action:action.approve']);
    await svc.refreshInstallations();
    const status = async () => (await svc.state()).installations.find((i) => i.installation_id === installation_id);
    expect((await status())?.status).toBe('active');

    network.hold();
    const older = svc.refreshInstallations(); // the hub answers "active"; the answer is held on the way
    await new Promise((r) => setTimeout(r, 20));
    await hub.store.installations.setStatus(installation_id, 'locked', hub.clock.now);
    await svc.refreshInstallations(); // begun after the lock
    expect((await status())?.status).toBe('locked');

    network.release();
    await older;
    expect((await status())?.status).toBe('locked');
  });

  it('a read still in flight when the vault locks does not put the list back', async () => {
    let network!: ReturnType<typeof holdingNextList>;
    const { svc, claimAgent } = await realHubService([], {
      serviceFetch: (h) => {
        network = holdingNextList(async (url, init) => h.app.request(url, init));
        return network.fetch;
      },
    });
    await claimAgent('lock-bot', ['action:action.approve']);
    network.hold();
    const inFlight = svc.refreshInstallations();
    await new Promise((r) => setTimeout(r, 20));
    await svc.stop(true);
    network.release();
    await inFlight;
    // What the hub said is part of what the open vault allowed; a lock forgets it.
    expect((svc as unknown as { core: { hubInstallations: unknown } }).core.hubInstallations).toBeNull();
  });
});

// Child process of bench/hub-load.mjs: the human side. Each enrolled device (a real Ed25519 device key, signing
// with lib/hub-client HubClient like the extension's background does) streams GET /v1/events from "its" instance
// and approves every pending intent of its account with a signed CKAP approval (lib/protocol/approval.ts
// signApproval, the statement lib/ext/approvals/hub-decision.ts signs on a click). A poll of the pending list every
// few seconds catches anything a stream missed (a killed instance, a reconnect).
//
// Protocol (IPC): parent sends {type:'run', …}, later {type:'stop'}; child answers {type:'done', …}.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { intentsInEvent } from './load-events.mjs';
import { newWireStats, routedFetch } from './load-net.mjs';
import { importTs } from './ts.mjs';

const wallMs = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Decisions one device has in flight at most (a person's extension sends one per click; this is generous). */
const IN_FLIGHT_PER_DEVICE = 8;
const SAFETY_POLL_MS = 5000;
const MAX_TRIES = 20;

const [{ HubClient }, { signApproval }, { ed25519 }, { deviceKeyId }, { fromHex }, { ed25519SignerFromSeed }] =
  await importTs(
    'lib/hub-client/client.ts',
    'lib/protocol/approval.ts',
    'node_modules/@noble/curves/ed25519.js',
    'lib/protocol/keys.ts',
    'lib/bytes.ts',
    'lib/protocol/ed25519.ts',
  );

let stopping = null;
process.on('message', async (m) => {
  if (m?.type === 'run') {
    const result = await run(m);
    process.send({ type: 'done', ...result }, () => process.exit(0));
  } else if (m?.type === 'stop') stopping?.();
});
process.send({ type: 'ready' });

async function run({ publicOrigin, ports, devices }) {
  const wire = newWireStats();
  const decisions = []; // [intentId, tClick, tAnswered, outcome]
  const errors = {};
  const count = (k) => (errors[k] = (errors[k] ?? 0) + 1);
  let stopped = false;
  const stopSignal = new Promise((r) => (stopping = r));
  let streamsOpened = 0;
  let events = 0;
  let eventBytes = 0;
  let listFetches = 0;
  const signMs = { max: 0, over1s: 0 }; // how long request signing waited (WebCrypto runs on libuv's thread pool)

  const device = (d, a) => {
    const privateKey = fromHex(d.privateKey);
    const keyId = deviceKeyId(ed25519.getPublicKey(privateKey));
    // Requests are signed on WebCrypto, as the extension's non-extractable device key signs them.
    const webCryptoKey = ed25519SignerFromSeed(privateKey);
    const signer = {
      role: 'human',
      keyId,
      sign: async (m) => {
        const t0 = wallMs();
        try {
          return await webCryptoKey.sign(m);
        } finally {
          const took = wallMs() - t0;
          signMs.max = Math.max(signMs.max, took);
          if (took > 1000) signMs.over1s++;
        }
      },
    };
    const address = `127.0.4.${1 + a}`;
    // The stream stays on one instance (device a on instance a mod I) and moves on only if that one refuses.
    const home = a % ports.length;
    const streamPorts = [...ports.slice(home), ...ports.slice(0, home)];
    const streamClient = new HubClient({
      hub: publicOrigin,
      signer,
      fetch: routedFetch({
        publicOrigin,
        ports: () => streamPorts,
        localAddress: address,
        stats: wire,
        start: () => 0,
      }),
    });
    const client = new HubClient({
      hub: publicOrigin,
      signer,
      fetch: routedFetch({ publicOrigin, ports: () => ports, localAddress: address, stats: wire }),
    });
    const seen = new Set(); // decided or being decided
    const queue = [];
    let inFlight = 0;

    const decideOne = async (intent) => {
      for (let tries = 1; ; tries++) {
        // The approval is the attempt the hub accepts: approve→agent is timed from when that one was sent. A 429
        // from this device's own budget (240 + 4/s per hub process, hub/app.ts) is a refused attempt, not an
        // approval; the waits it causes are counted as `decide rate_limited`, not hidden in the hub's latency.
        const tClick = wallMs();
        const approval = signApproval(privateKey, {
          hub: publicOrigin,
          intent_id: intent.intent_id,
          payload_hash: intent.payload_hash,
          decision: 'approve',
          installation_id: intent.installation_id,
          agent_nonce: intent.agent_nonce,
          time: Date.now(),
        });
        try {
          await client.decide(intent.intent_id, { approval });
          decisions.push([intent.intent_id, tClick, wallMs(), 'approved']);
          return;
        } catch (err) {
          const code = err?.code ?? 'unknown';
          count(`decide ${code}`);
          // Busy or away: again, bounded. Anything else (decided elsewhere, expired) is final for this intent.
          const again = code === 'rate_limited' || code === 'hub_unreachable' || code === 'internal';
          if (!again || tries >= MAX_TRIES || stopped) {
            decisions.push([intent.intent_id, tClick, wallMs(), code]);
            return;
          }
          await sleep(code === 'rate_limited' ? 1000 : 300);
        }
      }
    };
    const pump = () => {
      while (inFlight < IN_FLIGHT_PER_DEVICE && queue.length > 0) {
        const intent = queue.shift();
        inFlight++;
        void decideOne(intent).finally(() => {
          inFlight--;
          pump();
        });
      }
    };
    const consider = (intents) => {
      for (const it of intents) {
        if (it.status !== 'pending' || seen.has(it.intent_id)) continue;
        seen.add(it.intent_id);
        queue.push(it);
      }
      pump();
    };
    let listing = null;
    let listAgain = false;
    const readList = () => {
      if (listing) {
        listAgain = true;
        return;
      }
      listing = (async () => {
        do {
          listAgain = false;
          listFetches++;
          try {
            consider(await client.pendingIntents());
          } catch (err) {
            count(`list ${err?.code ?? 'unknown'}`);
          }
        } while (listAgain && !stopped);
      })().finally(() => (listing = null));
    };

    const streamLoop = async () => {
      let backoff = 250;
      let ac = null;
      void stopSignal.then(() => ac?.abort());
      while (!stopped) {
        ac = new AbortController();
        try {
          await streamClient.events(
            (ev) => {
              events++;
              eventBytes += ev.data.length;
              const { intents, complete } = intentsInEvent(ev.data);
              consider(intents);
              if (!complete) readList();
            },
            {
              signal: ac.signal,
              onOpen: () => {
                streamsOpened++;
                backoff = 250;
              },
            },
          );
        } catch (err) {
          if (stopped) break;
          count(`stream ${err?.code ?? err?.cause?.code ?? 'error'}`);
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 2000);
        }
      }
    };
    const pollLoop = async () => {
      while (!stopped) {
        await Promise.race([sleep(SAFETY_POLL_MS), stopSignal]);
        if (!stopped) readList();
      }
    };
    return Promise.all([streamLoop(), pollLoop()]).then(async () => {
      for (let i = 0; i < 100 && (inFlight > 0 || listing); i++) await sleep(100);
    });
  };

  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const running = devices.map(device);
  await stopSignal;
  stopped = true;
  await Promise.all(running);
  const cpu = process.cpuUsage(cpu0);
  lag.disable();
  return {
    decisions,
    errors,
    wire,
    streamsOpened,
    events,
    eventBytes,
    listFetches,
    signMs,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    loopLagP99Ms: lag.percentile(99) / 1e6,
  };
}

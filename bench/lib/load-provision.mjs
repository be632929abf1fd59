// Provisioning for the load harness (bench/hub-load.mjs): A enrolled devices (one account each) and T agents, each
// registered with the real agent SDK and claimed by a device with a real signed claim, then pinned (the agent
// verified its claim: AgentClient.status). Untimed. Everything goes through the hub's HTTP routes and respects
// their limits, which are in memory per hub process (hub/rate-limit.ts):
//  - enrolment: 5 per client address per start → each device enrols from its own loopback address 127.0.1.x;
//  - registration: 10 per client address per start → agents register from 127.0.2.x, 10 per address;
//  - claims: 10 per account per start → rounds of 10 claims per account, restarting the hub between rounds on the
//    same port and data (an operator's restart, which starts the limiters afresh: hub/rate-limit.ts says so).
// Enrollment codes beyond the first (printed by the hub) are issued through the hub's store, the way
// test/unit/hub/flow.ts extraEnrollmentCode and bench/lib/hub-process.mjs do.
import pg from 'pg';
import { routedFetch } from './load-net.mjs';
import { importTsKeepingLoader } from './ts.mjs';

export const CLAIMS_PER_ACCOUNT_PER_START = 10; // hub/routes/claims.ts limiter burst
const REGISTRATIONS_PER_ADDRESS_PER_START = 10; // hub/routes/agents.ts limiter burst
const PARALLEL = 12;

/** The product modules the harness drives (TypeScript through tsx, as bin/clawkeep.mjs runs them). */
export async function loadLib() {
  const [agent, hubClient, approval, keys, claimCode, { ed25519 }, open, enrollment, bytes] =
    await importTsKeepingLoader(
      'lib/agent/index.ts',
      'lib/hub-client/client.ts',
      'lib/protocol/approval.ts',
      'lib/protocol/keys.ts',
      'lib/protocol/claim-code.ts',
      'node_modules/@noble/curves/ed25519.js',
      'hub/store/open.ts',
      'hub/enrollment.ts',
      'lib/bytes.ts',
    );
  return {
    AgentClient: agent.AgentClient,
    HubClient: hubClient.HubClient,
    signClaim: approval.signClaim,
    signApproval: approval.signApproval,
    deviceKeyId: keys.deviceKeyId,
    encodePublicKey: keys.encodePublicKey,
    claimCodeHash: claimCode.claimCodeHash,
    ed25519,
    openStore: open.openStore,
    parseStoreLocation: open.parseStoreLocation,
    enrollmentCodeHash: enrollment.enrollmentCodeHash,
    generateEnrollmentCode: enrollment.generateEnrollmentCode,
    toHex: bytes.toHex,
    fromHex: bytes.fromHex,
  };
}

/** A device client signing with a raw Ed25519 key (the extension's is a non-extractable CryptoKey; same bytes). */
export function deviceClient(lib, { privateKey, publicOrigin, fetch }) {
  const publicKey = lib.ed25519.getPublicKey(privateKey);
  const keyId = lib.deviceKeyId(publicKey);
  const client = new lib.HubClient({
    hub: publicOrigin,
    fetch,
    signer: { role: 'human', keyId, sign: async (m) => lib.ed25519.sign(m, privateKey) },
  });
  return { client, keyId, publicKey };
}

/** Runs `fn` over `items` with at most `n` at a time. */
export async function pool(items, n, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

/**
 * @param {object} o
 * @param {import('./load-hubs.mjs').HubInstance} o.hub  the instance provisioning goes through (restarted between rounds)
 * @returns {Promise<{ devices: {privateKey: string, keyId: string}[], agents: {state: object, account: number}[], rounds: number, ms: number }>}
 */
/**
 * What a restart does to in-memory limiters, for PostgreSQL, whose rate-limit buckets are shared rows that outlive
 * a restart (hub/store/postgres.ts): the operator empties the table. Provisioning only, never in a timed window.
 */
export async function resetLimits(storeLocation) {
  if (storeLocation.engine !== 'postgres') return;
  const client = new pg.Client({ connectionString: storeLocation.url });
  await client.connect();
  try {
    await client.query('DELETE FROM rate_buckets');
  } finally {
    await client.end();
  }
}

export async function provision({ lib, hub, storeLocation, devices: A, agents: T, publicOrigin, stats, say }) {
  const t0 = performance.now();
  const ports = () => [hub.port];
  if (!hub.enrollmentCode) throw new Error('provision: the hub printed no enrollment code (not a fresh database?)');
  const codes = [hub.enrollmentCode];
  if (A > 1) {
    const store = await lib.openStore(storeLocation);
    try {
      for (let a = 1; a < A; a++) {
        const code = lib.generateEnrollmentCode();
        await store.enrollment.create(lib.enrollmentCodeHash(code), Date.now());
        codes.push(code);
      }
    } finally {
      await store.close();
    }
  }
  if (A > 250) throw new Error('provision: at most 250 devices (one loopback address each)');
  const devices = [];
  for (let a = 0; a < A; a++) {
    const privateKey = lib.ed25519.utils.randomSecretKey();
    const fetch = routedFetch({ publicOrigin, ports, localAddress: `127.0.1.${1 + a}`, stats });
    const d = deviceClient(lib, { privateKey, publicOrigin, fetch });
    await d.client.enroll(codes[a], d.publicKey);
    devices.push({ ...d, privateKey });
  }
  const agents = new Array(T);
  const perRound = CLAIMS_PER_ACCOUNT_PER_START * A;
  let rounds = 0;
  for (let done = 0; done < T; done += perRound) {
    if (rounds > 0) {
      await hub.restart();
      await resetLimits(storeLocation);
    }
    rounds++;
    const batch = Array.from({ length: Math.min(perRound, T - done) }, (_, i) => done + i);
    await pool(batch, PARALLEL, async (g, i) => {
      const account = g % A;
      const device = devices[account];
      const fetch = routedFetch({
        publicOrigin,
        ports,
        localAddress: `127.0.2.${1 + Math.floor(i / REGISTRATIONS_PER_ADDRESS_PER_START)}`,
        stats,
      });
      const client = new lib.AgentClient({ fetch });
      const reg = await client.register({
        hub: publicOrigin,
        name: `load-${g}`,
        manifest: { markdown: '# load harness agent' },
        requestedScopes: ['action:action.approve'],
      });
      const pub = client.publicKeys;
      // What the extension signs when a human claims (lib/ext/hub/hub-claim.ts), with the default policy: every
      // action.approve needs the device's signed decision.
      await device.client.claim(
        lib.signClaim(device.privateKey, {
          hub: publicOrigin,
          agent_id: reg.agent_id,
          agent_signing_key: pub.signing_key,
          agent_box_key: pub.box_key,
          claim_code_hash: lib.claimCodeHash(reg.claim_code),
          granted_scopes: ['action:action.approve'],
          policy: {
            approval_required: ['action.approve', 'message.send', 'payment.send', 'secret.request', 'shell.exec'],
            daily_limit: null,
          },
          installation_id: `ins_${Buffer.from(lib.ed25519.utils.randomSecretKey().subarray(0, 16)).toString('base64url')}`,
          device_key: lib.encodePublicKey(device.publicKey),
          time: Date.now(),
        }),
      );
      // The agent verifies the claim and pins the device key, as `clawkeep agent status` does.
      const st = await client.status();
      if (st.status !== 'claimed' || !st.pinned_now) throw new Error(`agent ${g} not claimed: ${st.status}`);
      agents[g] = { state: client.state, account };
    });
    say?.(`provisioned ${Math.min(done + perRound, T)}/${T} agents (round ${rounds})`);
  }
  return {
    devices: devices.map((d) => ({ privateKey: lib.toHex(d.privateKey), keyId: d.keyId })),
    agents,
    rounds,
    ms: performance.now() - t0,
  };
}

import { parseCommandOptions, UsageError, type Command } from '../command';
import { catchSignal } from '../signals';
import { toHex } from '../../lib/bytes';
import { MISBEHAVIOURS, parseMisbehaveMode, startCvmSimulator } from '../../sim/cvm';
import { parsePort } from './web';

/** Default port of `clawkeep sim`: a fixed one, so a wizard pointed at it keeps working across restarts. */
export const DEFAULT_SIM_PORT = 8790;

export const simCommand: Command = {
  name: 'sim',
  summary: 'run the CVM simulator (TEST ONLY: fake Phala Cloud + dstack CVM) on 127.0.0.1',
  usage: [
    'Usage: clawkeep sim [--port N] [--misbehave MODE] [--api-key KEY]',
    '',
    `  --port N          port on 127.0.0.1 (default ${DEFAULT_SIM_PORT}; 0 picks a free port)`,
    `  --misbehave MODE  one of: ${MISBEHAVIOURS.join(', ')} (default: none)`,
    '  --api-key KEY     the X-API-Key it accepts (default: sim-key)',
    '',
    'A SIMULATOR for tests and demos: it speaks the Phala Cloud API shapes and the dstack guest API, and signs',
    'its quotes with a TEST PKI generated at start. Only a verifier given its test root (printed below) accepts',
    'them; Intel-rooted (production) verification refuses them. Stops on SIGINT/SIGTERM.',
  ].join('\n'),
  async run(argv) {
    const values = parseCommandOptions(this, argv, {
      port: { type: 'string' },
      misbehave: { type: 'string' },
      'api-key': { type: 'string' },
    });
    if (!values) return 0;
    const port = values.port === undefined ? DEFAULT_SIM_PORT : parsePort(values.port);
    let misbehave;
    try {
      misbehave = parseMisbehaveMode(values.misbehave);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (values['api-key'] !== undefined && !/^[\x21-\x7e]{1,200}$/.test(values['api-key'])) {
      throw new UsageError('--api-key must be 1-200 printable characters without spaces');
    }
    const signal = catchSignal();
    let sim;
    try {
      sim = await startCvmSimulator({
        port,
        misbehave,
        ...(values['api-key'] !== undefined ? { apiKey: values['api-key'] } : {}),
      });
    } catch (err) {
      signal.dispose();
      throw err;
    }
    const origin = sim.apiUrl.replace(/\/api\/v1$/, '');
    console.log('CVM SIMULATOR (test only: not Phala Cloud, not a TEE; quotes chain to a TEST root, never Intel)');
    console.log(`api:       ${sim.apiUrl}`);
    // Never echo a credential, even a test one: say where it comes from instead.
    // Never the credential itself, not even the simulator's default: only where it comes from.
    const credentialSource = `X-API-Key ${values['api-key'] !== undefined ? 'as given with --api-key' : 'the simulator default (see --help)'}`;
    console.log(`auth:      ${credentialSource}`);
    console.log(`pccs:      ${sim.pccsUrl}`);
    console.log(`guest:     ${sim.guestBaseUrl}/<app_id>`);
    console.log(`controls:  ${origin}/_sim/{misbehave,received,env/<app_id>,test-root}`);
    console.log(`misbehave: ${sim.misbehave()}`);
    // Public: the test KMS signer's compressed secp256k1 public key, to pin in the Deploy tab's trust settings.
    const kmsSigner = sim.kms.k256Pubkey;
    console.log(`kms:       signer ${kmsSigner}`);
    console.log(`test root: ${toHex(sim.testRootDer)}`);
    console.log(`listening on ${origin}`);
    await signal.received;
    await sim.close();
    return 0;
  },
};

import { readFileSync } from 'node:fs';
import { UsageError, type Command } from './command';
import { agentCommand } from './commands/agent';
import { auditCommand } from './commands/audit';
import { hubCommand } from './commands/hub';
import { openclawSecretCommand } from './commands/openclaw-secret';
import { sealCommand } from './commands/seal';
import { simCommand } from './commands/sim';
import { verifyQuoteCommand } from './commands/verify-quote';
import { webCommand } from './commands/web';
import { useNodeEd25519 } from '../hub/ed25519-node';

/** Add later subcommands (agent, verify-quote, seal) here, one module each under `bin/commands/`. */
export const COMMANDS: readonly Command[] = [
  webCommand,
  hubCommand,
  auditCommand,
  agentCommand,
  openclawSecretCommand,
  verifyQuoteCommand,
  sealCommand,
  simCommand,
];

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: clawkeep <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show this help (or `clawkeep <command> --help`)',
    '  -v, --version  print the version',
  ].join('\n');
}

/** Runs the CLI and resolves with the exit code: 0 ok, 1 failure, 2 usage error. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const out = first === undefined ? console.error : console.log;
    out(usage());
    return first === undefined ? 2 : 0;
  }
  if (first === '-v' || first === '--version') {
    console.log(version());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    console.error(`clawkeep: unknown command "${first}"\n\n${usage()}`);
    return 2;
  }
  useNodeEd25519(); // the agent's checks of approvals and hub statements, at OpenSSL's speed
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`clawkeep ${command.name}: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    console.error(`clawkeep ${command.name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

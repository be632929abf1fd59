import type {
  AccountDeviceRepo,
  AccountRepo,
  AgentConfigRepo,
  AgentRepo,
  AuditRepo,
  EnrollmentRepo,
  InstallationRepo,
  IntentRepo,
  MetaRepo,
  NonceRepo,
  PairingRepo,
  SealedSecretRepo,
  VaultRepo,
  WatchTokenRepo,
} from '../port';
import type { SqlExecutor } from './executor';
import { SqlAccounts, SqlEnrollment } from './people';
import { SqlAgents, SqlInstallations } from './agents';
import { SqlIntents, SqlSealedSecrets } from './intents';
import { SqlAudit, SqlNonces } from './log';
import { SqlAgentConfigs } from './configs';
import { SqlDevices, SqlPairings } from './devices';
import { SqlVault } from './vault';
import { SqlWatchTokens } from './watch';
import { SqlMeta } from './meta';

/**
 * Every repository of the port (hub/store/port.ts), written once over an engine's SqlExecutor. Each engine's store
 * extends this and adds what differs: how a transaction is made exclusive, migrations, closing.
 */
export abstract class SqlRepos {
  readonly accounts: AccountRepo;
  readonly enrollment: EnrollmentRepo;
  readonly agents: AgentRepo;
  readonly installations: InstallationRepo;
  readonly intents: IntentRepo;
  readonly sealedSecrets: SealedSecretRepo;
  readonly agentConfigs: AgentConfigRepo;
  readonly vault: VaultRepo;
  readonly nonces: NonceRepo;
  readonly audit: AuditRepo;
  readonly devices: AccountDeviceRepo;
  readonly pairings: PairingRepo;
  readonly watchTokens: WatchTokenRepo;
  readonly meta: MetaRepo;

  protected constructor(sql: SqlExecutor) {
    this.accounts = new SqlAccounts(sql);
    this.enrollment = new SqlEnrollment(sql);
    this.agents = new SqlAgents(sql);
    this.installations = new SqlInstallations(sql);
    this.intents = new SqlIntents(sql);
    this.sealedSecrets = new SqlSealedSecrets(sql);
    this.agentConfigs = new SqlAgentConfigs(sql);
    this.vault = new SqlVault(sql);
    this.nonces = new SqlNonces(sql);
    this.audit = new SqlAudit(sql);
    this.devices = new SqlDevices(sql);
    this.pairings = new SqlPairings(sql);
    this.watchTokens = new SqlWatchTokens(sql);
    this.meta = new SqlMeta(sql);
  }
}

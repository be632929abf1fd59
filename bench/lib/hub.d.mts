// Types for bench/lib/hub.mjs (plain Node ESM), so test/unit/adversary/hub-abuse.test.ts is checked.
import type { ChildProcess } from 'node:child_process';

export interface HubProcess {
  url: string;
  enrollmentCode: string;
  codes: string[];
  pid: number;
  child: ChildProcess;
  restart(): Promise<unknown>;
  stop(): Promise<void>;
}
export declare function startHubProcess(options?: { codes?: number; fdLimit?: number }): Promise<HubProcess>;
export declare function startBareServer(): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }>;
export declare function startCliHub(options?: { logFile?: string }): Promise<{
  url: string;
  enrollmentCode: string;
  child: ChildProcess;
  stop(): Promise<void>;
}>;

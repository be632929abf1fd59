/**
 * Clawkeep agent SDK: register, get claimed, ask for approvals and secrets (docs/protocol.md). Framework-free;
 * `fetch` is injected. File I/O (the state file) lives in bin/commands/agent.ts.
 */
export * from './client';
export * from './config';
export * from './errors';
export * from './keys';
export * from './state';
export * from './http-request';

/**
 * Clawkeep's OpenClaw gateway operator client (issue 7; spec /work/shared/specs/openclaw-integration.md §1, §2, §6).
 * Framework-free: pages, MV3 service workers and Node. Typical use:
 *
 * ```text
 *   const identity = await loadOrCreateDeviceIdentity(idbStore);          // non-extractable Ed25519 key in IndexedDB
 *   const op = await OpenClawOperator.connect('ws://127.0.0.1:18789', { token }, identity,
 *     { WebSocketImpl: WebSocket, origin: location.origin, onDeviceToken: saveEncrypted });
 *   op.onApprovals((list) => render(list));                            // PendingApproval[]
 *   await op.resolveExec(id, 'allow-once');                             // only decisions in allowedDecisions
 * ```
 *
 * On failure, `op.explain(err)` gives a title and the exact step for the person (pairing, allowlist, token).
 */
export * from './errors';
export * from './frames';
export * from './device-identity';
export * from './connect';
export * from './approvals';
export * from './backoff';
export * from './client';
export * from './gateway-url';

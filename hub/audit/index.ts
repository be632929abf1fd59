export { GENESIS_HASH, appendAudit, auditEntryHash, verifyAudit } from './chain';
export type { AuditEntry, AuditVerifyResult } from './chain';

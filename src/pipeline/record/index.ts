// In: decisions with their guardrail verdicts, and what later happens to their messages.
// Out: an append-only audit trail, hash-chained so that any change to an entry is detectable
// (sealed with the audit key when one is set, so that no one without it can append), written in
// the same transaction as what it describes.
export {
  AuditJson,
  chainEntries,
  verifyChain,
  hashEntry,
  sealEntry,
  isSealed,
  GENESIS_HASH,
  SEAL_PREFIX,
  type AuditEntry,
  type AuditDraft,
  type AuditKey,
  type ChainCheck,
} from './audit-chain.js';
export { appendAudit, type AuditNote } from './append-audit.js';
export { decisionAuditData, messageAuditData } from './audit-data.js';
export { verifyAuditLog } from './verify-audit.js';

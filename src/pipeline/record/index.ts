// In: decisions with their guardrail verdicts, and what later happens to their messages.
// Out: an append-only audit trail, hash-chained so that any change to an entry is detectable,
// written in the same transaction as what it describes.
export {
  AuditJson,
  chainEntries,
  verifyChain,
  hashEntry,
  GENESIS_HASH,
  type AuditEntry,
  type AuditDraft,
  type ChainCheck,
} from './audit-chain.js';
export { appendAudit, type AuditNote } from './append-audit.js';
export { decisionAuditData, messageAuditData } from './audit-data.js';
export { verifyAuditLog } from './verify-audit.js';

// In: decisions with their guardrail verdicts (and, later, outbox rows and review actions).
// Out: an append-only audit trail, hash-chained so that any change to an entry is detectable.
export {
  chainEntries,
  verifyChain,
  hashEntry,
  GENESIS_HASH,
  type AuditEntry,
  type AuditDraft,
  type ChainCheck,
} from './audit-chain.js';

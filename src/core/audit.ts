import { createSecretKey, type KeyObject } from 'node:crypto';

/**
 * One entry of the append-only audit log; `hash` commits to its content and to the entry
 * before it. `subject` is the customer's pseudonym, never the customer id itself: erasing a
 * customer deletes the link and leaves the trail intact but unlinkable.
 */
export interface AuditEntry {
  seq: number;
  atMs: number;
  /** What happened: `decision`, `review`, `cancel`, `erasure`, … */
  kind: string;
  subject: string | null;
  /** JSON, stored as the exact text the hash commits to. */
  data: string;
  prevHash: string;
  /** SHA-256 in hex; for an entry sealed with the audit key, `k1:` and HMAC-SHA-256 in hex. */
  hash: string;
}

/**
 * The secret, kept outside the database, that seals audit entries (HMAC-SHA-256): someone who
 * can insert rows but does not hold it cannot append an entry that verifies after sealed ones.
 */
export type AuditKey = KeyObject;

/** The audit key of a configured secret; one key object serves every entry. */
export const toAuditKey = (secret: string): AuditKey => createSecretKey(secret, 'utf8');

/** The shortest audit key accepted (characters). */
export const AUDIT_KEY_MIN_LENGTH = 32;

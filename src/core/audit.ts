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
  hash: string;
}

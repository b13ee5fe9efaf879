import type { AuditEntry } from '../../core/audit.js';
import { AppError } from '../../core/errors.js';
import type { CustomerId } from '../../core/ids.js';
import type { RecordTx } from '../../ports/record-store.js';
import { chainEntries, isSealed, sealEntry } from './audit-chain.js';

/** Something to write down: the customer is replaced by their pseudonym before it is stored. */
export interface AuditNote {
  kind: string;
  customerId: CustomerId | null;
  /** The pseudonym to file it under, when the customer link is about to go (an erasure). */
  subject?: string;
  atMs: number;
  /** No personal data here (no addresses, names, message text): it outlives an erasure. */
  data: unknown;
}

/**
 * The last entry each transaction appended: a head that is one of them was sealed with this
 * process's key a moment ago, so a transaction that appends in groups checks one seal, not one
 * per group.
 */
const appendedBy = new WeakMap<object, Pick<AuditEntry, 'seq' | 'hash'>>();

/** The transaction's primitives an append uses. */
export type AuditAppender = Pick<RecordTx, 'lockAuditHead' | 'pseudonymsOf' | 'insertAudit'>;

/**
 * Appends notes to the audit chain inside the caller's transaction: takes the chain's lock,
 * links each entry to the one before it (sealed with the store's audit key when it has one),
 * and stores them — they commit or roll back with the decision or action they describe.
 * Refuses (`invalid-config`) to append after a sealed entry without the key, or with a key the
 * last entry's seal does not verify under.
 */
export const appendAudit = async (
  tx: AuditAppender,
  notes: readonly AuditNote[],
  nowMs: number,
): Promise<AuditEntry[]> => {
  if (notes.length === 0) return [];
  const { head, key } = await tx.lockAuditHead();
  // A plain entry after a sealed one, or one sealed with another key, breaks the chain for good
  // (it cannot be removed): a process without the key, or with a mistyped one, fails its writes
  // instead, as one without a database would.
  if (head !== null && isSealed(head.hash)) {
    if (key === null)
      throw new AppError(
        'invalid-config',
        'the audit log is sealed with an audit key that this process does not have: set HERALD_AUDIT_KEY (the same key as the other Herald processes)',
      );
    const own = appendedBy.get(tx);
    const checked = own?.seq === head.seq && own.hash === head.hash;
    // The head's seal tells whether this is the log's key: one HMAC, not a walk of the chain.
    if (!checked && sealEntry(key, head.prevHash, head) !== head.hash)
      throw new AppError(
        'invalid-config',
        `the audit log is sealed with another audit key: the configured HERALD_AUDIT_KEY does not match the key the log was sealed with (its last entry, ${String(head.seq)}, does not verify under it) — set the same key as the other Herald processes; if it is the same, that entry was altered: run herald audit verify`,
      );
  }
  const ids = [
    ...new Set(
      notes.flatMap((n) =>
        n.customerId === null || n.subject !== undefined ? [] : [n.customerId],
      ),
    ),
  ];
  const pseudonyms = await tx.pseudonymsOf(ids, nowMs);
  const entries = chainEntries(
    head,
    notes.map((n) => ({
      atMs: n.atMs,
      kind: n.kind,
      subject: n.subject ?? (n.customerId === null ? null : (pseudonyms.get(n.customerId) ?? null)),
      data: n.data,
    })),
    key,
  );
  await tx.insertAudit(entries);
  const last = entries[entries.length - 1];
  if (key !== null && last !== undefined) appendedBy.set(tx, { seq: last.seq, hash: last.hash });
  return entries;
};

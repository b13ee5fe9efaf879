import type { AuditEntry } from '../../core/audit.js';
import { AppError } from '../../core/errors.js';
import type { CustomerId } from '../../core/ids.js';
import type { RecordTx } from '../../ports/record-store.js';
import { chainEntries, isSealed } from './audit-chain.js';

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
 * Appends notes to the audit chain inside the caller's transaction: takes the chain's lock,
 * links each entry to the one before it (sealed with the store's audit key when it has one),
 * and stores them — they commit or roll back with the decision or action they describe.
 * Without the key, refuses to append after a sealed entry.
 */
export const appendAudit = async (
  tx: RecordTx,
  notes: readonly AuditNote[],
  nowMs: number,
): Promise<AuditEntry[]> => {
  if (notes.length === 0) return [];
  const { head, key } = await tx.lockAuditHead();
  // A plain entry after a sealed one breaks the chain for good (it cannot be removed): a
  // process left without the key fails its writes instead, as one without a database would.
  if (key === null && head !== null && isSealed(head.hash))
    throw new AppError(
      'invalid-config',
      'the audit log is sealed with an audit key that this process does not have: set HERALD_AUDIT_KEY (the same key as the other Herald processes)',
    );
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
  return entries;
};

import type { AuditEntry } from '../../core/audit.js';
import type { CustomerId } from '../../core/ids.js';
import type { RecordTx } from '../../ports/record-store.js';
import { chainEntries } from './audit-chain.js';

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
 * links each entry to the one before it, and stores them — they commit or roll back with the
 * decision or action they describe.
 */
export const appendAudit = async (
  tx: RecordTx,
  notes: readonly AuditNote[],
  nowMs: number,
): Promise<AuditEntry[]> => {
  if (notes.length === 0) return [];
  const head = await tx.lockAuditHead();
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
  );
  await tx.insertAudit(entries);
  return entries;
};

import type { AuditEntry } from '../../core/audit.js';
import { hash } from 'node:crypto';

export type { AuditEntry };

/**
 * Audit data already written down as JSON text, stored as it is: a caller that holds many
 * entries before appending them keeps one string each rather than their objects.
 */
export class AuditJson {
  constructor(readonly text: string) {}
}

/** An entry to append: its data as a value, written down as JSON (or already written). */
export type AuditDraft = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash' | 'data'> & {
  data: unknown;
};

/** The hash before the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * SHA-256 over the previous hash and the entry's fields, the data as its stored text: checking
 * an entry needs no parsing, and what is checked is exactly what is stored.
 */
export const hashEntry = (prevHash: string, entry: Omit<AuditEntry, 'prevHash' | 'hash'>): string =>
  // One-shot hashing: a verify over a million entries spends its time here.
  hash(
    'sha256',
    `${prevHash}\n${String(entry.seq)}\n${String(entry.atMs)}\n${entry.kind}\n${entry.subject ?? ''}\n${entry.data}`,
  );

/** Appends drafts after `last` (or the genesis), each committing to the one before. */
export const chainEntries = (
  last: Pick<AuditEntry, 'seq' | 'hash'> | null,
  drafts: readonly AuditDraft[],
): AuditEntry[] => {
  let prevHash = last?.hash ?? GENESIS_HASH;
  let seq = last?.seq ?? 0;
  return drafts.map((draft) => {
    seq += 1;
    // The stored text is what the hash commits to: verifying needs no canonical form.
    const data =
      draft.data instanceof AuditJson
        ? draft.data.text
        : ((JSON.stringify(draft.data) as string | undefined) ?? 'null');
    const { atMs, kind, subject } = draft;
    const hash = hashEntry(prevHash, { seq, atMs, kind, subject, data });
    const entry: AuditEntry = { seq, atMs, kind, subject, data, prevHash, hash };
    prevHash = hash;
    return entry;
  });
};

export type ChainCheck =
  | { ok: true; entries: number; lastHash: string }
  | { ok: false; brokenAtSeq: number; reason: string };

/**
 * Verifies entries in order (pages of a longer chain: pass the previous page's last entry):
 * consecutive sequence numbers, each `prevHash` equal to the hash before it, and each hash
 * recomputed from the content. Names the first entry that breaks the chain.
 */
export const verifyChain = (
  entries: readonly AuditEntry[],
  before: Pick<AuditEntry, 'seq' | 'hash'> | null = null,
): ChainCheck => {
  let prevHash = before?.hash ?? GENESIS_HASH;
  let prevSeq = before?.seq ?? 0;
  for (const entry of entries) {
    if (entry.seq !== prevSeq + 1)
      return {
        ok: false,
        brokenAtSeq: entry.seq,
        reason: `expected entry ${prevSeq + 1}, found ${entry.seq}`,
      };
    if (entry.prevHash !== prevHash)
      return { ok: false, brokenAtSeq: entry.seq, reason: 'does not follow the entry before it' };
    if (hashEntry(prevHash, entry) !== entry.hash)
      return { ok: false, brokenAtSeq: entry.seq, reason: 'its content does not match its hash' };
    prevHash = entry.hash;
    prevSeq = entry.seq;
  }
  return { ok: true, entries: entries.length, lastHash: prevHash };
};

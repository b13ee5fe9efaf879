import type { AuditEntry, AuditKey } from '../../core/audit.js';
import { createHmac, hash } from 'node:crypto';

export type { AuditEntry, AuditKey };

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
 * What leads the hash of an entry sealed with the audit key (version 1 of the seal: HMAC-SHA-256
 * in hex): a sealed entry says so itself, so chains written before the key was set need no
 * migration, and the next entry's `prevHash` is that same text.
 */
export const SEAL_PREFIX = 'k1:';

/** Whether a stored hash is a seal (made with the audit key) rather than a plain SHA-256. */
export const isSealed = (entryHash: string): boolean => entryHash.startsWith(SEAL_PREFIX);

/** The text an entry's hash or seal commits to: the previous hash and its fields, data as stored. */
const entryText = (prevHash: string, entry: Omit<AuditEntry, 'prevHash' | 'hash'>): string =>
  `${prevHash}\n${String(entry.seq)}\n${String(entry.atMs)}\n${entry.kind}\n${entry.subject ?? ''}\n${entry.data}`;

/**
 * SHA-256 over the previous hash and the entry's fields, the data as its stored text: checking
 * an entry needs no parsing, and what is checked is exactly what is stored.
 */
export const hashEntry = (prevHash: string, entry: Omit<AuditEntry, 'prevHash' | 'hash'>): string =>
  // One-shot hashing: a verify over a million entries spends its time here.
  hash('sha256', entryText(prevHash, entry));

/**
 * The entry's seal: HMAC-SHA-256 under the audit key over the text `hashEntry` covers, behind
 * `SEAL_PREFIX`. Only a holder of the key can make one that verifies.
 */
export const sealEntry = (
  key: AuditKey,
  prevHash: string,
  entry: Omit<AuditEntry, 'prevHash' | 'hash'>,
): string =>
  SEAL_PREFIX + createHmac('sha256', key).update(entryText(prevHash, entry)).digest('hex');

/**
 * Appends drafts after `last` (or the genesis), each committing to the one before: sealed with
 * `key` when one is given, else plain SHA-256.
 */
export const chainEntries = (
  last: Pick<AuditEntry, 'seq' | 'hash'> | null,
  drafts: readonly AuditDraft[],
  key: AuditKey | null = null,
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
    const fields = { seq, atMs, kind, subject, data };
    const hash = key === null ? hashEntry(prevHash, fields) : sealEntry(key, prevHash, fields);
    const entry: AuditEntry = { seq, atMs, kind, subject, data, prevHash, hash };
    prevHash = hash;
    return entry;
  });
};

export type ChainCheck =
  | { ok: true; entries: number; lastHash: string }
  | { ok: false; brokenAtSeq: number; reason: string }
  /** The entries before `uncheckedFromSeq` hold; it is sealed, and no key was given to check it. */
  | { ok: false; uncheckedFromSeq: number; reason: string };

/** Why a verify without the key stops at the first sealed entry. */
export const KEY_NEEDED_REASON =
  'sealed with the audit key, which is not configured: set HERALD_AUDIT_KEY to verify this entry and those after it';

/**
 * Why a verify with the key fails a chain whose last entry is plain. No entry of it is sealed (a
 * plain one after a seal breaks earlier), so nothing shows it was not rewritten by someone
 * without the key — or the key was only just set, and nothing has been appended since.
 */
export const UNSEALED_HEAD_REASON =
  'the last entry, not sealed with the audit key although it is configured (no entry is): a chain whose sealed entries were rewritten without the key looks like this. If the key was only just set, Herald seals the chain with the next entry it appends: verify again after it';

/**
 * Verifies entries in order (pages of a longer chain: pass the previous page's last entry):
 * consecutive sequence numbers, each `prevHash` equal to the hash before it, and each hash
 * recomputed from the content — each seal with `key`. After a sealed entry every entry must be
 * sealed. Names the first entry that breaks the chain; without `key`, a sealed entry ends the
 * check unverified (never reported as holding). A page cannot tell whether it ends the chain:
 * with `key`, the whole chain's last entry must be sealed too (`verifyChainEnd`).
 */
export const verifyChain = (
  entries: readonly AuditEntry[],
  before: Pick<AuditEntry, 'seq' | 'hash'> | null = null,
  key: AuditKey | null = null,
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
    if (isSealed(entry.hash)) {
      if (key === null)
        return { ok: false, uncheckedFromSeq: entry.seq, reason: KEY_NEEDED_REASON };
      if (sealEntry(key, prevHash, entry) !== entry.hash)
        return {
          ok: false,
          brokenAtSeq: entry.seq,
          reason:
            'its seal does not match its content under the audit key (altered, or sealed with another key)',
        };
    } else if (isSealed(prevHash))
      // Someone without the key can still compute a plain hash: after the first seal, none counts.
      return {
        ok: false,
        brokenAtSeq: entry.seq,
        reason: 'not sealed with the audit key, after sealed entries',
      };
    else if (hashEntry(prevHash, entry) !== entry.hash)
      return { ok: false, brokenAtSeq: entry.seq, reason: 'its content does not match its hash' };
    prevHash = entry.hash;
    prevSeq = entry.seq;
  }
  return { ok: true, entries: entries.length, lastHash: prevHash };
};

/**
 * The check after a whole chain's last entry (`last`; null for an empty log, which holds): with
 * `key`, that entry must be sealed. Only a holder of the key can make a seal, and it commits to
 * every entry before it, so a chain rewritten without the key from its first sealed entry on —
 * plain throughout, each hash correct — fails here. Null when the chain holds.
 */
export const verifyChainEnd = (
  last: Pick<AuditEntry, 'seq' | 'hash'> | null,
  key: AuditKey | null,
): Extract<ChainCheck, { brokenAtSeq: number }> | null =>
  key !== null && last !== null && !isSealed(last.hash)
    ? { ok: false, brokenAtSeq: last.seq, reason: UNSEALED_HEAD_REASON }
    : null;

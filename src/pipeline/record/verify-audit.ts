import type { RecordReads } from '../../ports/record-store.js';
import { verifyChain, verifyChainEnd, type AuditKey, type ChainCheck } from './audit-chain.js';

/**
 * Verifies the whole stored audit chain page by page (constant memory): names the first entry
 * that is missing, out of order, altered, or does not follow the one before it, one numbered
 * below the chain's first, or one not sealed (or sealed wrongly) with `key` after a sealed one.
 * Without `key` it stops, unverified, at the first sealed entry; with `key`, it fails a chain
 * whose last entry is not sealed (`verifyChainEnd`).
 *
 * Pages are small so that each dies young: an entry is about 2 KB of text (twice that when a
 * reason holds a character outside Latin-1), and a page of 20,000 outgrew V8's young generation
 * (16 MB semi-spaces by default, as the command runs), so every page was copied and promoted
 * before it was dropped — the garbage collector took about 60 % of a verify. 400,000 entries in
 * the guard bench at that default: 7.9–8.2 s in pages of 20,000, 6.9–7.1 s in pages of 2,000,
 * 2.4–2.8 s in pages of 200, 500 or 1,000. On PostgreSQL each page is a round trip.
 */
export const verifyAuditLog = async (
  store: Pick<RecordReads, 'scanAudit'>,
  key: AuditKey | null,
  pageSize = 500,
): Promise<ChainCheck> => {
  // The chain starts at 1: an entry numbered below (inserted by hand, where the append-only
  // triggers let an insert through) is outside it, and would be served as an entry of it.
  const [lowest] = await store.scanAudit(Number.MIN_SAFE_INTEGER, 1);
  if (lowest !== undefined && lowest.seq < 1)
    return {
      ok: false,
      brokenAtSeq: lowest.seq,
      reason: 'numbered before the first entry: no entry of the chain',
    };
  let before: { seq: number; hash: string } | null = null;
  let entries = 0;
  for (;;) {
    const page = await store.scanAudit(before?.seq ?? 0, pageSize);
    if (page.length === 0)
      return verifyChainEnd(before, key) ?? { ok: true, entries, lastHash: before?.hash ?? '' };
    const check = verifyChain(page, before, key);
    if (!check.ok) return check;
    entries += page.length;
    const last = page[page.length - 1];
    if (last !== undefined) before = { seq: last.seq, hash: last.hash };
  }
};

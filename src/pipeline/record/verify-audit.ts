import type { RecordReads } from '../../ports/record-store.js';
import { verifyChain, verifyChainEnd, type AuditKey, type ChainCheck } from './audit-chain.js';

/**
 * Pages are small so that each dies young: an entry is about 2 KB of text (twice that when a
 * reason holds a character outside Latin-1), and a page of 20,000 outgrew V8's young generation
 * (16 MB semi-spaces by default, as the command runs), so every page was copied and promoted
 * before it was dropped — the garbage collector took about 60 % of a verify. 400,000 entries in
 * the guard bench at that default: 7.9–8.2 s in pages of 20,000, 6.9–7.1 s in pages of 2,000,
 * 2.4–2.8 s in pages of 200, 500 or 1,000. On PostgreSQL each page is a round trip.
 */
export const AUDIT_PAGE = 500;

/** The entry a stretch of the chain follows (null: the chain's start). */
export type ChainLink = { seq: number; hash: string } | null;

/** A stretch of the chain: the entries after `after`, up to and including `untilSeq`. */
export interface AuditStretch {
  after: ChainLink;
  untilSeq: number;
}

/**
 * Verifies the stretches given on threads of their own (`herald audit verify` on a second
 * core), each as `verifyAuditStretch` does, answering in the order given.
 */
export interface StretchVerifier {
  /** How many stretches to split the chain into. */
  stretches: number;
  /** Chains shorter than this are verified in one pass: a thread costs more than it saves. */
  minEntries: number;
  verify(stretches: readonly AuditStretch[], key: AuditKey | null): Promise<ChainCheck[]>;
}

/**
 * Verifies the entries after `from`, page by page, up to `untilSeq` or the chain's end, as
 * `verifyChain` does: each follows the one before, the first follows `from`. A stretch holds
 * exactly `untilSeq - from.seq` entries, so each page asks for no more than are left: an entry
 * missing shows as the next one found, named as a whole verify names it.
 */
const walkChain = async (
  store: Pick<RecordReads, 'scanAudit'>,
  from: ChainLink,
  untilSeq: number,
  key: AuditKey | null,
  pageSize: number,
): Promise<{ broken: ChainCheck & { ok: false } } | { last: ChainLink; entries: number }> => {
  let last = from;
  let entries = 0;
  let at = from?.seq ?? 0;
  while (at < untilSeq) {
    const page = await store.scanAudit(at, Math.min(pageSize, untilSeq - at));
    const end = page[page.length - 1];
    if (end === undefined) break;
    const check = verifyChain(page, last, key);
    if (!check.ok) return { broken: check };
    entries += page.length;
    last = { seq: end.seq, hash: end.hash };
    at = end.seq;
  }
  return { last, entries };
};

/** Verifies one stretch of the chain (`walkChain`); it must run to its end. */
export const verifyAuditStretch = async (
  store: Pick<RecordReads, 'scanAudit'>,
  stretch: AuditStretch,
  key: AuditKey | null,
  pageSize = AUDIT_PAGE,
): Promise<ChainCheck> => {
  const walked = await walkChain(store, stretch.after, stretch.untilSeq, key, pageSize);
  if ('broken' in walked) return walked.broken;
  const reached = walked.last?.seq ?? 0;
  return reached < stretch.untilSeq
    ? {
        ok: false,
        brokenAtSeq: reached + 1,
        reason: `expected entry ${reached + 1}, found the chain's end (it ran to ${stretch.untilSeq} when the verify began)`,
      }
    : { ok: true, entries: walked.entries, lastHash: walked.last?.hash ?? '' };
};

/**
 * The chain up to `lastSeq` split into `count` stretches, each after the entry that ends the one
 * before (read here, so that the stretches can be verified apart); null when an entry at a
 * boundary is missing — a break the one-pass verify names.
 */
const splitChain = async (
  store: Pick<RecordReads, 'scanAudit'>,
  lastSeq: number,
  count: number,
): Promise<AuditStretch[] | null> => {
  const stretches: AuditStretch[] = [];
  let after: ChainLink = null;
  for (let i = 1; i <= count; i += 1) {
    const untilSeq = i === count ? lastSeq : Math.floor((lastSeq * i) / count);
    stretches.push({ after, untilSeq });
    const [boundary] = await store.scanAudit(untilSeq - 1, 1);
    if (boundary?.seq !== untilSeq) return null;
    after = { seq: boundary.seq, hash: boundary.hash };
  }
  return stretches;
};

/**
 * Verifies the whole stored audit chain page by page (constant memory): names the first entry
 * that is missing, out of order, altered, or does not follow the one before it, one numbered
 * below the chain's first, or one not sealed (or sealed wrongly) with `key` after a sealed one.
 * Without `key` it stops, unverified, at the first sealed entry; with `key`, it fails a chain
 * whose last entry is not sealed (`verifyChainEnd`).
 *
 * With `split`, the chain as it stands when the verify begins is cut into stretches verified on
 * threads of their own: each entry's hash commits to the one before, which is stored beside it,
 * so a stretch needs only the entry before it. The first stretch that fails (in chain order)
 * names the break; what was appended since is verified after, on this thread.
 */
export const verifyAuditLog = async (
  store: Pick<RecordReads, 'scanAudit' | 'lastAuditSeq'>,
  key: AuditKey | null,
  split: StretchVerifier | null = null,
  pageSize = AUDIT_PAGE,
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
  let before: ChainLink = null;
  let entries = 0;
  if (split !== null && split.stretches > 1) {
    const lastSeq = await store.lastAuditSeq();
    const stretches =
      lastSeq >= split.minEntries ? await splitChain(store, lastSeq, split.stretches) : null;
    if (stretches !== null) {
      const checks = await split.verify(stretches, key);
      if (checks.length !== stretches.length)
        throw new Error(`${stretches.length} stretches verified, ${checks.length} answers`);
      let lastHash = '';
      for (const check of checks) {
        if (!check.ok) return check;
        entries += check.entries;
        ({ lastHash } = check);
      }
      before = { seq: lastSeq, hash: lastHash };
    }
  }
  const walked = await walkChain(store, before, Infinity, key, pageSize);
  if ('broken' in walked) return walked.broken;
  return (
    verifyChainEnd(walked.last, key) ?? {
      ok: true,
      entries: entries + walked.entries,
      lastHash: walked.last?.hash ?? '',
    }
  );
};

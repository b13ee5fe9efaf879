import type { RecordReads } from '../../ports/record-store.js';
import { verifyChain, type ChainCheck } from './audit-chain.js';

/**
 * Verifies the whole stored audit chain page by page (constant memory): names the first entry
 * that is missing, out of order, altered, or does not follow the one before it.
 */
export const verifyAuditLog = async (
  store: Pick<RecordReads, 'scanAudit'>,
  pageSize = 20_000,
): Promise<ChainCheck> => {
  let before: { seq: number; hash: string } | null = null;
  let entries = 0;
  for (;;) {
    const page = await store.scanAudit(before?.seq ?? 0, pageSize);
    if (page.length === 0) return { ok: true, entries, lastHash: before?.hash ?? '' };
    const check = verifyChain(page, before);
    if (!check.ok) return check;
    entries += page.length;
    const last = page[page.length - 1];
    if (last !== undefined) before = { seq: last.seq, hash: last.hash };
  }
};

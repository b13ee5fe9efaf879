import { describe, expect, it } from 'vitest';
import type { AuditKey } from '../../core/audit.js';
import { appendAudit, type AuditAppender } from './append-audit.js';
import {
  chainEntries,
  isSealed,
  verifyChain,
  verifyChainEnd,
  type AuditEntry,
} from './audit-chain.js';
import { KEY, OTHER_KEY, refusal, someReviews, t0 } from './test-builders.js';

const notes = someReviews;

/** A log in memory, appended to as a store opened with `key` would. */
const aLog = (entries: AuditEntry[], key: AuditKey | null) => {
  const tx: AuditAppender = {
    lockAuditHead: () => Promise.resolve({ head: entries[entries.length - 1] ?? null, key }),
    pseudonymsOf: () => Promise.resolve(new Map()),
    insertAudit: (rows) => {
      entries.push(...rows);
      return Promise.resolve();
    },
  };
  return tx;
};

const sealedLog = (key: AuditKey) =>
  chainEntries(
    null,
    notes(3).map((n) => ({ atMs: n.atMs, kind: n.kind, subject: null, data: n.data })),
    key,
  );

describe('appending to the audit log', () => {
  it('seals the entries it appends after sealed ones with the same key', async () => {
    const entries = sealedLog(KEY);
    await appendAudit(aLog(entries, KEY), notes(2, 3), t0);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries.every((e) => isSealed(e.hash))).toBe(true);
    expect(verifyChain(entries, null, KEY)).toMatchObject({ ok: true, entries: 5 });
  });

  it('refuses to append with a key the log was not sealed with, as without one', async () => {
    const entries = sealedLog(KEY);
    const mistyped = await refusal(appendAudit(aLog(entries, OTHER_KEY), notes(1, 3), t0));
    expect(mistyped.code).toBe('invalid-config');
    expect(mistyped.message).toMatch(
      /the configured HERALD_AUDIT_KEY does not match the key the log was sealed with/,
    );
    const keyless = await refusal(appendAudit(aLog(entries, null), notes(1, 3), t0));
    expect(keyless.code).toBe('invalid-config');
    expect(entries).toHaveLength(3);
    expect(verifyChain(entries, null, KEY)).toMatchObject({ ok: true, entries: 3 });
  });

  it('refuses to build on a last entry whose seal does not hold under its key', async () => {
    const entries = sealedLog(KEY);
    const head = entries[2];
    if (head === undefined) throw new Error('no head');
    entries[2] = { ...head, data: head.data.replace('reject', 'approve') };
    const altered = await refusal(appendAudit(aLog(entries, KEY), notes(1, 3), t0));
    expect(altered.code).toBe('invalid-config');
    expect(altered.message).toMatch(/entry was altered: run herald audit verify/);
    expect(entries).toHaveLength(3);
  });

  it('appends again in the same transaction after its own sealed entries', async () => {
    const entries = sealedLog(KEY);
    const tx = aLog(entries, KEY);
    await appendAudit(tx, notes(2, 3), t0);
    await appendAudit(tx, notes(2, 5), t0);
    expect(verifyChain(entries, null, KEY)).toMatchObject({ ok: true, entries: 7 });
  });

  it('seals a log begun without the key from the first entry it appends with it', async () => {
    const entries: AuditEntry[] = [];
    await appendAudit(aLog(entries, null), notes(2), t0);
    expect(verifyChainEnd(entries[1] ?? null, KEY)).toMatchObject({ ok: false, brokenAtSeq: 2 });
    await appendAudit(aLog(entries, KEY), notes(1, 2), t0);
    expect(entries.map((e) => isSealed(e.hash))).toEqual([false, false, true]);
    expect(verifyChain(entries, null, KEY)).toMatchObject({ ok: true, entries: 3 });
    expect(verifyChainEnd(entries[2] ?? null, KEY)).toBeNull();
  });
});

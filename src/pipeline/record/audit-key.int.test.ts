import { afterEach, describe, expect, it } from 'vitest';
import { storeFactories, type StoreFactory } from '../../../test/support/stores.js';
import type { AuditKey } from '../../core/audit.js';
import type { Store } from '../../ports/store.js';
import { appendAudit, type AuditNote } from './append-audit.js';
import { GENESIS_HASH, hashEntry, isSealed, UNSEALED_HEAD_REASON } from './audit-chain.js';
import { verifyAuditLog } from './verify-audit.js';
import { KEY, OTHER_KEY, refusal, someReviews, t0 } from './test-builders.js';

const reviews = someReviews;

/** One transaction per note, as separate actions append them. */
const appendEach = async (store: Store, notes: readonly AuditNote[]) => {
  for (const note of notes) await store.transaction((tx) => appendAudit(tx, [note], note.atMs));
};

describe.each(storeFactories.filter((f) => f.available))('the audit key ($name)', (factory) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  const aDatabase = async (auditKey: AuditKey | null) => {
    const made = await factory.make({ auditKey });
    cleanups.push(made.cleanup);
    return made;
  };
  /** What someone who owns the database can do: lift the append-only guard. */
  const dropGuard: Record<StoreFactory['name'], string> = {
    sqlite: 'DROP TRIGGER audit_log_no_update',
    postgres: 'DROP TRIGGER audit_log_no_change ON audit_log',
  };

  it('fails verify when the sealed entries were rewritten without the key as a plain chain', async () => {
    const db = await aDatabase(KEY);
    await appendEach(db.store, reviews(3));
    const rows = await db.store.scanAudit(0, 10);
    expect(rows.every((e) => isSealed(e.hash))).toBe(true);
    expect(await verifyAuditLog(db.store, KEY)).toMatchObject({ ok: true, entries: 3 });

    // Entry 2 made an approval that overrode the guardrails, and every entry re-hashed in plain
    // SHA-256: each hash holds, and no seal is left to say it was not Herald's.
    let prevHash = GENESIS_HASH;
    const updates = rows.map((row) => {
      const data =
        row.seq === 2
          ? JSON.stringify({ decisionId: 'd1', action: 'approve', by: 'rita', override: true })
          : row.data;
      const hash = hashEntry(prevHash, { ...row, data });
      const update = `UPDATE audit_log SET data = '${data}', prev_hash = '${prevHash}',
        hash = '${hash}' WHERE seq = ${String(row.seq)}`;
      prevHash = hash;
      return update;
    });
    await db.raw([dropGuard[factory.name], ...updates].join(';\n'));
    const store = await db.reopen();

    expect(await verifyAuditLog(store, KEY)).toEqual({
      ok: false,
      brokenAtSeq: 3,
      reason: UNSEALED_HEAD_REASON,
    });
    // Without the key, a plain chain is all verify can check: nothing vouches for it.
    expect(await verifyAuditLog(store, null)).toMatchObject({ ok: true, entries: 3 });
  });

  it('refuses to append with a key the log was not sealed with, as without one', async () => {
    const db = await aDatabase(KEY);
    await appendEach(db.store, reviews(2));

    const mistyped = await db.reopen({ auditKey: OTHER_KEY });
    const wrong = await refusal(appendEach(mistyped, reviews(1, 2)));
    expect(wrong.code).toBe('invalid-config');
    expect(wrong.message).toMatch(
      /the configured HERALD_AUDIT_KEY does not match the key the log was sealed with/,
    );
    const keyless = await db.reopen({ auditKey: null });
    expect((await refusal(appendEach(keyless, reviews(1, 2)))).code).toBe('invalid-config');

    const right = await db.reopen({ auditKey: KEY });
    expect(await right.scanAudit(0, 10)).toHaveLength(2);
    await appendEach(right, reviews(1, 2));
    // Two appends in one transaction: the second builds on the first's entry.
    await right.transaction(async (tx) => {
      await appendAudit(tx, reviews(1, 3), t0);
      await appendAudit(tx, reviews(1, 4), t0);
    });
    expect(await verifyAuditLog(right, KEY)).toMatchObject({ ok: true, entries: 5 });
  });

  it('seals a log begun without the key with its next entry, and fails verify until then', async () => {
    const db = await aDatabase(KEY);
    expect(await verifyAuditLog(db.store, KEY)).toEqual({ ok: true, entries: 0, lastHash: '' });

    const plain = await db.reopen({ auditKey: null });
    await appendEach(plain, reviews(2));
    expect(await verifyAuditLog(plain, null)).toMatchObject({ ok: true, entries: 2 });

    const keyed = await db.reopen({ auditKey: KEY });
    expect(await verifyAuditLog(keyed, KEY)).toEqual({
      ok: false,
      brokenAtSeq: 2,
      reason: UNSEALED_HEAD_REASON,
    });
    await appendEach(keyed, reviews(1, 2));
    const check = await verifyAuditLog(keyed, KEY);
    expect(check).toMatchObject({ ok: true, entries: 3 });
    expect(check.ok && isSealed(check.lastHash)).toBe(true);
  });
});

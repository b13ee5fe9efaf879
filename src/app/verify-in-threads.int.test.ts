import { afterEach, describe, expect, it } from 'vitest';
import { storeFactories, type StoreFactory } from '../../test/support/stores.js';
import { silentLogger, type Logger } from '../ports/logger.js';
import type { Store } from '../ports/store.js';
import { appendAudit } from '../pipeline/record/append-audit.js';
import { KEY, someReviews } from '../pipeline/record/test-builders.js';
import { verifyAuditLog, type StretchVerifier } from '../pipeline/record/verify-audit.js';
import { verifyInThreads } from './verify-in-threads.js';

const TIMEOUT_MS = 60_000;
/** 240 entries in three stretches of 80: entries 80 and 160 end the first two. */
const ENTRIES = 240;
const THREADS = 3;

/** A logger that keeps what was warned. */
const warningsKept = (): { logger: Logger; warnings: string[] } => {
  const warnings: string[] = [];
  const logger: Logger = {
    ...silentLogger,
    warn: (_fields, message) => {
      warnings.push(message);
    },
    child: () => logger,
  };
  return { logger, warnings };
};

const appendReviews = async (store: Store, count: number, from: number) => {
  await store.transaction((tx) =>
    appendAudit(tx, someReviews(count, from), someReviews(1)[0]?.atMs ?? 0),
  );
};

/** What someone who owns the database can do: lift the append-only guard. */
const dropGuard: Record<StoreFactory['name'], string> = {
  sqlite: 'DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete',
  postgres: 'DROP TRIGGER audit_log_no_change ON audit_log',
};

describe.each(storeFactories.filter((f) => f.available))(
  'the audit chain verified on threads ($name)',
  (factory) => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });
    const aChain = async () => {
      const made = await factory.make({ auditKey: KEY });
      cleanups.push(made.cleanup);
      for (let from = 0; from < ENTRIES; from += 60) await appendReviews(made.store, 60, from);
      return made;
    };
    const threaded = (store: Store, logger: Logger = silentLogger) =>
      verifyAuditLog(
        store,
        KEY,
        verifyInThreads(store, logger, { threads: THREADS, minEntries: 1 }),
      );

    it(
      'finds the chain holding as one pass does, each stretch answered by its thread',
      async () => {
        const { store } = await aChain();
        const { logger, warnings } = warningsKept();
        const onePass = await verifyAuditLog(store, KEY);
        expect(onePass).toMatchObject({ ok: true, entries: ENTRIES });
        expect(await threaded(store, logger)).toEqual(onePass);
        expect(warnings).toEqual([]);
      },
      TIMEOUT_MS,
    );

    it(
      'names the first altered entry, whichever stretch holds it, and one that ends a stretch',
      async () => {
        const { raw, reopen } = await aChain();
        const alter = (seq: number) =>
          `UPDATE audit_log SET data = '{"decisionId":"forged"}' WHERE seq = ${String(seq)}`;
        await raw([dropGuard[factory.name], alter(200), alter(100)].join(';\n'));
        const altered = await reopen({ auditKey: KEY });
        const broken = {
          ok: false,
          brokenAtSeq: 100,
          reason:
            'its seal does not match its content under the audit key (altered, or sealed with another key)',
        };
        expect(await verifyAuditLog(altered, KEY)).toEqual(broken);
        expect(await threaded(altered)).toEqual(broken);

        // The entry the second stretch starts after is read for it; the first stretch checks it.
        await raw(alter(80));
        const atBoundary = await reopen({ auditKey: KEY });
        expect(await threaded(atBoundary)).toEqual({ ...broken, brokenAtSeq: 80 });
      },
      TIMEOUT_MS,
    );

    it(
      'names an entry missing where the chain is cut into stretches',
      async () => {
        const { raw, reopen } = await aChain();
        await raw([dropGuard[factory.name], 'DELETE FROM audit_log WHERE seq = 160'].join(';\n'));
        const cut = await reopen({ auditKey: KEY });
        const missing = { ok: false, brokenAtSeq: 161, reason: 'expected entry 160, found 161' };
        expect(await verifyAuditLog(cut, KEY)).toEqual(missing);
        expect(await threaded(cut)).toEqual(missing);
      },
      TIMEOUT_MS,
    );

    it(
      'verifies here, and says so, a stretch whose thread cannot open the database',
      async () => {
        const { store } = await aChain();
        const { logger, warnings } = warningsKept();
        const nowhere: Store = {
          ...store,
          readSource:
            factory.name === 'sqlite'
              ? { driver: 'sqlite', file: '/nonexistent/herald.db' }
              : { driver: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' },
        };
        expect(await threaded(nowhere, logger)).toEqual(await verifyAuditLog(store, KEY));
        expect(warnings).toHaveLength(THREADS);
        expect(warnings[0]).toMatch(/on a thread failed: verified on the main thread/);
      },
      TIMEOUT_MS,
    );

    it(
      'verifies after the stretches what was appended while they were verified',
      async () => {
        const { store } = await aChain();
        const inOrder = verifyInThreads(store, silentLogger, { threads: THREADS, minEntries: 1 });
        if (inOrder === null) throw new Error('a file or server database has a read source');
        const appending: StretchVerifier = {
          ...inOrder,
          async verify(stretches, key) {
            const checks = await inOrder.verify(stretches, key);
            await appendReviews(store, 5, ENTRIES);
            return checks;
          },
        };
        const check = await verifyAuditLog(store, KEY, appending);
        expect(check).toEqual(await verifyAuditLog(store, KEY));
        expect(check).toMatchObject({ ok: true, entries: ENTRIES + 5 });
      },
      TIMEOUT_MS,
    );
  },
);

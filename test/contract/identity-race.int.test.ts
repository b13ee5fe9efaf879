import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockClassesOf } from '../../src/adapters/storage/postgres/hash-lock-key.js';
import { toCustomerId } from '../../src/core/ids.js';
import { recordEvents } from '../../src/pipeline/profile/index.js';
import { defaultPolicy, t0 } from '../../src/pipeline/profile/test-builders.js';
import type { Store } from '../../src/ports/store.js';
import { aTrack } from '../support/builders.js';
import { postgresFactory, testDatabaseUrl } from '../support/stores.js';

const policy = defaultPolicy();

/**
 * Resolves once a transaction of the store in `schema` waits for a customer's advisory lock
 * (polls pg_locks, no fixed sleep); other test files' stores, in other schemas, lock in classes
 * of their own.
 */
const someoneWaitsForALock = async (schema: string): Promise<void> => {
  const client = new pg.Client({ connectionString: testDatabaseUrl });
  await client.connect();
  try {
    for (let i = 0; i < 500; i += 1) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_locks
         WHERE locktype = 'advisory' AND NOT granted AND classid = ($1::int)::oid`,
        [lockClassesOf(schema).customers],
      );
      if (Number(rows[0]?.n) > 0) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error('no transaction ever waited for a lock');
  } finally {
    await client.end();
  }
};

describe.skipIf(!postgresFactory.available)(
  'identity resolution racing a merge (PostgreSQL)',
  () => {
    let store: Store;
    let schema: string;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      const made = await postgresFactory.make();
      ({ store, cleanup } = made);
      schema = made.schema ?? '';
    });
    afterEach(async () => {
      await cleanup();
    });

    it('files an event under the customer its device was merged into while it waited', async () => {
      // Device X belongs to B.
      await recordEvents(
        store,
        [aTrack({ type: 'identify', userId: 'B', anonymousId: 'X', name: null })],
        policy,
        t0,
      );
      let open: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (open = resolve));
      let reachedMerge: () => void = () => undefined;
      const atMerge = new Promise<void>((resolve) => (reachedMerge = resolve));
      // T1 merges B into C, holding B's and C's locks, and pauses before it moves anything.
      const paused: Store = {
        ...store,
        transaction: (work) =>
          store.transaction((tx) =>
            work({
              ...tx,
              mergeCustomer: async (from, to) => {
                reachedMerge();
                await gate;
                return tx.mergeCustomer(from, to);
              },
            }),
          ),
      };
      const t1 = recordEvents(
        paused,
        [aTrack({ type: 'alias', userId: 'C', previousId: 'B', name: null, timestampMs: t0 + 1 })],
        policy,
        t0,
      );
      await atMerge;
      // T2: an anonymous event from X; it reads X → B, then waits for B's lock.
      const t2 = recordEvents(
        store,
        [aTrack({ userId: null, anonymousId: 'X', name: 'Page Viewed', timestampMs: t0 + 2 })],
        policy,
        t0,
      );
      await someoneWaitsForALock(schema);
      open();
      await Promise.all([t1, t2]);
      expect(await store.getProfile(toCustomerId('B'))).toBeUndefined();
      expect((await store.getProfile(toCustomerId('C')))?.state.eventCount).toBe(3);
      expect((await store.listEvents(toCustomerId('C'), 10)).map((e) => e.type)).toEqual([
        'track',
        'alias',
        'identify',
      ]);
    });
  },
);

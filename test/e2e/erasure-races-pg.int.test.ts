import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/adapters/storage/postgres/create-postgres-store.js';
import { toCustomerId } from '../../src/core/ids.js';
import { fanOutCampaign, runSweepIfDue } from '../../src/pipeline/decide/index.js';
import { aState, anEnv, daysMs, t0, toComputed } from '../../src/pipeline/decide/test-builders.js';
import { eraseCustomer } from '../../src/pipeline/privacy.js';
import type { Store, StoreTx } from '../../src/ports/store.js';
import { sharedTestSchema, testDatabaseUrl } from '../support/stores.js';

// Two processes on one PostgreSQL: a worker writing rows for a page of customers, and an API
// erasing one of them while the worker's transaction is open. The erasure must either come
// first (the worker finds no profile) or wait for the worker and delete what it wrote.

const A = toCustomerId('alice');

/**
 * `store`, whose transactions start the erasure just before the named method runs and give it
 * a second to finish: it finishes when nothing holds alice's lock, and waits for the worker's
 * commit when the worker holds it.
 */
const erasingBefore = (store: Store, method: keyof StoreTx, erase: () => Promise<unknown>) => {
  let erasing: Promise<unknown> | null = null;
  const wrapped: Store = {
    ...store,
    transaction: (work) =>
      store.transaction((tx) =>
        work(
          new Proxy(tx, {
            get(target, prop, receiver) {
              const value = Reflect.get(target, prop, receiver) as unknown;
              if (prop !== method || typeof value !== 'function' || erasing !== null) return value;
              return async (...args: unknown[]) => {
                erasing = erase();
                await Promise.race([erasing, sleep(1000)]);
                return (value as (...a: unknown[]) => unknown).apply(target, args);
              };
            },
          }),
        ),
      ),
  };
  return { store: wrapped, erased: () => erasing };
};

describe.skipIf(testDatabaseUrl === undefined)(
  'an erasure while a worker writes for the same customer (PostgreSQL)',
  () => {
    const { schema, opened } = sharedTestSchema('herald_erasure_race');
    const open = async () => {
      const store = await createPostgresStore({ url: testDatabaseUrl ?? '', poolSize: 4, schema });
      opened.push(store);
      return store;
    };
    const seed = async (store: Store) => {
      const state = aState({ customerId: A, userId: 'alice', lastActiveAtMs: t0 - daysMs(30) });
      await store.transaction((tx) =>
        tx.saveProfiles([{ customerId: A, state, computed: toComputed(state, t0) }]),
      );
    };

    it('leaves no marks or work from the daily sweep for a customer erased during it', async () => {
      const worker = await open();
      const api = await open();
      await seed(worker);
      const race = erasingBefore(worker, 'saveMarks', () =>
        eraseCustomer(api, A, 'test', 'access request', t0),
      );
      await runSweepIfDue(race.store, anEnv(), t0);
      await race.erased();
      expect((await api.transaction((tx) => tx.loadMarks([A]))).has(A)).toBe(false);
      expect(await api.listWork(A, 20)).toEqual([]);
    });

    it('leaves no campaign work for a customer erased while the audience was fanned out', async () => {
      const worker = await open();
      const api = await open();
      await seed(worker);
      const race = erasingBefore(worker, 'schedule', () =>
        eraseCustomer(api, A, 'test', 'access request', t0),
      );
      const campaign = {
        id: 'spring',
        segment: null,
        channels: ['email'],
        template: 'promo',
        incentive: null,
        sendAtMs: t0 + daysMs(7),
        variantIds: [],
      } as unknown as Parameters<typeof fanOutCampaign>[2];
      await fanOutCampaign(race.store, anEnv(), campaign, t0);
      await race.erased();
      expect(await api.listWork(A, 20)).toEqual([]);
    });
  },
);

import { describe, expect, it } from 'vitest';
import { createPostgresStore } from '../../src/adapters/storage/postgres/create-postgres-store.js';
import { storedLinkSecret } from '../../src/app/create-services.js';
import type { Store } from '../../src/ports/store.js';
import { sharedTestSchema, testDatabaseUrl } from '../support/stores.js';

/** Each store's first read of the link secret returns once both have read it: a start together. */
const startingTogether = (stores: Store[]): Store[] => {
  let read = 0;
  let release: () => void = () => undefined;
  const all = new Promise<void>((resolve) => {
    release = resolve;
  });
  return stores.map((store) => ({
    ...store,
    transaction: (work) =>
      store.transaction((tx) =>
        work({
          ...tx,
          getSetting: async (key: string) => {
            const value = await tx.getSetting(key);
            read += 1;
            if (read === stores.length) release();
            await all;
            return value;
          },
        }),
      ),
  }));
};

describe.skipIf(testDatabaseUrl === undefined)(
  'the link secret of processes starting together on a new database (PostgreSQL)',
  () => {
    const { schema, opened } = sharedTestSchema('herald_link_secret');

    it('is one secret, the one stored, in every process', async () => {
      const stores = await Promise.all(
        [1, 2].map(() => createPostgresStore({ url: testDatabaseUrl ?? '', poolSize: 4, schema })),
      );
      opened.push(...stores);
      const [a, b] = startingTogether(stores);
      if (a === undefined || b === undefined) throw new Error('two stores expected');
      const [first, second] = await Promise.all([storedLinkSecret(a), storedLinkSecret(b)]);
      expect(second).toBe(first);
      expect(await stores[0]?.transaction((tx) => tx.getSetting('link_secret'))).toBe(first);
    });
  },
);

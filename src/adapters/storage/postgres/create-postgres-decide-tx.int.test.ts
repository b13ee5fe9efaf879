import { afterEach, describe, expect, it } from 'vitest';
import { postgresFactory } from '../../../../test/support/stores.js';
import { toCustomerId } from '../../../core/ids.js';
import type { WorkDraft, WorkItem } from '../../../ports/decide-store.js';
import type { Store } from '../../../ports/store.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const c1 = toCustomerId('c1');
const c2 = toCustomerId('c2');

/** A due check for `customerId`, keyed `key`, due `minutes` after T0. */
const aCheck = (key: string, customerId = c1, minutes = 0): WorkDraft => ({
  key,
  customerId,
  dueAtMs: T0 + minutes * 60_000,
  trigger: { kind: 'birthday' },
  mode: 'once',
});

describe.skipIf(!postgresFactory.available)('PostgreSQL decide transactions', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  /** A store holding c1's work k1 (due first), k2 and k3 (due together, in that order), k4. */
  const aStore = async (): Promise<{ store: Store; items: Map<string, WorkItem> }> => {
    const made = await postgresFactory.make();
    cleanups.push(made.cleanup);
    const store = made.store;
    await store.transaction((tx) =>
      tx.schedule(
        [aCheck('k1'), aCheck('k2', c1, 5), aCheck('k3', c1, 5), aCheck('k4', c1, 9)],
        T0,
      ),
    );
    await store.transaction((tx) => tx.schedule([aCheck('j1', c2)], T0));
    const all = await store.transaction((tx) => tx.claimDue(T0 + 60_000 * 60, 100));
    return { store, items: new Map(all.map((item) => [item.key, item])) };
  };
  const pick = (items: Map<string, WorkItem>, ...keys: string[]): WorkItem[] =>
    keys.flatMap((key) => {
      const item = items.get(key);
      return item === undefined ? [] : [item];
    });

  it('finds, for each customer, their first pending item not claimed before their last claimed', async () => {
    const { store, items } = await aStore();
    const ahead = (...keys: string[]) =>
      store.transaction(async (tx) => {
        const found = await tx.findWorkAhead(pick(items, ...keys));
        return new Map([...found].map(([id, at]) => [id, at.id]));
      });
    const idOf = (key: string) => items.get(key)?.id;

    expect(await ahead('k2', 'k4', 'j1')).toEqual(new Map([[c1, idOf('k1')]]));
    // Due at the same moment as k3 but before it by id, as claims take them.
    expect(await ahead('k1', 'k3')).toEqual(new Map([[c1, idOf('k2')]]));
    // Work due after the last claimed item is no concern of this round.
    expect(await ahead('k1', 'k2', 'j1')).toEqual(new Map());
    expect(await ahead()).toEqual(new Map());
    // Finished work is not waited for.
    await store.transaction((tx) =>
      tx.finishWork(
        pick(items, 'k1', 'k2').map((i) => ({ id: i.id, status: 'done', note: null })),
        T0,
      ),
    );
    expect(await ahead('k3', 'k4')).toEqual(new Map());
  });

  it('sees an item another worker holds as ahead, without waiting for that worker', async () => {
    const { store, items } = await aStore();
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let claimedFirst = (_items: WorkItem[]): void => undefined;
    const first = new Promise<WorkItem[]>((resolve) => {
      claimedFirst = resolve;
    });
    const other = store.transaction(async (tx) => {
      claimedFirst(await tx.claimDue(T0 + 60_000 * 60, 1));
      await held;
    });
    expect((await first).map((i) => i.key)).toEqual(['k1']);
    const found = await store.transaction(async (tx) =>
      tx.findWorkAhead(await tx.claimDue(T0 + 60_000 * 60, 100)),
    );
    release();
    await other;
    expect(found).toEqual(new Map([[c1, { dueAtMs: T0, id: items.get('k1')?.id }]]));
  });
});

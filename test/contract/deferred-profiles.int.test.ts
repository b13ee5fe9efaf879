import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/adapters/storage/sqlite/create-sqlite-store.js';
import type { HeraldEvent } from '../../src/core/event.js';
import { toCustomerId, toMessageId, type CustomerId } from '../../src/core/ids.js';
import type { ProfileChange } from '../../src/core/profile.js';
import {
  catchUpProfiles,
  createEventRecorder,
  settleUnfinishedLoad,
  unfinishedLoad,
  type OnRecorded,
} from '../../src/pipeline/profile/index.js';
import {
  createDeferredProfiles,
  recordEvents,
  settleDeferred,
} from '../../src/pipeline/profile/record-events.js';
import {
  aTrack,
  anEvent,
  anIdentify,
  defaultPolicy,
  t0,
} from '../../src/pipeline/profile/test-builders.js';
import { defaultJourneys } from '../../src/pipeline/decide/journeys/default-journeys.js';
import { createTriggerPlanner } from '../../src/pipeline/decide/plan-triggers.js';
import {
  catalogOf,
  defaultDecidePolicy,
  toComputed,
} from '../../src/pipeline/decide/test-builders.js';
import type { WorkDraft } from '../../src/ports/decide-store.js';
import type { Store } from '../../src/ports/store.js';
import { storeFactories } from '../support/stores.js';

const policy = defaultPolicy();
const at = (minutes: number) => t0 + minutes * 60_000;
const id = (text: string): CustomerId => toCustomerId(text);
const ids = { messageId: (n: number) => toMessageId(`m${n}`) };

/**
 * Three batches as an import reads them: a visitor who identifies later (a merge), an order
 * recorded twice under one order id, and an event sent again in a later batch (a retry).
 */
const batches: HeraldEvent[][] = [
  [
    anEvent({ messageId: ids.messageId(1), userId: null, anonymousId: 'v1', timestampMs: at(1) }),
    aTrack(
      'Product Added',
      { product_id: 'p1', price: 25 },
      { messageId: ids.messageId(2), timestampMs: at(2) },
    ),
    aTrack('Email Opened', {}, { messageId: ids.messageId(3), userId: 'u2', timestampMs: at(3) }),
    aTrack(
      'Order Completed',
      { order_id: 'o1', total: 40 },
      { messageId: ids.messageId(4), timestampMs: at(4) },
    ),
  ],
  [
    anIdentify(
      { email: 'u3@example.com' },
      { messageId: ids.messageId(5), userId: 'u3', anonymousId: 'v1', timestampMs: at(5) },
    ),
    aTrack(
      'Order Completed',
      { order_id: 'o2', total: 15 },
      { messageId: ids.messageId(6), userId: 'u2', timestampMs: at(6) },
    ),
    aTrack(
      'Order Completed',
      { order_id: 'o1', total: 40 },
      { messageId: ids.messageId(7), timestampMs: at(7) },
    ),
    aTrack('Email Opened', {}, { messageId: ids.messageId(3), userId: 'u2', timestampMs: at(3) }),
  ],
  [
    aTrack(
      'Product Added',
      { product_id: 'p2', price: 60 },
      { messageId: ids.messageId(8), userId: 'u3', timestampMs: at(8) },
    ),
    aTrack(
      'Product Added',
      { product_id: 'p3', price: 5 },
      { messageId: ids.messageId(9), timestampMs: at(9) },
    ),
  ],
];
const customers = ['u1', 'u2', 'u3'].map(id);
const nowMs = at(60);

const recordAll = async (store: Store, options: Parameters<typeof createEventRecorder>[2]) => {
  const recorder = createEventRecorder(store, policy, options);
  const outcomes = [];
  for (const batch of batches) outcomes.push(await recorder.record(batch, nowMs));
  return { recorder, outcomes };
};

const statesOf = async (store: Store) =>
  Promise.all(customers.map(async (c) => (await store.getProfile(c))?.state));

/** The profiles a recorder that keeps them current leaves. */
const referenceStates = async () => {
  const reference = await createSqliteStore({ file: ':memory:', synchronous: 'normal' });
  try {
    await recordAll(reference, {});
    return await statesOf(reference);
  } finally {
    await reference.close();
  }
};

const collect = () => {
  const changes: ProfileChange[] = [];
  const onRecorded: OnRecorded = (_tx, batch) => {
    changes.push(...batch);
    return Promise.resolve();
  };
  return { changes, onRecorded };
};

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(`profiles deferred by a bulk load on ${factory.name}`, () => {
    let current: Store;
    let deferred: Store;
    const cleanups: (() => Promise<void>)[] = [];
    beforeEach(async () => {
      const [a, b] = await Promise.all([factory.make(), factory.make()]);
      cleanups.push(a.cleanup, b.cleanup);
      current = a.store;
      deferred = b.store;
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });

    it('ends with the profiles a recorder that keeps them current writes', async () => {
      const kept = await recordAll(current, {});
      const { changes, onRecorded } = collect();
      const bulk = await recordAll(deferred, { deferProfiles: true, onRecorded });
      expect(bulk.outcomes).toEqual(kept.outcomes);
      expect(bulk.outcomes[1]).toEqual({ stored: 3, duplicates: 1 });

      if (factory.name === 'sqlite') {
        // Stored, not yet profiled: reported behind until settled, nothing planned yet.
        expect(new Set(await deferred.profilesBehind())).toEqual(new Set(customers));
        expect(await deferred.getProfile(id('u1'))).toBeUndefined();
        expect(changes).toEqual([]);
      }
      const written = await bulk.recorder.settle(nowMs);
      expect(written).toBe(factory.name === 'sqlite' ? 3 : 0);
      expect(await deferred.profilesBehind()).toEqual([]);
      const expected = await statesOf(current);
      expect(expected.map((s) => s?.eventCount)).toEqual([4, 2, 3]);
      expect(await statesOf(deferred)).toEqual(expected);
      expect(await deferred.getProfile(id('anon:v1'))).toBeUndefined();
      expect(await kept.recorder.settle(nowMs)).toBe(0);
    });

    it('hands the trigger planner each customer’s new events and new orders once', async () => {
      const { changes, onRecorded } = collect();
      const bulk = await recordAll(deferred, { deferProfiles: true, onRecorded });
      await bulk.recorder.settle(nowMs);
      if (factory.name !== 'sqlite') return; // kept current: planned batch by batch instead
      const byCustomer = new Map(changes.map((c) => [c.customerId, c]));
      expect([...byCustomer.keys()].sort()).toEqual(customers);
      const messages = (c: CustomerId) => byCustomer.get(c)?.events.map((e) => e.messageId);
      expect(messages(id('u1'))).toEqual(['m2', 'm4', 'm7', 'm9']);
      expect(messages(id('u2'))).toEqual(['m3', 'm6']);
      expect(messages(id('u3'))).toEqual(['m1', 'm5', 'm8']);
      expect(byCustomer.get(id('u1'))?.newOrders).toEqual([
        { orderId: 'o1', placedAtMs: at(4), totalCents: 4000 },
      ]);
      expect(byCustomer.get(id('u2'))?.newOrders.map((o) => o.orderId)).toEqual(['o2']);
      expect(byCustomer.get(id('u3'))?.before).toBeNull();
      expect(byCustomer.get(id('u1'))?.after.orders.count).toBe(1);
    });

    it('plans what the events triggered when they arrived, however long the load took', async () => {
      const planner = createTriggerPlanner(
        defaultDecidePolicy(),
        catalogOf(defaultJourneys),
        toComputed,
      );
      const planned: WorkDraft[] = [];
      const onRecorded: OnRecorded = (_tx, changes, nowMs) => {
        planned.push(...planner(changes, nowMs).schedule);
        return Promise.resolve();
      };
      const recorder = createEventRecorder(deferred, policy, { deferProfiles: true, onRecorded });
      const read = at(10);
      for (const batch of batches)
        await recorder.record(
          batch.map((e) => ({ ...e, receivedAtMs: read })),
          read,
        );
      await recorder.settle(read + 3 * 60 * 60_000);
      const events = planned.filter((w) => w.trigger.kind === 'event').map((w) => w.key);
      // m7 sends order o1 again: no new order, so nothing to plan for it.
      expect(events.sort()).toEqual(['u1|event|test|m4', 'u2|event|test|m6']);
    });

    it('notes an unsettled load where profiles are left behind, and clears it once settled', async () => {
      const { recorder } = await recordAll(deferred, { deferProfiles: true });
      // PostgreSQL keeps every profile current: there is never a load to settle.
      expect(await unfinishedLoad(deferred)).toEqual(
        factory.name === 'sqlite' ? { afterSeq: 0, settledThrough: null } : null,
      );
      await recorder.settle(nowMs);
      expect(await unfinishedLoad(deferred)).toBeNull();
    });

    it('settles a chain of merges in one batch and leaves no one behind', async () => {
      const chain = [
        anEvent({
          messageId: ids.messageId(20),
          userId: null,
          anonymousId: 'a',
          timestampMs: at(1),
        }),
        anIdentify(
          {},
          { messageId: ids.messageId(21), userId: 'B', anonymousId: 'a', timestampMs: at(2) },
        ),
        anEvent({
          type: 'alias',
          name: null,
          messageId: ids.messageId(22),
          userId: 'C',
          previousId: 'B',
          timestampMs: at(3),
        }),
      ];
      const recorder = createEventRecorder(deferred, policy, { deferProfiles: true });
      await recorder.record(chain, nowMs);
      await createEventRecorder(current, policy).record(chain, nowMs);
      await recorder.settle(nowMs);
      expect(await deferred.profilesBehind()).toEqual([]);
      expect((await deferred.getProfile(id('C')))?.state).toEqual(
        (await current.getProfile(id('C')))?.state,
      );
      expect((await deferred.getProfile(id('C')))?.state.eventCount).toBe(3);
      expect(await deferred.getProfile(id('B'))).toBeUndefined();
    });

    it('gives a new order to the customer who placed it, not to one who sent its id again', async () => {
      const orders = [
        aTrack(
          'Order Completed',
          { order_id: 'o9', total: 40 },
          { messageId: ids.messageId(30), userId: 'zed', timestampMs: at(1) },
        ),
        aTrack(
          'Order Completed',
          { order_id: 'o9', total: 99 },
          { messageId: ids.messageId(31), userId: 'amy', timestampMs: at(2) },
        ),
      ];
      const { changes, onRecorded } = collect();
      const recorder = createEventRecorder(deferred, policy, { deferProfiles: true, onRecorded });
      await recorder.record(orders, nowMs);
      await recorder.settle(nowMs);
      await createEventRecorder(current, policy).record(orders, nowMs);
      for (const c of ['amy', 'zed'])
        expect((await deferred.getProfile(id(c)))?.state).toEqual(
          (await current.getProfile(id(c)))?.state,
        );
      expect((await deferred.getProfile(id('amy')))?.state.orders.count).toBe(0);
      expect((await deferred.getProfile(id('zed')))?.state.orders.revenueCents).toBe(4000);
      if (factory.name !== 'sqlite') return;
      const placed = (c: string) => changes.find((x) => x.customerId === id(c))?.newOrders;
      expect(placed('amy')).toEqual([]);
      expect(placed('zed')).toEqual([{ orderId: 'o9', placedAtMs: at(1), totalCents: 4000 }]);
    });

    it('rebuilds every customer of a settle, across the groups their histories are read in', async () => {
      const many = Array.from({ length: 150 }, (_, i) =>
        aTrack(
          'Product Viewed',
          {},
          { messageId: ids.messageId(100 + i), userId: `m${i}`, timestampMs: at(i) },
        ),
      );
      const recorder = createEventRecorder(deferred, policy, { deferProfiles: true });
      await recorder.record(many, nowMs);
      await recorder.settle(nowMs);
      const states = await Promise.all(many.map((e) => deferred.getProfile(id(e.userId ?? ''))));
      expect(states.map((p) => p?.state.eventCount)).toEqual(many.map(() => 1));
    });

    it('counts only what this load stored for a customer who already had history', async () => {
      await createEventRecorder(deferred, policy).record(batches[0] ?? [], nowMs);
      const { changes, onRecorded } = collect();
      const recorder = createEventRecorder(deferred, policy, { deferProfiles: true, onRecorded });
      for (const batch of batches.slice(1)) await recorder.record(batch, nowMs);
      await recorder.settle(nowMs);
      await recordAll(current, {});
      expect(await statesOf(deferred)).toEqual(await statesOf(current));
      if (factory.name !== 'sqlite') return;
      const u1 = changes.find((c) => c.customerId === id('u1'));
      expect(u1?.events.map((e) => e.messageId)).toEqual(['m7', 'm9']);
      expect(u1?.before?.eventCount).toBe(2);
      // o1 was placed before this load: its second record is not a new order.
      expect(u1?.newOrders).toEqual([]);
    });
  });

describe('profiles deferred by a bulk load that stops before settling (SQLite)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-deferred-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no one behind on disk once settled', async () => {
    const file = join(dir, 'settled.db');
    const store = await createSqliteStore({ file, synchronous: 'normal', bulk: true });
    const { recorder } = await recordAll(store, { deferProfiles: true });
    await recorder.settle(nowMs);
    await store.close();
    const reopened = await createSqliteStore({ file, synchronous: 'normal' });
    try {
      expect(await reopened.profilesBehind()).toEqual([]);
    } finally {
      await reopened.close();
    }
  });

  it('hands on only the customers a settle that stopped part-way had not, at the next start', async () => {
    const file = join(dir, 'part.db');
    const store = await createSqliteStore({ file, synchronous: 'normal', bulk: true });
    const deferred = createDeferredProfiles();
    for (const batch of batches)
      await recordEvents(store, batch, policy, nowMs, undefined, undefined, deferred);
    const handed: CustomerId[] = [];
    const stopOnSecond: OnRecorded = (_tx, changes) => {
      if (handed.length > 0) throw new Error('stopped');
      handed.push(...changes.map((c) => c.customerId));
      return Promise.resolve();
    };
    await expect(
      settleDeferred(store, deferred, policy, nowMs, { onRecorded: stopOnSecond, batchSize: 1 }),
    ).rejects.toThrow('stopped');
    expect(handed).toEqual([id('u1')]);
    await store.close();

    const reopened = await createSqliteStore({ file, synchronous: 'normal' });
    try {
      const load = await unfinishedLoad(reopened);
      expect(load).toEqual({ afterSeq: 0, settledThrough: 'u1' });
      if (load === null) return;
      const { changes, onRecorded } = collect();
      expect(await settleUnfinishedLoad(reopened, load, policy, nowMs, { onRecorded })).toBe(3);
      expect(changes.map((c) => c.customerId).sort()).toEqual([id('u2'), id('u3')]);
      // A start after the stop judges the events fresh then, not when they were read.
      expect(changes.every((c) => c.arrived === undefined)).toBe(true);
      expect(await reopened.profilesBehind()).toEqual([]);
      expect(await unfinishedLoad(reopened)).toBeNull();
      expect(await statesOf(reopened)).toEqual(await referenceStates());
    } finally {
      await reopened.close();
    }
  });

  it('leaves them behind on disk, so the next start rebuilds them from their events', async () => {
    const file = join(dir, 'h.db');
    const store = await createSqliteStore({ file, synchronous: 'normal', bulk: true });
    await recordAll(store, { deferProfiles: true });
    // A profile flush while they are behind must not move the watermark past their events.
    await store.counts();
    await store.close();

    const reopened = await createSqliteStore({ file, synchronous: 'normal' });
    try {
      expect(new Set(await reopened.profilesBehind())).toEqual(new Set(customers));
      expect(await catchUpProfiles(reopened, policy, nowMs)).toBe(3);
      expect(await statesOf(reopened)).toEqual(await referenceStates());
    } finally {
      await reopened.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createPostgresStore } from '../../src/adapters/storage/postgres/create-postgres-store.js';
import { createServices, type Services } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import type { HeraldEvent } from '../../src/core/event.js';
import { toCustomerId, type CustomerId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import { runDueWork, type WorkRound } from '../../src/pipeline/decide/index.js';
import type { WorkItem } from '../../src/ports/decide-store.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { Store } from '../../src/ports/store.js';
import { aTrack } from '../support/builders.js';
import { sharedTestSchema, testDatabaseUrl } from '../support/stores.js';

// Wednesday 2026-06-03 12:00 UTC: well outside the default quiet hours (21:00–08:00 UTC).
const T0 = Date.UTC(2026, 5, 3, 12);

// A journey that waits a day for a visit: a visit is thanked, no visit nudged.
const quizYaml = `decide:
  journeys:
    - id: quiz
      entry: { event: Quiz Completed }
      steps:
        - { id: wait-for-visit, type: wait, until: { event: Product Viewed, timeoutHours: 24 } }
        - { id: visited, type: branch, if: { event: Product Viewed }, then: thanks, else: nudge }
        - { id: nudge, type: send, channels: [email], template: upsell, next: done }
        - { id: thanks, type: send, channels: [email], template: welcome-1 }
        - { id: done, type: exit }
`;

/**
 * A worker's store whose next round stops between claiming its work and locking its customers
 * until `resume()` — long enough for another worker to claim, lock and commit first — and then
 * goes on, or dies there (its transaction rolls back, as when its process is killed).
 */
const pausedAfterClaim = (store: Store, then: 'go-on' | 'die' = 'go-on') => {
  let resume = (): void => undefined;
  const gate = new Promise<void>((resolve) => {
    resume = resolve;
  });
  let claimed = (_items: WorkItem[]): void => undefined;
  const claim = new Promise<WorkItem[]>((resolve) => {
    claimed = resolve;
  });
  const paused: Store = {
    ...store,
    transaction: (work) =>
      store.transaction((tx) =>
        work({
          ...tx,
          claimDue: async (nowMs, limit) => {
            const items = await tx.claimDue(nowMs, limit);
            claimed(items);
            return items;
          },
          tryLockCustomers: async (ids) => {
            await gate;
            if (then === 'die') throw new Error('worker killed');
            return tx.tryLockCustomers(ids);
          },
        }),
      ),
  };
  return {
    store: paused,
    claim,
    resume: () => {
      resume();
    },
  };
};

describe.skipIf(testDatabaseUrl === undefined)(
  'one customer’s work shared by two PostgreSQL workers',
  () => {
    const { schema, opened } = sharedTestSchema('herald_order');

    /** Two processes' services on one schema, as two `herald worker`s would run them. */
    const openTwo = async (clock: VirtualClock, fileText: string | null = null) => {
      const config = loadConfig(
        {
          HERALD_DATABASE_URL: testDatabaseUrl ?? '',
          HERALD_WRITE_KEYS: 'web=test-write-key-0001',
          HERALD_ADMIN_TOKEN: 'test-admin-token-0001',
        },
        fileText,
      );
      const open = async () => {
        const store = await createPostgresStore({
          url: testDatabaseUrl ?? '',
          poolSize: 4,
          schema,
        });
        const services = await createServices(config, { store, clock, logger: silentLogger });
        opened.push(services);
        return services;
      };
      return [await open(), await open()] as const;
    };

    const u1 = toCustomerId('u1');
    const eventOf = (name: string | null, atMs: number, rest: Partial<HeraldEvent> = {}) =>
      aTrack({ userId: 'u1', name, timestampMs: atMs, receivedAtMs: atMs, ...rest });
    const identified = (atMs: number) =>
      eventOf(null, atMs, { type: 'identify', traits: { email: 'u1@example.com' } });

    const workOf = async (s: Services, customerId: CustomerId, key: string) =>
      (await s.store.listWork(customerId, 100)).find((w) => w.key === key);
    const actionsOf = async (s: Services, customerId: CustomerId) =>
      (await s.store.listDecisions({ customerId, limit: 100 })).map((d) => d.action).sort();

    /**
     * Worker A claims the customer's due work that comes before the item keyed `laterKey` (in
     * the order one worker takes it: due time, then id) and stops before locking the customer;
     * worker B claims the rest — `laterKey` first —, locks the customer and commits its round;
     * then A goes on (or dies).
     */
    const interleave = async (
      a: Services,
      b: Services,
      laterKey: string,
      nowMs: number,
      then: 'go-on' | 'die' = 'go-on',
    ): Promise<{ claimedByA: WorkItem[]; roundA: Promise<WorkRound>; roundB: WorkRound }> => {
      const due = (await a.store.listWork(u1, 100))
        .filter((w) => w.status === 'pending' && w.dueAtMs <= nowMs)
        .sort((x, y) => x.dueAtMs - y.dueAtMs || x.id - y.id);
      const limit = due.findIndex((w) => w.key === laterKey);
      expect(limit).toBeGreaterThan(0);
      const paused = pausedAfterClaim(a.store, then);
      const roundA = runDueWork(paused.store, a.decide, nowMs, limit);
      const claimedByA = await paused.claim;
      const roundB = await runDueWork(b.store, b.decide, nowMs, 2000);
      paused.resume();
      return { claimedByA, roundA, roundB };
    };

    it('handles an order before the welcome wake-up another worker claimed and locked first', async () => {
      const clock = createVirtualClock(T0);
      const [a, b] = await openTwo(clock);
      await a.recorder.record([identified(T0), eventOf('Signed Up', T0)], T0);
      await a.worker.runDue(T0);
      // The customer buys on day 2, while the workers are behind; on day 3 both are due: the
      // order first, then the wake-up for the day-3 email.
      await a.recorder.record(
        [eventOf('Order Completed', T0 + DAY_MS, { properties: { order_id: 'o1', total: 50 } })],
        T0 + DAY_MS,
      );
      clock.set(T0 + 2 * DAY_MS);
      const { claimedByA, roundA, roundB } = await interleave(
        a,
        b,
        'u1|journey|welcome',
        clock.nowMs(),
      );
      expect(claimedByA.map((w) => w.trigger.kind)).toContain('event');
      await roundA;
      await a.worker.runDue();
      await b.worker.runDue();

      // As one worker does it: the order ends the welcome series before its day-3 email.
      expect(await actionsOf(a, u1)).not.toContain('welcome/day-3-email');
      expect(await a.store.listMemberships(u1)).toMatchObject([
        { journeyId: 'welcome', status: 'exited', exitReason: 'event Order Completed' },
      ]);
      // B left the wake-up for a later round, and no attempt was counted against it.
      expect(roundB).toMatchObject({ claimed: 1, items: 0, decisions: [] });
      expect(await workOf(a, u1, 'u1|journey|welcome')).toMatchObject({
        status: 'cancelled',
        attempts: 0,
        note: 'event Order Completed',
      });
    });

    it('ends a wait on the visit that came before its timeout, whichever worker holds the timeout', async () => {
      const clock = createVirtualClock(T0);
      const [a, b] = await openTwo(clock, quizYaml);
      await a.recorder.record([identified(T0), eventOf('Quiz Completed', T0)], T0);
      await a.worker.runDue(T0);
      await a.recorder.record([eventOf('Product Viewed', T0 + 12 * HOUR_MS)], T0 + 12 * HOUR_MS);
      clock.set(T0 + 2 * DAY_MS);
      const { roundA, roundB } = await interleave(a, b, 'u1|journey|quiz', clock.nowMs());
      await roundA;
      await a.worker.runDue();

      // As one worker does it: the visit, recorded first, passes the wait before it times out.
      expect(await actionsOf(a, u1)).toEqual(['quiz/thanks']);
      expect(roundB.items).toBe(0);
    });

    it('runs the later item it left in a later round, its attempts uncounted', async () => {
      const clock = createVirtualClock(T0);
      const [a, b] = await openTwo(clock, quizYaml);
      await a.recorder.record([identified(T0), eventOf('Quiz Completed', T0)], T0);
      await a.worker.runDue(T0);
      // A second quiz is refused by the journey (already in it) and leaves the wait alone.
      await a.recorder.record([eventOf('Quiz Completed', T0 + 12 * HOUR_MS)], T0 + 12 * HOUR_MS);
      clock.set(T0 + 2 * DAY_MS);
      const { roundA, roundB } = await interleave(a, b, 'u1|journey|quiz', clock.nowMs());
      expect(roundB).toMatchObject({ claimed: 1, items: 0 });
      await roundA;
      expect(await workOf(a, u1, 'u1|journey|quiz')).toMatchObject({
        status: 'pending',
        attempts: 0,
        note: null,
      });
      expect(await actionsOf(a, u1)).toEqual([]);

      const next = await runDueWork(b.store, b.decide, clock.nowMs(), 2000);
      expect(next.items).toBe(1);
      expect(await actionsOf(a, u1)).toEqual(['quiz/nudge']);
      expect(await workOf(a, u1, 'u1|journey|quiz')).toMatchObject({
        status: 'done',
        attempts: 1,
      });
    });

    it('takes over the earlier item of a worker that died holding it, and still handles it first', async () => {
      const clock = createVirtualClock(T0);
      const [a, b] = await openTwo(clock);
      await a.recorder.record([identified(T0), eventOf('Signed Up', T0)], T0);
      await a.worker.runDue(T0);
      await a.recorder.record(
        [eventOf('Order Completed', T0 + DAY_MS, { properties: { order_id: 'o1', total: 50 } })],
        T0 + DAY_MS,
      );
      clock.set(T0 + 2 * DAY_MS);
      const { roundA, roundB } = await interleave(a, b, 'u1|journey|welcome', clock.nowMs(), 'die');
      await expect(roundA).rejects.toThrow('worker killed');
      await b.worker.runDue();

      expect(await actionsOf(b, u1)).not.toContain('welcome/day-3-email');
      expect(await actionsOf(b, u1)).toContain('first-order-thanks');
      expect(roundB.items).toBe(0);
      // Taken over with the order, in the same round: after it, and so ignored.
      expect(await workOf(b, u1, 'u1|journey|welcome')).toMatchObject({
        status: 'done',
        attempts: 1,
        note: 'journey welcome is no longer at step day-3-email',
      });
    });
  },
);

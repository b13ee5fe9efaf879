import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createPostgresStore } from '../../src/adapters/storage/postgres/create-postgres-store.js';
import { createSqliteStore } from '../../src/adapters/storage/sqlite/create-sqlite-store.js';
import { createServices, type Services } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import type { HeraldEvent } from '../../src/core/event.js';
import { toCustomerId } from '../../src/core/ids.js';
import { aTrack } from '../support/builders.js';
import { runDueWork } from '../../src/pipeline/decide/index.js';
import { DAY_MS } from '../../src/core/time.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { Store } from '../../src/ports/store.js';
import { sharedTestSchema, testDatabaseUrl } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const config = loadConfig(
  { HERALD_WRITE_KEYS: 'web=test-write-key-0001', HERALD_ADMIN_TOKEN: 'test-admin-token-0001' },
  null,
);

const signup = (userId: string, atMs: number): HeraldEvent[] => [
  aTrack({
    type: 'identify',
    userId,
    name: null,
    traits: { email: `${userId}@example.com` },
    timestampMs: atMs,
    receivedAtMs: atMs,
  }),
  aTrack({ userId, name: 'Signed Up', timestampMs: atMs, receivedAtMs: atMs }),
];

const stepsOf = async (services: Services) =>
  (await services.store.listDecisions({ limit: 10_000 }))
    .map((d) => `${d.customerId}:${d.journey?.stepId ?? d.action}`)
    .sort();

/** Herald's services on an in-memory SQLite database, on `clock`. */
const servicesOn = async (clock: VirtualClock) =>
  createServices(config, {
    store: await createSqliteStore({ file: ':memory:', synchronous: 'normal' }),
    clock,
    logger: silentLogger,
  });

describe('the scheduler across a restart (SQLite file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-restart-'));
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('neither loses nor repeats a journey step when the process restarts between steps', async () => {
    const file = join(dir, 'herald.db');
    const clock = createVirtualClock(T0);
    const open = async () =>
      createServices(config, {
        store: await createSqliteStore({ file, synchronous: 'normal' }),
        clock,
        logger: silentLogger,
      });
    let services = await open();
    await services.recorder.record(signup('r-1', T0), T0);
    // Counted, not collected (as the polling loop runs): the decisions are stored all the same.
    const counted = await services.worker.countDue();
    expect(counted).toBeGreaterThan(0);
    expect(await services.store.listDecisions({ limit: 100 })).toHaveLength(counted);
    expect(await stepsOf(services)).toEqual(['r-1:day-1-banner', 'r-1:day-1-email']);
    await services.close();

    clock.set(T0 + 2 * DAY_MS);
    services = await open();
    await services.worker.runDue();
    await services.worker.runDue();
    await services.close();

    services = await open();
    await services.worker.runDue();
    expect(await stepsOf(services)).toEqual([
      'r-1:day-1-banner',
      'r-1:day-1-email',
      'r-1:day-3-email',
    ]);
    await services.close();
  });
});

describe('a drain that takes time', () => {
  it('decides each round at its own moment, not at the moment the drain began', async () => {
    // A clock that moves ten minutes each time it is read: a slow drain of several rounds.
    let now = T0;
    const clock = { nowMs: () => (now += 10 * 60_000) };
    const small = loadConfig(
      {
        HERALD_WRITE_KEYS: 'web=test-write-key-0001',
        HERALD_ADMIN_TOKEN: 'test-admin-token-0001',
      },
      'decide:\n  worker:\n    batchSize: 2\n',
    );
    const services = await createServices(small, {
      store: await createSqliteStore({ file: ':memory:', synchronous: 'normal' }),
      clock,
      logger: silentLogger,
    });
    try {
      for (const id of ['d-1', 'd-2', 'd-3', 'd-4', 'd-5', 'd-6'])
        await services.recorder.record(signup(id, T0), T0);
      const start = now;
      await services.worker.runDue(start);
      const created = (await services.store.listDecisions({ limit: 100 })).map(
        (d) => d.createdAtMs,
      );
      expect(created.length).toBeGreaterThan(0);
      // Rounds after the first were decided later than the drain's start.
      expect(Math.max(...created)).toBeGreaterThan(start);
    } finally {
      await services.close();
    }
  });
});

describe('the daily sweep after days the worker missed', () => {
  it('celebrates the birthdays of the days it missed, up to three days back, once', async () => {
    const start = Date.UTC(2026, 5, 1, 12);
    const clock = createVirtualClock(start);
    const services = await servicesOn(clock);
    try {
      const born = (userId: string, birthday: string) =>
        aTrack({
          type: 'identify',
          userId,
          name: null,
          traits: { email: `${userId}@example.com`, birthday },
          timestampMs: start,
          receivedAtMs: start,
        });
      await services.recorder.record(
        [born('b-2', '1990-06-02'), born('b-3', '1990-06-03'), born('b-9', '1990-06-09')],
        start,
      );
      clock.set(start + 3_600_000);
      await services.worker.runDue(); // the sweep of 1 June
      // Down through 2 June; back on 3 June, then down again until the 13th.
      for (const at of [
        Date.UTC(2026, 5, 3, 7),
        Date.UTC(2026, 5, 5, 7),
        Date.UTC(2026, 5, 13, 7),
      ]) {
        clock.set(at);
        await services.worker.runDue();
        await services.worker.runDue();
      }
      const birthdays = (await services.store.listDecisions({ limit: 1000 }))
        .filter((d) => d.action === 'birthday')
        .map((d) => d.customerId)
        .sort();
      // 9 June was four days before the sweep of the 13th: too late for a greeting.
      expect(birthdays).toEqual(['b-2', 'b-3']);
    } finally {
      await services.close();
    }
  });
});

describe('a birthday given after the day’s sweep', () => {
  // 14 January in Tokyo: the 06:00 UTC sweep runs before 10:00 UTC (19:00 there), when the
  // birthday comes; the 15th opens there at 23:00 UTC, in that sweep's span only.
  const start = Date.UTC(2026, 0, 14, 6, 30);
  const given = Date.UTC(2026, 0, 14, 10);
  const inTokyo = (userId: string, traits: Record<string, string>, atMs: number, id: string) =>
    aTrack({
      type: 'identify',
      userId,
      name: null,
      messageId: id as ReturnType<typeof aTrack>['messageId'],
      traits,
      context: { timezone: 'Asia/Tokyo' },
      timestampMs: atMs,
      receivedAtMs: atMs,
    });
  /** Runs `story` on services at `start`, then the worker's rounds until the 16th; the birthdays. */
  const birthdaysAfter = async (
    story: (
      services: Awaited<ReturnType<typeof createServices>>,
      clock: VirtualClock,
    ) => Promise<void>,
  ) => {
    const clock = createVirtualClock(start);
    const services = await servicesOn(clock);
    try {
      await story(services, clock);
      for (const at of [given, Date.UTC(2026, 0, 15, 7), Date.UTC(2026, 0, 16, 7)]) {
        clock.set(at);
        await services.worker.runDue();
        await services.worker.runDue();
      }
      return (await services.store.listDecisions({ limit: 1000 })).filter(
        (d) => d.action === 'birthday',
      );
    } finally {
      await services.close();
    }
  };

  /** Kei, known without a birthday through the sweep of 14 January, gives it at `atMs`. */
  const givesBirthdayAt = async (
    services: Awaited<ReturnType<typeof createServices>>,
    clock: VirtualClock,
    atMs: number,
    birthday: string,
  ) => {
    await services.recorder.record(
      [inTokyo('kei', { email: 'kei@example.com' }, start, 'm-1')],
      start,
    );
    await services.worker.runDue(); // the sweep of 14 January
    clock.set(atMs);
    const traits = { email: 'kei@example.com', birthday };
    await services.recorder.record([inTokyo('kei', traits, atMs, 'm-2')], atMs);
  };

  it('is greeted when its day opens in the span of the sweep that ran without it', async () => {
    const birthdays = await birthdaysAfter((services, clock) =>
      givesBirthdayAt(services, clock, given, '1990-01-15'),
    );
    expect(birthdays).toHaveLength(1);
    expect(new Date(birthdays[0]?.scheduledForMs ?? 0).toISOString()).toBe(
      '2026-01-14T23:00:00.000Z',
    );
  });

  it('is greeted when given on the day itself, after the sweep whose span that day opened in', async () => {
    // 19:00 on 14 January in Tokyo (10:00 UTC): the day opened at 23:00 UTC on the 13th, in
    // the 13th's sweep's span, and is not over.
    const late = given;
    const birthdays = await birthdaysAfter(async (services, clock) => {
      await services.recorder.record(
        [inTokyo('kei', { email: 'kei@example.com' }, start, 'm-1')],
        start,
      );
      await services.recorder.record(
        [inTokyo('ren', { email: 'ren@example.com' }, start, 'm-2')],
        start,
      );
      await services.worker.runDue(); // the sweep of 14 January
      clock.set(late);
      await services.recorder.record(
        [
          inTokyo('kei', { email: 'kei@example.com', birthday: '1990-01-14' }, late, 'm-3'),
          inTokyo('ren', { email: 'ren@example.com', birthday: '1990-01-13' }, late, 'm-4'),
        ],
        late,
      );
    });
    expect(birthdays.map((d) => d.customerId)).toEqual(['kei']);
    expect(new Date(birthdays[0]?.scheduledForMs ?? 0).toISOString()).toBe(
      '2026-01-14T10:00:00.000Z',
    );
  });

  it('is not greeted when given once its day is over there, or only quiet hours are left of it', async () => {
    // Tokyo: 22:00 on the 14th (13:00 UTC), quiet until the 15th; 01:00 on the 15th (16:00 UTC),
    // the 14th over. Both days opened in the 13th's sweep's span, which the planner reads.
    const greeted = async (atMs: number) => {
      const clock = createVirtualClock(start);
      const services = await servicesOn(clock);
      try {
        await givesBirthdayAt(services, clock, atMs, '1990-01-14');
        for (const at of [atMs + 60_000, Date.UTC(2026, 0, 15, 7)]) {
          clock.set(at);
          await services.worker.runDue();
          await services.worker.runDue();
        }
        return (await services.store.listDecisions({ limit: 1000 })).filter(
          (d) => d.action === 'birthday',
        ).length;
      } finally {
        await services.close();
      }
    };
    expect(await greeted(Date.UTC(2026, 0, 14, 11, 30))).toBe(1); // 20:30 there: still open
    expect(await greeted(Date.UTC(2026, 0, 14, 13))).toBe(0);
    expect(await greeted(Date.UTC(2026, 0, 14, 16))).toBe(0);
  });

  it('is not greeted again when the record it came with, greeted already, is merged in', async () => {
    const birthdays = await birthdaysAfter(async (services, clock) => {
      const early = start - 3_600_000;
      const traits = { email: 'kei@example.com', birthday: '1990-01-15' };
      await services.recorder.record([inTokyo('kei-a', traits, early, 'b-1')], early);
      const other = { email: 'kei.b@example.com' };
      await services.recorder.record([inTokyo('kei-b', other, early, 'b-2')], early);
      await services.worker.runDue(); // the sweep of 14 January greets kei-a
      clock.set(given);
      const alias = aTrack({
        type: 'alias',
        userId: 'kei-b',
        previousId: 'kei-a',
        name: null,
        messageId: 'b-3' as ReturnType<typeof aTrack>['messageId'],
        timestampMs: given,
        receivedAtMs: given,
      });
      await services.recorder.record([alias], given);
    });
    expect(birthdays).toHaveLength(1);
  });
});

describe('a customer whose decision fails', () => {
  it('has its work retried twice, then marked failed with the error, while the others go on', async () => {
    const clock = createVirtualClock(T0);
    const services = await servicesOn(clock);
    await services.recorder.record([...signup('fine', T0), ...signup('broken', T0)], T0);
    const env = services.decide;
    const figures = env.computeProfile;
    const broken = {
      ...env,
      computeProfile: (state: Parameters<typeof figures>[0], nowMs: number) => {
        if (state.customerId === 'broken') throw new Error('figures unavailable');
        return figures(state, nowMs);
      },
    };
    const round = await runDueWork(services.store, broken, T0, 100);
    services.metrics.observeRound(round);
    expect(round.failures.map((f) => f.customerId)).toEqual(['broken']);
    expect(round.failedItems).toBe(0);
    expect(round.retriedItems).toBe(1);
    expect(round.decisions.map((d) => d.customerId)).toEqual(['fine', 'fine']);
    const workOf = () => services.store.listWork(toCustomerId('broken'), 10);
    expect(await workOf()).toMatchObject([
      {
        status: 'pending',
        dueAtMs: T0 + 60_000,
        note: 'retry 1 after error: Error: figures unavailable',
      },
    ]);
    // Not due again before its retry time; then once more, 4 minutes later; then failed.
    expect((await runDueWork(services.store, broken, T0 + 59_999, 100)).items).toBe(0);
    services.metrics.observeRound(await runDueWork(services.store, broken, T0 + 60_000, 100));
    expect(await workOf()).toMatchObject([{ status: 'pending', dueAtMs: T0 + 60_000 + 240_000 }]);
    const last = await runDueWork(services.store, broken, T0 + 300_000, 100);
    services.metrics.observeRound(last);
    expect(last.failedItems).toBe(1);
    // The metrics count the failing item once, as failed, and its two retries as such: the
    // fine customer's items alone are done.
    const counted = (await services.metrics.render())
      .split('\n')
      .filter((line) => line.startsWith('herald_work_items_total'))
      .sort();
    expect(counted).toEqual([
      `herald_work_items_total{outcome="done"} ${String(round.items - 1)}`,
      'herald_work_items_total{outcome="failed"} 1',
      'herald_work_items_total{outcome="retried"} 2',
    ]);
    expect(await workOf()).toMatchObject([
      { status: 'failed', note: 'error: Error: figures unavailable' },
    ]);
    // Nothing of the failed customer is left due to fail again and again.
    expect((await runDueWork(services.store, env, T0 + 3_600_000, 100)).items).toBe(0);
    await services.close();
  });

  it('ends a journey whose wake-up failed for good, so the customer is not held in it', async () => {
    const clock = createVirtualClock(T0);
    const services = await servicesOn(clock);
    await services.recorder.record(signup('stuck', T0), T0);
    const env = services.decide;
    await runDueWork(services.store, env, T0, 100);
    const membershipsOf = () =>
      services.store.transaction(async (tx) =>
        (await tx.loadMemberships([toCustomerId('stuck')])).get(toCustomerId('stuck')),
      );
    expect(await membershipsOf()).toMatchObject([{ journeyId: 'welcome', status: 'active' }]);
    const figures = env.computeProfile;
    const broken = {
      ...env,
      computeProfile: (state: Parameters<typeof figures>[0], nowMs: number) => {
        if (nowMs > T0) throw new Error('figures unavailable');
        return figures(state, nowMs);
      },
    };
    // The day-3 wake-up, tried three times.
    const wake = T0 + 2 * DAY_MS;
    for (const at of [wake, wake + 60_000, wake + 300_000])
      await runDueWork(services.store, broken, at, 100);
    expect(await membershipsOf()).toMatchObject([
      {
        journeyId: 'welcome',
        status: 'exited',
        exitReason: 'wake-up failed: Error: figures unavailable',
      },
    ]);
    await services.close();
  });
});

describe.skipIf(testDatabaseUrl === undefined)('two workers sharing PostgreSQL', () => {
  const { schema, opened } = sharedTestSchema('herald_workers');

  it('runs every due step exactly once', async () => {
    const clock = createVirtualClock(T0);
    const open = async () => {
      const store: Store = await createPostgresStore({
        url: testDatabaseUrl ?? '',
        poolSize: 6,
        schema,
      });
      const services = await createServices(config, { store, clock, logger: silentLogger });
      opened.push(services);
      return services;
    };
    const a = await open();
    const b = await open();
    const customers = Array.from({ length: 120 }, (_, i) => `w-${i}`);
    for (let i = 0; i < customers.length; i += 20)
      await a.recorder.record(
        customers.slice(i, i + 20).flatMap((id) => signup(id, T0)),
        T0,
      );
    const expected = customers
      .flatMap((id) => [`${id}:day-1-banner`, `${id}:day-1-email`, `${id}:day-3-email`])
      .sort();
    // Both workers drain side by side until the steps due are decided. A drain leaves the work
    // of customers the other worker holds locked for a later one, and how much it leaves
    // depends on how the two interleave: the test waits for the work, not for a number of
    // rounds. A step run twice shows as a duplicate below; one never run, as a missing step.
    const drainBoth = async (steps: number) => {
      for (let round = 0; round < 40 && (await stepsOf(a)).length < steps; round += 1)
        await Promise.all([a.worker.countDue(), b.worker.countDue()]);
    };
    await drainBoth(2 * customers.length);
    clock.set(T0 + 2 * DAY_MS);
    await drainBoth(expected.length);
    const steps = await stepsOf(a);
    expect(steps).toEqual(expected);
  });
});

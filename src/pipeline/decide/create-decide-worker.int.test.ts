import { afterEach, describe, expect, it } from 'vitest';
import { storeFactories } from '../../../test/support/stores.js';
import { DAY_MS, HOUR_MS } from '../../core/time.js';
import { silentLogger, type Logger } from '../../ports/logger.js';
import type { Store } from '../../ports/store.js';
import { SWEEP_RETRY_MS, createDecideWorker } from './create-decide-worker.js';
import { POPULATION } from './run-sweep.js';
import { sweepDayDue } from './sweep-customer.js';
import { aState, anEnv, c1, toComputed, withPolicy } from './test-builders.js';
import { fanOutCampaign } from './schedule-campaign.js';
import { toCustomerId } from '../../core/ids.js';

// 06:30 UTC on 2 June 2026: half an hour after the default sweep hour.
const DAY_1 = Date.UTC(2026, 5, 2, 6, 30);

/** A histogram with all its weight on one hour of the week. */
const peakAt = (hour: number): number[] => {
  const histogram = new Array<number>(168).fill(0);
  histogram[hour] = 1;
  return histogram;
};

describe.each(storeFactories.filter((f) => f.available))(
  'the population histogram of several workers ($name)',
  (factory) => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });

    /** What another worker's sweep of the day of `atMs` stores. */
    const sweptElsewhere = (store: Store, atMs: number, histogram: number[]) =>
      store.transaction(async (tx) => {
        await tx.setSetting(POPULATION, JSON.stringify(histogram));
        await tx.setSetting('decide.sweep.lastDay', String(sweepDayDue(atMs, 6)));
      });

    it('takes up the histogram another worker’s sweep stored, each day', async () => {
      const made = await factory.make();
      cleanups.push(made.cleanup);
      let now = DAY_1;
      const clock = { nowMs: () => now };
      const env = anEnv();
      const worker = createDecideWorker(made.store, env, clock, silentLogger);
      // Day 1: another worker swept first; this one starts with the histogram it stored.
      await sweptElsewhere(made.store, DAY_1, peakAt(10));
      await worker.runDue(DAY_1);
      expect(env.population).toEqual(peakAt(10));
      // Days 2 and 3: the other worker sweeps first again, with the responses since.
      for (const [day, hour] of [
        [1, 20],
        [2, 30],
      ] as const) {
        const atMs = DAY_1 + day * DAY_MS;
        now = atMs;
        await sweptElsewhere(made.store, atMs, peakAt(hour));
        await worker.runDue(atMs);
        expect(env.population).toEqual(peakAt(hour));
      }
      // Within the day, nothing more is read.
      await sweptElsewhere(made.store, DAY_1 + 2 * DAY_MS, peakAt(40));
      await worker.runDue(DAY_1 + 2 * DAY_MS + HOUR_MS);
      expect(env.population).toEqual(peakAt(30));
    });

    it('waits for another worker sweeping the day, and takes the histogram it stores', async () => {
      const made = await factory.make();
      cleanups.push(made.cleanup);
      const clock = { nowMs: () => DAY_1 };
      const env = anEnv();
      const worker = createDecideWorker(made.store, env, clock, silentLogger);
      // Another worker claimed the day a minute ago and is sweeping it.
      await made.store.transaction((tx) =>
        tx.setSetting(
          'decide.sweep.claim',
          JSON.stringify({
            day: sweepDayDue(DAY_1, 6),
            by: 'another',
            untilMs: DAY_1 + 9 * 60_000,
          }),
        ),
      );
      await worker.runDue(DAY_1);
      expect(await made.store.transaction((tx) => tx.getSetting('decide.sweep.lastDay'))).toBe(
        null,
      );
      // It ends the day: this worker, asked again once the retry is due, takes its histogram.
      await sweptElsewhere(made.store, DAY_1, peakAt(12));
      await worker.runDue(DAY_1 + SWEEP_RETRY_MS - 1);
      expect(env.population).toBeNull();
      await worker.runDue(DAY_1 + SWEEP_RETRY_MS);
      expect(env.population).toEqual(peakAt(12));
    });
  },
);

/** A logger that keeps each message with its fields. */
const aRecordingLogger = () => {
  const lines: [string, object][] = [];
  const logger: Logger = {
    ...silentLogger,
    info: (fields, message) => lines.push([message, fields]),
    error: (fields, message) => lines.push([message, fields]),
    child: () => logger,
  };
  return { logger, lines };
};

describe.each(storeFactories.filter((f) => f.available))(
  'a worker whose daily sweep fails ($name)',
  (factory) => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });

    /** A store holding customer c1 and a check of theirs due at DAY_1. */
    const aStoreWithDueWork = async () => {
      const made = await factory.make();
      cleanups.push(made.cleanup);
      const state = aState();
      await made.store.transaction(async (tx) => {
        await tx.saveProfiles([{ customerId: c1, state, computed: toComputed(state, DAY_1) }]);
        await tx.schedule(
          [
            {
              key: 'c1|check',
              customerId: c1,
              dueAtMs: DAY_1,
              trigger: { kind: 'profile-changed' },
            },
          ],
          DAY_1,
        );
      });
      return made.store;
    };

    it('logs the failure, runs the work due all the same, and sweeps again minutes later', async () => {
      const store = await aStoreWithDueWork();
      let down = true;
      let sweeps = 0;
      // The store fails as the sweep pages through the customers (a lost connection).
      const failing: Store = {
        ...store,
        listCustomerIds: (after, limit) => {
          sweeps += 1;
          return down
            ? Promise.reject(new Error('connection lost'))
            : store.listCustomerIds(after, limit);
        },
      };
      const { logger, lines } = aRecordingLogger();
      const worker = createDecideWorker(failing, anEnv(), { nowMs: () => DAY_1 }, logger);
      await worker.runDue(DAY_1);
      expect(lines).toContainEqual(['daily sweep failed', { err: new Error('connection lost') }]);
      expect((await store.listWork(c1, 10)).map((w) => w.status)).toEqual(['done']);
      // Not again on every drain, but once the retry delay has passed.
      down = false;
      await worker.runDue(DAY_1 + SWEEP_RETRY_MS - 1);
      expect(sweeps).toBe(1);
      await worker.runDue(DAY_1 + SWEEP_RETRY_MS);
      expect(lines).toContainEqual(['daily sweep done', { customers: 1, failed: 0 }]);
    });

    it('logs a customer the sweep skips, with their id and the error', async () => {
      const made = await factory.make();
      cleanups.push(made.cleanup);
      const state = aState();
      await made.store.transaction((tx) =>
        tx.saveProfiles([{ customerId: c1, state, computed: toComputed(state, DAY_1) }]),
      );
      const env = anEnv({
        computeProfile: () => {
          throw new RangeError('Invalid time value');
        },
      });
      const { logger, lines } = aRecordingLogger();
      const worker = createDecideWorker(made.store, env, { nowMs: () => DAY_1 }, logger);
      await worker.runDue(DAY_1);
      expect(lines).toEqual([
        [
          'sweep failed for a customer',
          { customerId: c1, err: new RangeError('Invalid time value') },
        ],
        ['daily sweep done', { customers: 1, failed: 1 }],
      ]);
    });
  },
);

describe.each(storeFactories.filter((f) => f.available))(
  'a worker asked to stop while work is due ($name)',
  (factory) => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });

    it('stops after the round in progress, and the rest waits for the next start', async () => {
      const made = await factory.make();
      cleanups.push(made.cleanup);
      const store = made.store;
      const customers = Array.from({ length: 30 }, (_, i) =>
        aState({ customerId: toCustomerId(`s${String(i)}`), userId: `s${String(i)}` }),
      );
      await store.transaction((tx) =>
        tx.saveProfiles(
          customers.map((state) => ({
            customerId: state.customerId,
            state,
            computed: toComputed(state, DAY_1),
          })),
        ),
      );
      const defaults = anEnv().policy;
      const env = anEnv({
        policy: withPolicy({ worker: { ...defaults.worker, batchSize: 5 } }),
      });
      const campaign = {
        id: 'spring',
        segment: null,
        channels: ['email'],
        template: 'promo',
        incentive: null,
        sendAtMs: DAY_1,
        variantIds: [],
      } as unknown as Parameters<typeof fanOutCampaign>[2];
      await fanOutCampaign(store, env, campaign, DAY_1);
      let rounds = 0;
      const asked: { stop: Promise<void> | null } = { stop: null };
      const worker = createDecideWorker(store, env, { nowMs: () => DAY_1 }, silentLogger, {
        // The stop comes while the first round's drain goes on: 30 items, 5 a round.
        onRound: () => {
          rounds += 1;
          asked.stop ??= worker.stop();
        },
      });
      worker.start();
      while (asked.stop === null) await new Promise((resolve) => setTimeout(resolve, 5));
      await asked.stop;
      expect(rounds).toBe(1);
      // The rest is left due, and a later run takes it.
      const pending = async () => {
        let n = 0;
        for (const state of customers)
          n += (await store.listWork(state.customerId, 5)).filter(
            (w) => w.trigger.kind === 'campaign' && w.status === 'pending',
          ).length;
        return n;
      };
      expect(await pending()).toBe(25);
      await worker.runDue(DAY_1);
      expect(await pending()).toBe(0);
    });
  },
);

import { afterEach, describe, expect, it } from 'vitest';
import { storeFactories } from '../../../test/support/stores.js';
import { DAY_MS, HOUR_MS } from '../../core/time.js';
import { silentLogger } from '../../ports/logger.js';
import type { Store } from '../../ports/store.js';
import { createDecideWorker } from './create-decide-worker.js';
import { POPULATION, sweepDayDue } from './run-sweep.js';
import { anEnv } from './test-builders.js';

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
  },
);

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toCustomerId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import {
  experimentResults,
  experimentTimeline,
  promoteWinner,
  reallocateBandits,
  registerExperiment,
  type ExperimentDesign,
} from '../../src/pipeline/experiment-results.js';
import type { AllocationEntry } from '../../src/pipeline/experiment/index.js';
import type { ExperimentUnit } from '../../src/ports/experiment-store.js';
import type { Store } from '../../src/ports/store.js';
import { storeFactories, type RawSql } from '../support/stores.js';

// An adaptive step whose weights moved toward B while everyone's conversion doubled: the arms
// convert alike on each day, so nothing may be promoted. Pooled, B (most of the better day's
// traffic) shows 6.5 % against A's 5.1 %, always-valid p ≈ 0.006.
const T0 = Date.UTC(2026, 0, 5);
const WINDOW = 7 * DAY_MS;
const SLOT = 'j@1/s';

const design: ExperimentDesign = {
  id: 'x',
  kind: 'journey',
  arms: [
    { name: 'A', strategy: null },
    { name: 'B', strategy: null },
  ],
  control: 'A',
  slot: SLOT,
  allocation: 'three-phase',
  holdoutPercent: 0,
  segment: null,
  channel: 'email',
  createdAtMs: T0,
};

const unit = (id: string, arm: string, assignedAtMs: number): ExperimentUnit => ({
  experimentId: 'x',
  customerId: toCustomerId(id),
  arm,
  messageId: `m-${id}`,
  segment: 'Standard',
  channel: 'email',
  assignedAtMs,
  windowEndsMs: assignedAtMs + WINDOW,
});

/** Each day's units: `n` per arm, the first `rate` of them ordering an hour after the message. */
const day = (d: number, n: Record<'A' | 'B', number>, rate: number) =>
  (['A', 'B'] as const).flatMap((arm) =>
    Array.from({ length: n[arm] }, (_, i) => ({
      unit: unit(`${arm}${String(d)}-${String(i)}`, arm, T0 + d * DAY_MS + HOUR_MS),
      buys: i < n[arm] * rate,
    })),
  );

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(
    `an adaptive step under a drifting baseline (${factory.name})`,
    () => {
      let store: Store;
      let raw: RawSql;
      let cleanup: () => Promise<void>;
      beforeEach(async () => {
        ({ store, raw, cleanup } = await factory.make());
      });
      afterEach(async () => {
        await cleanup();
      });

      it('compares the arms within assignment days: no winner for getting the better days', async () => {
        await registerExperiment(store, design);
        // Day 0 split evenly at 4 %; from day 1 the step sent B 80 %, and everyone bought at 8 %.
        const history: AllocationEntry[] = [
          { fromMs: T0 + DAY_MS, weights: { A: 0.2, B: 0.8 }, mode: 'top-two', reasons: [] },
        ];
        const units = [
          ...day(0, { A: 5000, B: 5000 }, 0.04),
          ...day(1, { A: 2000, B: 8000 }, 0.08),
        ];
        await store.transaction(async (tx) => {
          await tx.setSetting(`allocation:${SLOT}`, JSON.stringify(history));
          await tx.assignUnits(units.map((u) => u.unit));
        });
        await raw('UPDATE experiment_units SET exposed_at_ms = assigned_at_ms');
        await store.transaction((tx) =>
          tx.creditOrders(
            units
              .filter((u) => u.buys)
              .map((u) => ({
                customerId: u.unit.customerId,
                atMs: u.unit.assignedAtMs + HOUR_MS,
                revenueCents: 100,
              })),
          ),
        );
        const nowMs = T0 + 10 * DAY_MS;
        const results = await experimentResults(store, 'x', { nowMs });
        expect(results.estimator).toBe('day-stratified');
        // The arms show their pooled rates ...
        expect(results.arms.map((a) => [a.arm, a.tested, a.exposedConverted])).toEqual([
          ['A', 7000, 360],
          ['B', 13000, 840],
        ]);
        if (results.test === null || !('analysis' in results.test)) throw new Error('no test');
        const [conversion] = results.test.analysis.metrics;
        expect(conversion?.strata).toBe(2);
        // ... the comparison is made within days, where they are alike.
        const b = conversion?.comparisons[0];
        expect(b?.absoluteLift.estimate).toBeCloseTo(0, 12);
        expect(b?.alwaysValidP).toBe(1);
        expect(results.test.analysis.sampleRatio.alarm).toBe(false);
        expect(await promoteWinner(store, 'x', nowMs)).toEqual({
          promoted: false,
          reason: 'no significant improvement on conversion',
        });
        // The three-phase step reads the same p-value: no winner phase.
        expect(await reallocateBandits(store, nowMs)).toEqual(['x']);
        const entries = JSON.parse(
          (await store.transaction((tx) => tx.getSetting(`allocation:${SLOT}`))) ?? '[]',
        ) as AllocationEntry[];
        expect(entries.at(-1)?.mode).toBe('top-two');
        // Nor does the timeline's always-valid path, day by day.
        const timeline = await experimentTimeline(store, design, nowMs);
        expect(timeline.map((p) => p.alwaysValidPath['B'])).toEqual([1, 1]);
      });
    },
  );

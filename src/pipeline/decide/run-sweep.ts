import type { CustomerId } from '../../core/ids.js';
import { DAY_MS, HOUR_MS } from '../../core/time.js';
import type { CustomerMarks, WorkDraft } from '../../ports/decide-store.js';
import { segmentCustomer } from './agents/segment-customer.js';
import type { Store } from '../../ports/store.js';
import type { DecideEnv } from './proposal.js';
import { CELEBRATION_GRACE_DAYS, sweepCustomer } from './sweep-customer.js';

const LAST_SWEEP = 'decide.sweep.lastDay';
export const POPULATION = 'decide.population.hourOfWeek';

/** The latest UTC day (days since the epoch) whose sweep hour has passed at `nowMs`. */
export const sweepDayDue = (nowMs: number, sweepHourUtc: number): number => {
  const day = Math.floor(nowMs / DAY_MS);
  return nowMs - day * DAY_MS >= sweepHourUtc * HOUR_MS ? day : day - 1;
};

/**
 * The daily sweep, once per UTC day after `sweepHourUtc`: pages through every customer, schedules
 * the time-based triggers (inactivity, birthdays, anniversaries, stage or segment moved with
 * time), and refreshes the population's response histogram used to smooth send times. A crash
 * repeats the sweep, whose triggers are keyed to fire once. Returns the customers swept, or
 * null when no sweep was due.
 */
export const runSweepIfDue = async (
  store: Store,
  env: DecideEnv,
  nowMs: number,
  pageSize = 500,
): Promise<number | null> => {
  const due = sweepDayDue(nowMs, env.policy.sweepHourUtc);
  const last = await store.transaction((tx) => tx.getSetting(LAST_SWEEP));
  if (last !== null && Number(last) >= due) return null;
  // The days whose celebrations no sweep has looked at yet (the worker was down), back to
  // `CELEBRATION_GRACE_DAYS`; their keys make each fire once.
  const first =
    last === null ? due : Math.max(Number(last) + 1, due - (CELEBRATION_GRACE_DAYS - 1));
  const days = Array.from({ length: due - first + 1 }, (_, i) => (first + i) * DAY_MS);
  const histogram = new Array<number>(168).fill(0);
  let after: CustomerId | null = null;
  let swept = 0;
  for (;;) {
    const ids = await store.listCustomerIds(after, pageSize);
    const lastId = ids.at(-1);
    if (lastId === undefined) break;
    await store.transaction(async (tx) => {
      const profiles = await tx.loadProfiles(ids);
      const marks = await tx.loadMarks(ids);
      const work: WorkDraft[] = [];
      const firstLooks: CustomerMarks[] = [];
      for (const [customerId, state] of profiles) {
        const computed = env.computeProfile(state, nowMs);
        const known = marks.get(customerId);
        work.push(...sweepCustomer(customerId, state, computed, known, env.policy, nowMs, days));
        // Customers no work has touched yet (an import): their stage and segment from now on.
        if (known === undefined)
          firstLooks.push({
            customerId,
            segment: segmentCustomer(state, computed, nowMs, env.policy.segments),
            stage: computed.lifecycleStage,
            updatedAtMs: nowMs,
          });
        for (const [slot, n] of Object.entries(state.responses?.byHourOfWeek ?? {})) {
          const i = Number(slot);
          if (i >= 0 && i < 168) histogram[i] = (histogram[i] ?? 0) + n;
        }
      }
      await tx.schedule(work, nowMs);
      await tx.saveMarks(firstLooks);
    });
    swept += ids.length;
    after = lastId;
  }
  const total = histogram.reduce((a, b) => a + b, 0);
  await store.transaction(async (tx) => {
    if (total > 0) await tx.setSetting(POPULATION, JSON.stringify(histogram.map((n) => n / total)));
    await tx.setSetting(LAST_SWEEP, String(due));
  });
  if (total > 0) env.population = histogram.map((n) => n / total);
  return swept;
};

/** The population histogram stored by the last sweep, or null. */
export const loadPopulation = async (store: Store): Promise<number[] | null> => {
  const text = await store.transaction((tx) => tx.getSetting(POPULATION));
  if (text === null) return null;
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) && parsed.length === 168 ? (parsed as number[]) : null;
};

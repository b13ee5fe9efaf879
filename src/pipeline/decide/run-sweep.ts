import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CustomerId } from '../../core/ids.js';
import type { ProfileState } from '../../core/profile.js';
import { responsesIn } from '../../core/local-time.js';
import { calendarZoneOf } from '../../core/quiet-hours.js';
import { DAY_MS } from '../../core/time.js';
import type { CustomerMarks, WorkDraft } from '../../ports/decide-store.js';
import { segmentCustomer } from './agents/segment-customer.js';
import type { Store, StoreTx } from '../../ports/store.js';
import type { DecideEnv } from './proposal.js';
import { CELEBRATION_GRACE_DAYS, sweepCustomer, sweepDayDue } from './sweep-customer.js';

const LAST_SWEEP = 'decide.sweep.lastDay';
/** Which worker is sweeping which day, and until when its claim holds (renewed every page). */
const SWEEP_CLAIM = 'decide.sweep.claim';

/**
 * A worker's claim on a day's sweep, where several share a database (PostgreSQL): one sweeps,
 * the others wait for it. `by` names the worker, `leaseMs` how long a claim holds unless the
 * sweep renews it (each page does), `clockMs` the time the lease runs by.
 */
export interface SweepClaim {
  by: string;
  leaseMs: number;
  clockMs: () => number;
}

/** Another worker's claim that kept this one from sweeping. */
export interface ClaimedElsewhere {
  claimedBy: string;
  untilMs: number;
}

const claimOf = (text: string | null): { day: number; by: string; untilMs: number } | null => {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as { day?: unknown; by?: unknown; untilMs?: unknown };
    return typeof value.day === 'number' &&
      typeof value.by === 'string' &&
      typeof value.untilMs === 'number'
      ? { day: value.day, by: value.by, untilMs: value.untilMs }
      : null;
  } catch {
    return null;
  }
};
// Local hours since 2026-12-07 (UTC before, under another key: never read as local ones).
export const POPULATION = 'decide.population.localHourOfWeek';

/** The sweep's work for one customer, and their stage and segment when first looked at. */
const lookAt = (
  customerId: CustomerId,
  state: ProfileState,
  known: CustomerMarks | undefined,
  env: DecideEnv,
  nowMs: number,
  days: readonly number[],
): { work: WorkDraft[]; firstLook: CustomerMarks | null } => {
  const computed = env.computeProfile(state, nowMs);
  const work = sweepCustomer(customerId, state, computed, known, env.policy, nowMs, days);
  // Customers no work has touched yet (an import): their stage and segment from now on.
  const firstLook =
    known === undefined
      ? {
          customerId,
          segment: segmentCustomer(state, computed, nowMs, env.policy.segments),
          stage: computed.lifecycleStage,
          updatedAtMs: nowMs,
        }
      : null;
  return { work, firstLook };
};

/** A customer the sweep skipped because looking at them threw, with the error. */
export interface SweepFailure {
  customerId: CustomerId;
  error: unknown;
}

/**
 * The daily sweep, once per UTC day after `sweepHourUtc`: pages through every customer, schedules
 * the time-based triggers (inactivity, birthdays, anniversaries, stage or segment moved with
 * time), and refreshes the population's response histogram used to smooth send times. A crash
 * repeats the sweep, whose triggers are keyed to fire once. A customer whose look throws is
 * reported to `onFailure` and skipped, and the day is still swept for the others: that
 * customer is looked at again by the next day's sweep. Returns the customers swept (skipped
 * ones included), or null when no sweep was due.
 */
export const runSweepIfDue = async (
  store: Store,
  env: DecideEnv,
  nowMs: number,
  options: {
    onFailure?: (failure: SweepFailure) => void;
    pageSize?: number;
    /** This worker's claim on the day, where several share the database; none: no claim. */
    claim?: SweepClaim;
    /** Whether the process asked the sweep to stop (between pages). */
    stopping?: () => boolean;
  } = {},
): Promise<number | null | ClaimedElsewhere> => {
  const { onFailure = () => undefined, pageSize = 500, claim, stopping = () => false } = options;
  const due = sweepDayDue(nowMs, env.policy.sweepHourUtc);
  /**
   * Holds the day for this worker until `untilMs` (0 gives it up), under the claim's lock —
   * unless another worker's claim on it stands: then that claim is left alone and returned.
   * Taking the day, a lapsed claim of another (its worker died) does not stand; renewing or
   * giving it up, any claim of another does (this one lapsed and that worker took the day).
   */
  const holdDay = async (
    tx: StoreTx,
    untilMs: number,
    taking: boolean,
  ): Promise<ClaimedElsewhere | null> => {
    if (claim === undefined) return null;
    await tx.lock([SWEEP_CLAIM]);
    const held = claimOf(await tx.getSetting(SWEEP_CLAIM));
    if (
      held !== null &&
      held.day === due &&
      held.by !== claim.by &&
      (!taking || held.untilMs > claim.clockMs())
    )
      return { claimedBy: held.by, untilMs: held.untilMs };
    await tx.setSetting(SWEEP_CLAIM, JSON.stringify({ day: due, by: claim.by, untilMs }));
    return null;
  };
  const leaseEnd = () => (claim === undefined ? 0 : claim.clockMs() + claim.leaseMs);
  // Read, and the day claimed when asked, in one transaction: of several workers asking at
  // once, one finds the day free and claims it, the others find its claim.
  const start = await store.transaction(async (tx) => {
    const last = await tx.getSetting(LAST_SWEEP);
    const done = last !== null && Number(last) >= due;
    return { last, elsewhere: done ? null : await holdDay(tx, leaseEnd(), true) };
  });
  if (start.elsewhere !== null) return start.elsewhere;
  const last = start.last;
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
    // Asked to stop (the process exits): the day is not marked swept, and the next sweep
    // repeats it, its triggers keyed to fire once; the claim is given up for another worker.
    if (stopping()) {
      await store.transaction((tx) => holdDay(tx, 0, false));
      return null;
    }
    const ids = await store.listCustomerIds(after, pageSize);
    const lastId = ids.at(-1);
    if (lastId === undefined) break;
    // What the page found is taken once its transaction commits (PostgreSQL may run it again).
    const page = await store.transaction(async (tx) => {
      // Under the customers' locks, as an erasure takes them: one erased between the listing
      // and this read is not found, rather than given marks and work again that nothing erases.
      await tx.lock(ids);
      const profiles = await tx.loadProfiles(ids);
      const marks = await tx.loadMarks(ids);
      const work: WorkDraft[] = [];
      const firstLooks: CustomerMarks[] = [];
      const failures: SweepFailure[] = [];
      const responses = new Array<number>(168).fill(0);
      for (const [customerId, state] of profiles) {
        // One customer's facts (a time no calendar has, say) must not stop the sweep, nor the
        // scheduler that runs it, for everyone: their look is all or nothing, the rest go on.
        let look: ReturnType<typeof lookAt>;
        try {
          look = lookAt(customerId, state, marks.get(customerId), env, nowMs, days);
        } catch (error) {
          failures.push({ customerId, error });
          continue;
        }
        work.push(...look.work);
        if (look.firstLook !== null) firstLooks.push(look.firstLook);
        // Counted by the customer's local hour: a New Yorker's 19:00 and a Berliner's 19:00 are
        // one habit, six UTC hours apart (counts kept in another zone, or by UTC hour, moved to
        // theirs now).
        const own =
          state.responses === undefined
            ? undefined
            : responsesIn(
                state.responses,
                calendarZoneOf(state.location, state.traits['phone'], env.policy.quietHours),
                nowMs,
              );
        // Each customer weighs one: their habit as shares of their own responses. Summed as
        // counts, one inbox that opens everything (a scanner, a test address) was everyone's.
        const counted =
          own === undefined
            ? []
            : Object.entries(own).filter(([slot, n]) => {
                const i = Number(slot);
                return Number.isInteger(i) && i >= 0 && i < 168 && n > 0;
              });
        const all = counted.reduce((sum, [, n]) => sum + n, 0);
        for (const [slot, n] of counted) {
          const i = Number(slot);
          responses[i] = (responses[i] ?? 0) + n / all;
        }
      }
      await tx.schedule(work, nowMs);
      await tx.saveMarks(firstLooks);
      const lost = await holdDay(tx, leaseEnd(), false);
      return { failures, responses, lost };
    });
    // Another worker took the day while this one stalled past its claim: what this page
    // scheduled stands (its keys fire once), and that worker sweeps the rest.
    if (page.lost !== null) return page.lost;
    for (const [i, n] of page.responses.entries()) histogram[i] = (histogram[i] ?? 0) + n;
    for (const failure of page.failures) onFailure(failure);
    swept += ids.length;
    after = lastId;
    // The event loop's turn between pages (on SQLite none waits on I/O): a signal to stop, or a
    // request to the same process, is heard during a sweep of every customer.
    await nextTurn();
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

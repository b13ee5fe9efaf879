import type { Services } from '../app/create-services.js';
import type { Config } from '../app/load-config.js';
import type { Decision } from '../core/decision.js';
import type { HeraldEvent } from '../core/event.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../core/time.js';
import type { VirtualClock } from '../adapters/clock/virtual-clock.js';
import type { EventCursor, Store } from '../ports/store.js';

export interface SimulationSummary {
  /** Labelled so nobody mistakes a replay for what happened. */
  simulated: true;
  from: string;
  to: string;
  events: number;
  decisions: number;
  byAgent: Record<string, Record<string, number>>;
  byAction: Record<string, number>;
  wallMs: number;
}

export interface SimulationOptions {
  fromMs: number;
  toMs: number;
  /** Wall-clock time source for the summary's `wallMs` (the simulation runs on virtual time). */
  wallNowMs: () => number;
  onProgress?: (events: number, atMs: number) => void;
}

// Events are recorded in slices at most this wide, and never across a due time or a daily
// sweep: what an event triggers at once is decided at the end of its slice.
const SLICE_MS = 5 * MINUTE_MS;
const PAGE = 5000;

/**
 * The configuration a simulation runs under: the source's, on a fresh embedded database (in
 * memory, or the SQLite file named) whose profiles stay cached for the whole replay.
 */
export const simulationConfig = (config: Config, file = ':memory:'): Config => ({
  ...config,
  storage: {
    driver: 'sqlite',
    file,
    synchronous: 'normal',
    dedupWindow: 1_000_000,
    profileCacheSize: 50_000,
    profileFlushMs: 60_000,
  },
});

const nextSweepAtMs = (afterMs: number, sweepHourUtc: number): number => {
  const day = Math.floor(afterMs / DAY_MS);
  const today = day * DAY_MS + sweepHourUtc * HOUR_MS;
  return today > afterMs ? today : today + DAY_MS;
};

/**
 * Replays `source`'s stored events between two instants into `target` (a fresh store) on a
 * virtual clock, firing every timer, journey step and daily sweep at the virtual moment it
 * falls due — what Herald would have decided had it been running then.
 */
export const simulate = async (
  source: Store,
  target: Services,
  clock: VirtualClock,
  options: SimulationOptions,
): Promise<SimulationSummary> => {
  const startedMs = options.wallNowMs();
  const decisions: Decision[] = [];
  const sweepHour = target.decide.policy.sweepHourUtc;
  clock.set(Math.max(clock.nowMs(), options.fromMs));

  /** The next moment something falls due: work or the daily sweep. */
  let nextDue = Number.NEGATIVE_INFINITY;
  const refreshNextDue = async () => {
    const due = (await target.store.nextDueAtMs()) ?? Number.POSITIVE_INFINITY;
    nextDue = Math.min(due, nextSweepAtMs(clock.nowMs(), sweepHour));
  };
  /** Runs everything due up to `untilMs`, stopping at each due time and each daily sweep. */
  const runUntil = async (untilMs: number) => {
    await refreshNextDue();
    while (nextDue <= untilMs) {
      clock.set(Math.max(clock.nowMs(), nextDue));
      decisions.push(...(await target.worker.runDue(clock.nowMs())));
      await refreshNextDue();
    }
    clock.set(Math.max(clock.nowMs(), untilMs));
  };

  let cursor: EventCursor | null = {
    timestampMs: options.fromMs - 1,
    seq: Number.MAX_SAFE_INTEGER,
  };
  let replayed = 0;
  let slice: HeraldEvent[] = [];
  const flush = async () => {
    const last = slice.at(-1);
    if (last === undefined) return;
    clock.set(Math.max(clock.nowMs(), last.timestampMs));
    await target.recorder.record(slice, clock.nowMs());
    replayed += slice.length;
    slice = [];
    decisions.push(...(await target.worker.runDue(clock.nowMs())));
    await refreshNextDue();
  };
  for (;;) {
    const page = await source.scanEvents(cursor, PAGE);
    for (const event of page) {
      if (event.timestampMs > options.toMs) break;
      const first = slice[0];
      if (
        first !== undefined &&
        (event.timestampMs - first.timestampMs > SLICE_MS || event.timestampMs >= nextDue)
      )
        await flush();
      if (slice.length === 0) await runUntil(event.timestampMs);
      slice.push(event);
    }
    const last = page.at(-1);
    if (last === undefined || last.timestampMs > options.toMs || page.length < PAGE) break;
    cursor = { timestampMs: last.timestampMs, seq: last.seq };
    options.onProgress?.(replayed, clock.nowMs());
  }
  await flush();
  await runUntil(options.toMs);

  const byAgent: SimulationSummary['byAgent'] = {};
  const byAction: SimulationSummary['byAction'] = {};
  for (const d of decisions) {
    const agent = (byAgent[d.agent] ??= {});
    agent[d.status] = (agent[d.status] ?? 0) + 1;
    byAction[d.action] = (byAction[d.action] ?? 0) + 1;
  }
  return {
    simulated: true,
    from: new Date(options.fromMs).toISOString(),
    to: new Date(options.toMs).toISOString(),
    events: replayed,
    decisions: decisions.length,
    byAgent,
    byAction,
    wallMs: options.wallNowMs() - startedMs,
  };
};

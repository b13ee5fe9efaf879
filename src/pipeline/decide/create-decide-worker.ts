import { setImmediate as nextTurn } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { Decision } from '../../core/decision.js';
import { createPollingLoop } from '../../core/polling-loop.js';
import { MINUTE_MS } from '../../core/time.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { Store } from '../../ports/store.js';
import type { DecideEnv } from './proposal.js';
import { runDueWork, type WorkRound } from './run-due-work.js';
import { loadPopulation, runSweepIfDue } from './run-sweep.js';
import { sweepDayDue } from './sweep-customer.js';

export interface WorkerObserver {
  /** Told after each round that finished work. */
  onRound?(round: WorkRound): void;
}

/** How long after a daily sweep failed a worker tries it again. */
export const SWEEP_RETRY_MS = 5 * MINUTE_MS;
/**
 * How long a worker's claim on the day's sweep holds without being renewed (each page of 500
 * customers renews it): past it, a worker that died part-way is taken to be gone, and another
 * sweeps (its triggers keyed to fire once).
 */
export const SWEEP_LEASE_MS = 10 * MINUTE_MS;

interface Drained {
  /** Every decision made, when asked to collect them; empty otherwise. */
  decisions: Decision[];
  count: number;
}

/** The scheduler's worker: runs due work (and the daily sweep) until none is left. */
export interface DecideWorker {
  /** Runs everything due at `nowMs` (the clock's now by default), then returns what it decided. */
  runDue(nowMs?: number): Promise<Decision[]>;
  /**
   * The same, returning only how many decisions it made: a large campaign's decisions are not
   * held in memory until the last of them is made (the polling loop runs this way).
   */
  countDue(nowMs?: number): Promise<number>;
  /** Polls every `pollMs`, and soon after `nudge()`. */
  start(): void;
  /** Asks a started worker to look for due work now (after events were recorded). */
  nudge(): void;
  /** Stops polling and waits for a round in progress. */
  stop(): Promise<void>;
}

export const createDecideWorker = (
  store: Store,
  env: DecideEnv,
  clock: Clock,
  logger: Logger,
  observer: WorkerObserver = {},
): DecideWorker => {
  const { batchSize, pollMs } = env.policy.worker;
  // Several workers on one database (PostgreSQL): one sweeps a day, the others wait for it.
  const claim = {
    by: randomUUID(),
    leaseMs: SWEEP_LEASE_MS,
    clockMs: () => clock.nowMs(),
  };
  let sweptDay = Number.NEGATIVE_INFINITY;
  let sweepRetryAtMs = Number.NEGATIVE_INFINITY;

  const drain = async (
    nowMs: number,
    collect: boolean,
    stopping: () => boolean,
  ): Promise<Drained> => {
    // The day swept last only moves forward: once it is known to be done, no need to ask.
    const due = sweepDayDue(nowMs, env.policy.sweepHourUtc);
    if (sweptDay < due && nowMs >= sweepRetryAtMs) {
      try {
        let failed = 0;
        const swept = await runSweepIfDue(store, env, nowMs, {
          onFailure: (f) => {
            failed += 1;
            logger.error({ customerId: f.customerId, err: f.error }, 'sweep failed for a customer');
          },
          claim,
          stopping,
        });
        if (swept !== null && typeof swept === 'object') {
          // Another worker is sweeping the day: asked again later (to learn it is done), or
          // when its claim runs out if that is sooner (it died part-way).
          logger.debug({ claimedBy: swept.claimedBy }, 'daily sweep claimed by another worker');
          sweepRetryAtMs = nowMs + Math.min(SWEEP_RETRY_MS, Math.max(0, swept.untilMs - nowMs));
        } else if (!stopping()) {
          if (swept !== null) logger.info({ customers: swept, failed }, 'daily sweep done');
          // The day's population histogram, whichever worker swept it (another process, on a
          // shared database) — on the first drain, the one stored by the last sweep.
          env.population = (await loadPopulation(store)) ?? env.population;
          sweptDay = due;
        }
      } catch (error) {
        // The sweep only schedules work: one that fails (the store, part-way) must not keep
        // the work already due from running. It is tried again later, not on every drain
        // (ingest nudges the worker after each commit); its triggers are keyed to fire once.
        logger.error({ err: error }, 'daily sweep failed');
        sweepRetryAtMs = nowMs + SWEEP_RETRY_MS;
      }
    }
    const decided: Decision[] = [];
    let count = 0;
    const startedAtMs = clock.nowMs();
    if (stopping()) return { decisions: decided, count };
    for (;;) {
      // Each round decides at its own moment — the drain's, moved on by the time the drain has
      // taken: a sweep of every customer or a backlog can take minutes, and a round decided at
      // the drain's start would schedule messages in the past, judged against quiet hours that
      // have begun since. (A virtual clock that stands still keeps every round at `nowMs`.)
      const roundNowMs = nowMs + Math.max(0, clock.nowMs() - startedAtMs);
      const round = await runDueWork(store, env, roundNowMs, batchSize);
      for (const f of round.failures)
        logger.error({ customerId: f.customerId, err: f.error }, 'decide failed for a customer');
      if (round.items > 0) observer.onRound?.(round);
      count += round.decisions.length;
      if (collect) decided.push(...round.decisions);
      // A round can make more work due at once (a journey's next step, a wave): go on until a
      // round finds nothing it can take (the rest, if any, belongs to customers busy elsewhere).
      if (round.items === 0 || !round.moreDue) return { decisions: decided, count };
      // Between rounds, the event loop's turn: on SQLite a round never waits on I/O, and a
      // drain of rounds chained by promises alone would hold off signals (a SIGTERM heard only
      // after the whole backlog) and HTTP requests until it ended.
      await nextTurn();
      // Asked to stop: the rounds run have committed; the rest is due at the next start.
      if (stopping()) return { decisions: decided, count };
    }
  };

  const loop = createPollingLoop<Drained>(
    drain,
    { decisions: [], count: 0 },
    {
      pollMs,
      nowMs: () => clock.nowMs(),
      onError: (error) => {
        logger.error({ err: error }, 'decide round failed');
      },
    },
  );
  return {
    runDue: async (nowMs) => (await loop.runDue(nowMs, true)).decisions,
    countDue: async (nowMs) => (await loop.runDue(nowMs, false)).count,
    start: () => {
      loop.start();
    },
    nudge: () => {
      loop.nudge();
    },
    stop: () => loop.stop(),
  };
};

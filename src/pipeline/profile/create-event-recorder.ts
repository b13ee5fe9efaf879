import type { HeraldEvent } from '../../core/event.js';
import type { LiveChurnModel } from '../../core/profile.js';
import { currencyIn, rateOf } from '../../core/read-props.js';
import type { Store, StoreTx } from '../../ports/store.js';
import type { ProfilePolicy } from './policy.js';
import {
  createDeferredProfiles,
  recordEvents,
  settleDeferred,
  type OnRecorded,
} from './record-events.js';

/** The events whose amounts the profile counts (`orderValueIn`). */
const ORDER_EVENTS: ReadonlySet<string> = new Set([
  'Order Completed',
  'Order Refunded',
  'Order Cancelled',
]);

export interface RecordedBatch {
  stored: number;
  duplicates: number;
}

/** Records batches of events, committing concurrent callers' batches together. */
/** Work that commits with a batch's events or not at all (an audit entry about them). */
export type WithBatch = (tx: StoreTx) => Promise<void>;

export interface EventRecorder {
  /**
   * Records the events; `within` runs in the same transaction, after them and under their
   * customers' locks, and if it throws nothing of this batch is stored.
   */
  record(events: readonly HeraldEvent[], nowMs: number, within?: WithBatch): Promise<RecordedBatch>;
  /**
   * Brings the profiles a bulk recorder left behind up to date (see `deferProfiles`) and
   * returns how many it wrote; 0 for a recorder that keeps them current.
   */
  settle(nowMs: number, onProgress?: (done: number, total: number) => void): Promise<number>;
}

interface Waiting {
  events: readonly HeraldEvent[];
  nowMs: number;
  within: WithBatch | undefined;
  resolve(outcome: RecordedBatch): void;
  reject(error: unknown): void;
}

const outcomeOf = (isNew: readonly boolean[]): RecordedBatch => {
  const stored = isNew.filter(Boolean).length;
  return { stored, duplicates: isNew.length - stored };
};

/**
 * Group commit: while `concurrency` transactions run (1 for SQLite's single writer, several for
 * PostgreSQL's pool), later batches wait and then share the next one (up to `maxEvents`), so a burst of small requests pays for one commit instead of many. Each
 * caller still learns exactly which of its events were new. If a shared transaction fails,
 * its batches are retried one by one, so one bad batch cannot fail its neighbours.
 */
export const createEventRecorder = (
  store: Store,
  policy: ProfilePolicy,
  options: {
    maxEvents?: number;
    concurrency?: number;
    onRecorded?: OnRecorded;
    /** The trained churn model profiles are scored with (the rule-based score without one). */
    churnModel?: LiveChurnModel;
    /**
     * A bulk load (`herald import`): where the store can leave profiles behind their events,
     * batches store events and orders only, and `settle` rebuilds each changed profile once
     * from its events at the end (docs/architecture.md, "Imports rebuild profiles once").
     */
    deferProfiles?: boolean;
    /**
     * Told of new order events in a currency with no rate in `profile.exchangeRates` (their
     * value is not counted), by currency: to be logged and counted where someone will see it.
     */
    onUnconverted?: (currency: string, events: number) => void;
  } = {},
): EventRecorder => {
  const deferred = options.deferProfiles === true ? createDeferredProfiles() : undefined;
  const maxEvents = options.maxEvents ?? 5000;
  const concurrency = options.concurrency ?? 1;
  const queue: Waiting[] = [];
  let running = 0;

  const takeGroup = (): Waiting[] => {
    const group: Waiting[] = [];
    let size = 0;
    while (queue.length > 0) {
      const next = queue[0];
      if (next === undefined || (group.length > 0 && size + next.events.length > maxEvents)) break;
      group.push(next);
      size += next.events.length;
      queue.shift();
    }
    return group;
  };

  /** The recording hook, followed by the batches' own work in the same transaction. */
  const onRecordedWith = (group: readonly Waiting[]): OnRecorded | undefined => {
    const withins = group.flatMap((w) => (w.within === undefined ? [] : [w.within]));
    if (withins.length === 0) return options.onRecorded;
    return async (tx, changes, nowMs) => {
      await options.onRecorded?.(tx, changes, nowMs);
      for (const within of withins) await within(tx);
    };
  };

  /** Tells `onUnconverted` of the new events among `events` it should hear of. */
  const reportUnconverted = (events: readonly HeraldEvent[], isNew: readonly boolean[]) => {
    const tell = options.onUnconverted;
    if (tell === undefined) return;
    const counts = new Map<string, number>();
    for (let i = 0; i < events.length; i += 1) {
      const event = events[i];
      if (event === undefined || isNew[i] !== true || event.type !== 'track') continue;
      if (!ORDER_EVENTS.has(event.name ?? '')) continue;
      const currency = currencyIn(event.properties);
      if (currency === null || rateOf(currency, policy) !== null) continue;
      counts.set(currency, (counts.get(currency) ?? 0) + 1);
    }
    // Only told: the batch has committed, and its callers learn so whatever the listener does.
    for (const [currency, n] of counts)
      try {
        tell(currency, n);
      } catch {
        // A failing listener changes nothing recorded.
      }
  };

  const runAlone = async (w: Waiting) => {
    try {
      const { isNew } = await recordEvents(
        store,
        w.events,
        policy,
        w.nowMs,
        onRecordedWith([w]),
        options.churnModel,
        deferred,
      );
      reportUnconverted(w.events, isNew);
      w.resolve(outcomeOf(isNew));
    } catch (error) {
      w.reject(error);
    }
  };

  const drain = async () => {
    running += 1;
    while (queue.length > 0) {
      const group = takeGroup();
      const only = group[0];
      if (group.length === 1 && only !== undefined) {
        await runAlone(only);
        continue;
      }
      try {
        const nowMs = Math.max(...group.map((w) => w.nowMs));
        const events = group.flatMap((w) => w.events);
        const { isNew } = await recordEvents(
          store,
          events,
          policy,
          nowMs,
          onRecordedWith(group),
          options.churnModel,
          deferred,
        );
        reportUnconverted(events, isNew);
        let offset = 0;
        for (const w of group) {
          w.resolve(outcomeOf(isNew.slice(offset, offset + w.events.length)));
          offset += w.events.length;
        }
      } catch {
        for (const w of group) await runAlone(w);
      }
    }
    running -= 1;
  };

  return {
    record(events, nowMs, within) {
      if (events.length === 0) return Promise.resolve({ stored: 0, duplicates: 0 });
      return new Promise((resolve, reject) => {
        queue.push({ events, nowMs, within, resolve, reject });
        if (running < concurrency) void drain();
      });
    },
    settle(nowMs, onProgress) {
      if (deferred === undefined) return Promise.resolve(0);
      return settleDeferred(store, deferred, policy, nowMs, {
        ...(options.onRecorded === undefined ? {} : { onRecorded: options.onRecorded }),
        ...(options.churnModel === undefined ? {} : { churnModel: options.churnModel }),
        ...(onProgress === undefined ? {} : { onProgress }),
      });
    },
  };
};

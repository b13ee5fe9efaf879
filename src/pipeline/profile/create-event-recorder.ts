import type { HeraldEvent } from '../../core/event.js';
import type { LiveChurnModel } from '../../core/profile.js';
import type { Store } from '../../ports/store.js';
import type { ProfilePolicy } from './policy.js';
import { recordEvents, type OnRecorded } from './record-events.js';

export interface RecordedBatch {
  stored: number;
  duplicates: number;
}

/** Records batches of events, committing concurrent callers' batches together. */
export interface EventRecorder {
  record(events: readonly HeraldEvent[], nowMs: number): Promise<RecordedBatch>;
}

interface Waiting {
  events: readonly HeraldEvent[];
  nowMs: number;
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
  } = {},
): EventRecorder => {
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

  const runAlone = async (w: Waiting) => {
    try {
      w.resolve(
        outcomeOf(
          (
            await recordEvents(
              store,
              w.events,
              policy,
              w.nowMs,
              options.onRecorded,
              options.churnModel,
            )
          ).isNew,
        ),
      );
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
        const { isNew } = await recordEvents(
          store,
          group.flatMap((w) => w.events),
          policy,
          nowMs,
          options.onRecorded,
          options.churnModel,
        );
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
    record(events, nowMs) {
      if (events.length === 0) return Promise.resolve({ stored: 0, duplicates: 0 });
      return new Promise((resolve, reject) => {
        queue.push({ events, nowMs, resolve, reject });
        if (running < concurrency) void drain();
      });
    },
  };
};

import type { Services } from '../app/create-services.js';
import type { HeraldEvent } from '../core/event.js';
import type { ProfileState } from '../core/profile.js';
import { DAY_MS, HOUR_MS } from '../core/time.js';
import type { CustomerMarks } from '../ports/decide-store.js';
import { runSweepIfDue, segmentCustomer } from '../pipeline/decide/index.js';
import { rememberAddressBounces } from '../pipeline/erased-identities.js';
import { createEventRecorder, type OnRecorded } from '../pipeline/profile/index.js';
import { addressBouncesIn } from '../pipeline/stages.js';
import { markCancelledOrders } from '../pipeline/track-messages.js';
import { rememberReplayedOptOuts } from './replayed-events.js';

/** Events recorded a transaction (the recorder's group-commit ceiling). */
const CHUNK = 5000;
const CLAIM = 2000;

/** The last daily sweep before `fromMs`: live Herald ran it, and what it fired, before the window. */
export const lastSweepBeforeMs = (fromMs: number, sweepHourUtc: number): number => {
  const sameDay = Math.floor((fromMs - 1) / DAY_MS) * DAY_MS + sweepHourUtc * HOUR_MS;
  return sameDay < fromMs ? sameDay : sameDay - DAY_MS;
};

/** The history the simulation starts from, fed in time order; `finish` once it is all in. */
export interface HistoryReplay {
  add(event: HeraldEvent): Promise<void>;
  /** Records what is left and leaves the daily sweep done up to the last one before the window. */
  finish(): Promise<void>;
  /** Events handed to `add` so far. */
  readonly events: number;
}

/**
 * Replays the events before a simulation's window into `target` as history, the way Herald's
 * state stood when the window opened: the profiles (order counts, last activity, birthdays,
 * consent) and what the decide stage remembers of each customer (their stage and segment as last
 * seen, address bounces, cancelled orders), but no trigger planned and no decision made — no
 * journey, timer or message carries over. The last daily sweep before the window runs on the
 * history as it stood then and its triggers are cancelled unrun: live Herald fired them before
 * the window, and their keys keep the window's sweeps from firing them again.
 */
export const createHistoryReplay = (target: Services, fromMs: number): HistoryReplay => {
  const { policy } = target.decide;
  const marksOf = (
    customerId: CustomerMarks['customerId'],
    state: ProfileState,
    atMs: number,
  ): CustomerMarks => {
    const computed = target.decide.computeProfile(state, atMs);
    return {
      customerId,
      stage: computed.lifecycleStage,
      segment: segmentCustomer(state, computed, atMs, policy.segments),
      updatedAtMs: atMs,
    };
  };
  // The live hook without the planner, nor what only concerns messages (none is replayed).
  const onRecorded: OnRecorded = async (tx, changes, nowMs) => {
    await rememberAddressBounces(tx, addressBouncesIn(changes));
    for (const change of changes)
      await rememberReplayedOptOuts(tx, change.events, () => change.after);
    await markCancelledOrders(tx, changes);
    // Live, the worker looks at a customer whose event moves their stage or segment at once:
    // what it last saw of everyone is what they became with their latest events.
    await tx.saveMarks(
      changes.map((c) => ({
        customerId: c.customerId,
        stage: c.afterComputed.lifecycleStage,
        segment: segmentCustomer(c.after, c.afterComputed, nowMs, policy.segments),
        updatedAtMs: nowMs,
      })),
    );
  };
  const recorder = createEventRecorder(target.store, target.config.profilePolicy, {
    churnModel: target.churnModel,
    onRecorded,
  });
  const sweepAtMs = lastSweepBeforeMs(fromMs, policy.sweepHourUtc);

  /** The sweep's triggers, cancelled; a stage or segment it found moved is taken as seen. */
  const cancelSweepWork = async (): Promise<number> =>
    target.store.transaction(async (tx) => {
      const items = await tx.claimDue(sweepAtMs, CLAIM);
      if (items.length === 0) return 0;
      const checked = items.flatMap((i) =>
        i.trigger.kind === 'profile-changed' ? [i.customerId] : [],
      );
      if (checked.length > 0) {
        const profiles = await tx.loadProfiles(checked);
        await tx.saveMarks([...profiles].map(([id, state]) => marksOf(id, state, sweepAtMs)));
      }
      await tx.finishWork(
        items.map((i) => ({ id: i.id, status: 'cancelled', note: 'before the simulated window' })),
        sweepAtMs,
      );
      return items.length;
    });

  let chunk: HeraldEvent[] = [];
  let events = 0;
  let swept = false;
  const flush = async () => {
    const last = chunk.at(-1);
    if (last === undefined) return;
    await recorder.record(chunk, last.timestampMs);
    chunk = [];
  };
  const sweep = async () => {
    if (swept) return;
    swept = true;
    await flush();
    await runSweepIfDue(target.store, target.decide, sweepAtMs);
    for (let cancelled = 1; cancelled > 0;) cancelled = await cancelSweepWork();
  };
  return {
    async add(event) {
      if (!swept && event.timestampMs >= sweepAtMs) await sweep();
      chunk.push(event);
      events += 1;
      if (chunk.length >= CHUNK) await flush();
    },
    async finish() {
      await sweep();
      await flush();
    },
    get events() {
      return events;
    },
  };
};

import type { Services } from '../app/create-services.js';
import type { Config } from '../app/load-config.js';
import type { Decision } from '../core/decision.js';
import type { HeraldEvent } from '../core/event.js';
import { DAY_MS, MINUTE_MS } from '../core/time.js';
import type { VirtualClock } from '../adapters/clock/virtual-clock.js';
import type { ModelDraft, ModelVersion } from '../ports/model-store.js';
import type { EventCursor, Store } from '../ports/store.js';
import { createHistoryReplay, lastSweepBeforeMs } from './replay-history.js';
import { asReplayed, isEmailOptOut, rememberReplayedOptOuts } from './replayed-events.js';
import { HERALD_SOURCE, IMPORT_SOURCE_PREFIX } from '../core/event-names.js';
import { readRollout, rolloutAt, storeRolloutAsReplayed } from '../pipeline/rollout.js';

export interface SimulationSummary {
  /** Labelled so nobody mistakes a replay for what happened. */
  simulated: true;
  from: string;
  to: string;
  /** Events before `from` replayed as history: profiles only, nothing decided. */
  history: number;
  /** Events in the window, each recorded at its own time. */
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
  /** Told after each page of stored events: how many so far (history too), and when the last was. */
  onProgress?: (events: number, atMs: number) => void;
}

const PAGE = 5000;
/** Model versions read from the source: a year of hourly training runs and more. */
const MODELS_READ = 20_000;

/** A registered model as a training run to register again (under the target's own version). */
const draftOf = (m: ModelVersion): ModelDraft => ({
  kind: m.kind,
  status: m.status,
  reason: m.reason,
  trainedAtMs: m.trainedAtMs,
  windowStartMs: m.windowStartMs,
  windowEndMs: m.windowEndMs,
  features: m.features,
  params: m.params,
  metrics: m.metrics,
  details: m.details,
});

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

/**
 * Replays `source`'s stored events into `target` (a fresh store) on a virtual clock: those before
 * `fromMs` as history (profiles and what the decide stage remembers, nothing decided:
 * `createHistoryReplay`), then those up to `toMs` as live Herald records them — each at its own
 * time, followed by the work it makes due — firing every timer, journey step and daily sweep at
 * the virtual moment it falls due: what Herald would have decided had it been running then.
 */
export const simulate = async (
  source: Store,
  target: Services,
  clock: VirtualClock,
  options: SimulationOptions,
): Promise<SimulationSummary> => {
  const startedMs = options.wallNowMs();
  const byAgent: SimulationSummary['byAgent'] = {};
  const byAction: SimulationSummary['byAction'] = {};
  let decided = 0;
  const count = (decisions: readonly Decision[]) => {
    decided += decisions.length;
    for (const d of decisions) {
      const agent = (byAgent[d.agent] ??= {});
      agent[d.status] = (agent[d.status] ?? 0) + 1;
      byAction[d.action] = (byAction[d.action] ?? 0) + 1;
    }
  };
  const { sweepHourUtc, staleEventMinutes } = target.decide.policy;
  clock.set(Math.max(clock.nowMs(), options.fromMs));
  // The churn and conversion models live Herald trained, each taken up when the virtual clock
  // reaches its training: stages and channel choices are scored as they were live, not by the
  // rules of an empty registry.
  const models = (await source.listModels(MODELS_READ))
    .filter((m) => m.trainedAtMs < options.toMs)
    .sort((a, b) => a.trainedAtMs - b.trainedAtMs || a.version - b.version);
  let adopted = 0;
  const adoptModels = async (untilMs: number) => {
    const from = adopted;
    for (
      let m = models[adopted];
      m !== undefined && m.trainedAtMs <= untilMs;
      m = models[adopted]
    ) {
      await target.store.saveModel(draftOf(m));
      adopted += 1;
    }
    if (adopted === from) return;
    await target.churnModel.refresh();
    await target.conversionModel.refresh();
  };
  // The staged rollout live Herald ran, each step taken as the virtual clock reaches it: only
  // the cohort of its time gets automated marketing, as live.
  const rollout = await readRollout(source);
  const rolloutSteps = rollout?.history.filter((step) => step.atMs < options.toMs) ?? [];
  let rolled = 0;
  const adoptRollout = async (untilMs: number) => {
    const from = rolled;
    while ((rolloutSteps[rolled]?.atMs ?? Number.POSITIVE_INFINITY) <= untilMs) rolled += 1;
    const state = rollout === null || rolled === from ? null : rolloutAt(rollout, untilMs);
    if (state !== null) await storeRolloutAsReplayed(target.store, state);
  };
  const adoptLive = async (untilMs: number) => {
    await adoptModels(untilMs);
    await adoptRollout(untilMs);
  };
  await adoptLive(options.fromMs);
  const history = createHistoryReplay(target, options.fromMs);
  let inWindow = false;
  // The history ran the last sweep before the window; the window's first is the day after it —
  // at `fromMs` itself when the window opens on the sweep hour.
  let sweepAtMs = lastSweepBeforeMs(options.fromMs, sweepHourUtc) + DAY_MS;

  /** The next moment something falls due (work or the daily sweep); null once events changed it. */
  let nextDue: number | null = null;
  const refreshNextDue = async (): Promise<number> => {
    const due = (await target.store.nextDueAtMs()) ?? Number.POSITIVE_INFINITY;
    nextDue = Math.min(due, sweepAtMs);
    return nextDue;
  };
  /** Runs everything due up to `untilMs`, stopping at each due time and each daily sweep. */
  const runUntil = async (untilMs: number) => {
    let due = nextDue ?? (await refreshNextDue());
    while (due <= untilMs) {
      clock.set(Math.max(clock.nowMs(), due));
      await adoptLive(clock.nowMs());
      count(await target.worker.runDue(clock.nowMs()));
      // The worker's round ran the day's sweep.
      while (sweepAtMs <= clock.nowMs()) sweepAtMs += DAY_MS;
      due = await refreshNextDue();
    }
    clock.set(Math.max(clock.nowMs(), untilMs));
    await adoptLive(clock.nowMs());
  };

  let replayed = 0;
  // Events of one instant, recorded together as one batch of a live source would be; a later
  // event waits until they and the work they make due have run, as it would live. Recorded at a
  // later event's time, one would be judged then: stale after `staleEventMinutes`, or handled in
  // one round with that customer's next event (a signup's welcome lost to the order after it).
  let instant: HeraldEvent[] = [];
  const staleMs = staleEventMinutes * MINUTE_MS;
  /** Events at one moment, recorded together, then the work they make due. */
  const recordAt = async (atMs: number, batch: HeraldEvent[]) => {
    await runUntil(atMs);
    await target.recorder.record(batch, atMs);
    // An address's opt-out, which live Herald kept beside the event, before anything is judged.
    await target.store.transaction((tx) => rememberReplayedOptOuts(tx, batch));
    replayed += batch.length;
    nextDue = null;
    await runUntil(atMs);
  };
  // An event Herald received later than `staleEventMinutes` after its time was too late to act on
  // (it only ended the journeys it exits), and came after everything stamped before its arrival:
  // it waits here, by arrival, until the replay reaches that moment. Recorded at its own time it
  // would fire as if on time — a late order's thanks, a whole import's welcomes — and a late
  // opt-out would undo what was sent before it came. One arriving after the window is not in it.
  // Batches by arrival, in order; those before `lateTaken` are recorded. An arrival is always
  // later than every recorded one (it comes after its own time, which is past them), and mostly
  // later than all: each goes in a few places from the end.
  const late: { atMs: number; events: HeraldEvent[] }[] = [];
  let lateTaken = 0;
  const holdLate = (event: HeraldEvent) => {
    const atMs = event.receivedAtMs;
    if (atMs >= options.toMs) return;
    let i = late.length;
    while (i > lateTaken && (late[i - 1]?.atMs ?? 0) > atMs) i -= 1;
    const same = late[i - 1];
    if (i > lateTaken && same !== undefined && same.atMs === atMs) same.events.push(event);
    else late.splice(i, 0, { atMs, events: [event] });
  };
  /** Records the late events that reached Herald by `untilMs`, each at its arrival. */
  const recordLateUntil = async (untilMs: number) => {
    for (let next = late[lateTaken]; next !== undefined && next.atMs <= untilMs;) {
      lateTaken += 1;
      await recordAt(next.atMs, next.events);
      next = late[lateTaken];
    }
    // What is recorded goes, now and then, in one step.
    if (lateTaken > 1024 && lateTaken * 2 > late.length) {
      late.splice(0, lateTaken);
      lateTaken = 0;
    }
  };
  const flush = async () => {
    const atMs = instant[0]?.timestampMs;
    if (atMs === undefined) return;
    const onTime: HeraldEvent[] = [];
    for (const event of instant)
      if (event.receivedAtMs - event.timestampMs > staleMs) holdLate(event);
      else onTime.push(event);
    instant = [];
    // What came late before this moment, first.
    await recordLateUntil(atMs - 1);
    if (onTime.length > 0) await recordAt(atMs, onTime);
  };
  const open = async () => {
    if (inWindow) return;
    inWindow = true;
    await history.finish();
  };

  let cursor: EventCursor | null = null;
  let ended = false;
  while (!ended) {
    const page = await source.scanEvents(cursor, PAGE);
    for (const stored of page) {
      // An address's opt-out is kept under the address its message went to, read here.
      const named = stored.properties['messageId'];
      const recipient =
        stored.sourceId === HERALD_SOURCE && isEmailOptOut(stored) && typeof named === 'string'
          ? ((await source.getMessage(named))?.recipient ?? null)
          : null;
      const event = asReplayed(stored, recipient);
      if (event.timestampMs < options.fromMs) {
        await history.add(event);
        continue;
      }
      // The window ends before `toMs`, as a report's does: back-to-back windows share nothing.
      if (event.timestampMs >= options.toMs) {
        ended = true;
        break;
      }
      await open();
      // One batch a moment and an arrival: events stamped alike that reached Herald apart (two
      // calls of an app that stamped them with one clock reading) were decided on apart. An
      // import's batch shares one receipt time; one imported before 2026-12-07 stamped each row
      // as it was read, so one import's events of a moment are kept together, as before.
      const first = instant[0];
      const arrivedApart =
        first !== undefined &&
        first.receivedAtMs !== event.receivedAtMs &&
        !(first.sourceId === event.sourceId && event.sourceId.startsWith(IMPORT_SOURCE_PREFIX));
      if (
        first !== undefined &&
        (first.timestampMs !== event.timestampMs || arrivedApart || instant.length >= PAGE)
      )
        await flush();
      instant.push(event);
    }
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) break;
    cursor = { timestampMs: last.timestampMs, seq: last.seq };
    options.onProgress?.(history.events + replayed + instant.length, last.timestampMs);
  }
  await open();
  await flush();
  await recordLateUntil(options.toMs - 1);
  await runUntil(options.toMs - 1);
  clock.set(Math.max(clock.nowMs(), options.toMs));

  return {
    simulated: true,
    from: new Date(options.fromMs).toISOString(),
    to: new Date(options.toMs).toISOString(),
    history: history.events,
    events: replayed,
    decisions: decided,
    byAgent,
    byAction,
    wallMs: options.wallNowMs() - startedMs,
  };
};

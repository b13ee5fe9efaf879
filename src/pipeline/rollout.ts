// experiment ─▶ guard: Herald's automated marketing rolled out to a growing cohort of customers
// (5 % → 20 % → 50 % → 100 % by default), each stage judged go/no-go on what it did — compliance
// violations, decision latency, uptime — before the next. Customers outside the cohort get no
// automated marketing; API sends and transactional messages are not affected.
import { AppError } from '../core/errors.js';
import type { Store, StoreTx } from '../ports/store.js';
import {
  DEFAULT_ROLLOUT_POLICY,
  decideRollout,
  type RolloutDecision,
  type RolloutHealth,
} from './experiment/index.js';
import { appendAudit } from './record/index.js';

/** Where the rollout stands; stored under the setting `rollout`. No setting: not staged. */
export interface RolloutState {
  percent: number;
  salt: string;
  stageStartedAtMs: number;
  /**
   * Every step since the first start, each start with the cohort's `salt` it drew (kept since
   * 2026-12-07: a start before then began the history anew, itself without a salt).
   */
  history: {
    atMs: number;
    decision: RolloutDecision;
    health: RolloutHealth | null;
    salt?: string;
  }[];
}

const KEY = 'rollout';

/** The staged rollout's cohort as stored now, in a transaction (null when none was started). */
export const rolloutCohortOf = async (
  tx: Pick<StoreTx, 'getSetting'>,
): Promise<{ percent: number; salt: string } | null> => {
  const stored = await tx.getSetting(KEY);
  if (stored === null) return null;
  const { percent, salt } = JSON.parse(stored) as RolloutState;
  return { percent, salt };
};

export const readRollout = (store: Store): Promise<RolloutState | null> =>
  store.transaction(async (tx) => {
    const stored = await tx.getSetting(KEY);
    return stored === null ? null : (JSON.parse(stored) as RolloutState);
  });

/**
 * Where the latest start is in a history: its last step with a salt (a history begun before
 * salts were kept starts with one without), else 0.
 */
const latestStart = (history: RolloutState['history']): number => {
  let start = 0;
  history.forEach((step, i) => {
    if (step.salt !== undefined) start = i;
  });
  return start;
};

/** The steps since the rollout last started: those of the cohort it draws now. */
export const stepsSinceStart = (state: RolloutState): RolloutState['history'] =>
  state.history.slice(latestStart(state.history));

/**
 * The rollout as it stood at `atMs`, rebuilt from its history (null before its first start):
 * the cohort the latest start by then drew, at the stage its steps since had reached — for a
 * replay of the past (`herald simulate`). Starts before 2026-12-07 began the history anew, so
 * the stages before such a start cannot be rebuilt.
 */
export const rolloutAt = (state: RolloutState, atMs: number): RolloutState | null => {
  const history = state.history.filter((step) => step.atMs <= atMs);
  if (history.length === 0) return null;
  const start = latestStart(history);
  let percent = 0;
  let stageStartedAtMs = history[start]?.atMs ?? atMs;
  for (const step of history.slice(start)) {
    const next = step.decision.action === 'hold' ? step.decision.percent : step.decision.toPercent;
    if (next !== percent) stageStartedAtMs = step.atMs;
    percent = next;
  }
  return { percent, salt: history[start]?.salt ?? state.salt, stageStartedAtMs, history };
};

/** Stores a rollout state as it is, without an audit entry: a replay's (`rolloutAt`). */
export const storeRolloutAsReplayed = (store: Store, state: RolloutState): Promise<void> =>
  store.transaction((tx) => tx.setSetting(KEY, JSON.stringify(state)));

/**
 * The history a start goes after: the stored one, its first start given the cohort's salt when
 * it was written before starts kept theirs (2026-12-07), so the stages before this start are
 * replayed with the cohort of their own time.
 */
const carried = (current: RolloutState | null): RolloutState['history'] =>
  current === null
    ? []
    : current.history.some((step) => step.salt !== undefined)
      ? current.history
      : current.history.map((step, i) => (i === 0 ? { ...step, salt: current.salt } : step));

/**
 * Stores the rollout's next state and audits the step. `basis` is the state the step was
 * decided on (null for a start, which draws a new cohort after the history so far): read
 * again under the rollout's lock, it must still be the stored one, or a start or another check
 * that landed in between would be overwritten by a step decided on what it replaced.
 */
const apply = (
  store: Store,
  state: RolloutState,
  basis: RolloutState | null,
  decision: RolloutDecision,
  health: RolloutHealth | null,
  nowMs: number,
  start: { restart: boolean } | null = null,
): Promise<RolloutState> =>
  store.transaction(async (tx) => {
    await tx.lock([KEY]);
    // A start reads what is under way under the lock: two starts at once (a retry, a second
    // click) would otherwise both find none, and the second would draw its cohort over the first.
    const stored = await tx.getSetting(KEY);
    const current = stored === null ? null : (JSON.parse(stored) as RolloutState);
    if (
      start !== null &&
      !start.restart &&
      current !== null &&
      current.percent > 0 &&
      current.percent < 100
    )
      throw new AppError(
        'conflict',
        `a rollout is under way at ${String(current.percent)} % (stage started ${new Date(current.stageStartedAtMs).toISOString()}): check it with POST /v1/rollout/check, or start it over at the first stage with a new cohort with {"restart": true}`,
      );
    if (basis !== null && stored !== JSON.stringify(basis))
      throw new AppError(
        'conflict',
        'the rollout changed while it was being checked (started again or checked at the same time): check it again',
      );
    const percent = decision.action === 'hold' ? decision.percent : decision.toPercent;
    // A start goes after the history so far, with the cohort it draws: a replay of the past
    // (`rolloutAt`) rebuilds every stage, those before a start again included.
    const next: RolloutState = {
      percent,
      salt: state.salt,
      stageStartedAtMs: percent === state.percent ? state.stageStartedAtMs : nowMs,
      history:
        start === null
          ? [...state.history, { atMs: nowMs, decision, health }]
          : [...carried(current), { atMs: nowMs, decision, health, salt: state.salt }],
    };
    await tx.setSetting(KEY, JSON.stringify(next));
    await appendAudit(
      tx,
      [
        {
          kind: 'rollout',
          customerId: null,
          atMs: nowMs,
          data: {
            decision: { ...decision, reasons: [...decision.reasons] },
            health: health === null ? null : { ...health },
          },
        },
      ],
      nowMs,
    );
    return next;
  });

/**
 * Starts a staged rollout at its first stage (from 0 %): from then on only that cohort gets
 * automated marketing. Starting again restarts it at the first stage with a new cohort salt —
 * one under way (between 0 and 100 %) only with `restart`.
 */
export const startRollout = async (
  store: Store,
  nowMs: number,
  options: { restart?: boolean } = {},
): Promise<RolloutState> => {
  // One under way is started over only when asked to in so many words (`apply` reads it under
  // the lock): a start sent twice would otherwise throw its history away and draw a new cohort.
  return apply(
    store,
    { percent: 0, salt: `rollout-${String(nowMs)}`, stageStartedAtMs: nowMs, history: [] },
    null,
    decideRollout(0, { messages: 0, complianceViolations: 0, p95LatencyMs: 0, uptime: 1 }),
    null,
    nowMs,
    { restart: options.restart === true },
  );
};

/**
 * The go/no-go step at the end of a stage: what the stage did — automated marketing made and
 * sent since it began, and spam complaints received since then (the compliance failures recipients report), the
 * decision latency p95 and the uptime the caller observed (Herald cannot see its own
 * downtime) — decides to advance, hold or roll back, and the new cohort applies at once.
 */
export const checkRollout = async (
  store: Store,
  nowMs: number,
  observed: { p95LatencyMs: number; uptime: number },
): Promise<{ decision: RolloutDecision; health: RolloutHealth | null; state: RolloutState }> => {
  const state = await readRollout(store);
  if (state === null)
    throw new AppError('conflict', 'no rollout was started: POST /v1/rollout/start first');
  // Rolled back to nothing, the rollout stays stopped until a person starts it again: the next
  // check would otherwise start it over at once, on the same cohort, whatever stopped it.
  const last = state.history.at(-1)?.decision;
  if (state.percent === 0 && last?.action === 'roll-back') {
    const decision: RolloutDecision = {
      action: 'hold',
      percent: 0,
      reasons: [
        `stopped by a roll-back (${last.reasons.join('; ')}): POST /v1/rollout/start starts it again`,
      ],
    };
    return { decision, health: null, state };
  }
  const health: RolloutHealth = {
    // The evidence is what the stage gated: automated marketing made and sent since it began,
    // so to its cohort. API sends and transactional messages, which it lets through to
    // everyone, and messages made before it (gated by an earlier cohort, or none) say nothing
    // of it.
    messages: await store.automatedMarketingSent(state.stageStartedAtMs, nowMs + 1),
    // Complaints that came during the stage, about any message: one about the stage before's
    // (sent before this stage began, or reported after its check) still stops the rollout.
    complianceViolations: await store.complaintsReceived(state.stageStartedAtMs, nowMs + 1),
    p95LatencyMs: observed.p95LatencyMs,
    uptime: observed.uptime,
  };
  const decision = decideRollout(state.percent, health, DEFAULT_ROLLOUT_POLICY);
  return { decision, health, state: await apply(store, state, state, decision, health, nowMs) };
};

// experiment ─▶ measure: what an experiment's units (assigned when each message was made,
// exposed when it was sent, credited with the orders that followed) say — the variants against
// their control among the exposed, the campaign against its holdout among everyone assigned,
// per segment and day by day — and, when the statistics allow, the winner promoted and the
// lesson kept for the next campaign to the same segment and channel.
import { AppError } from '../core/errors.js';
import type { Channel } from '../core/profile.js';
import { DAY_MS } from '../core/time.js';
import type { Learning, UnitTotals } from '../ports/experiment-store.js';
import { seededRandom } from '../ports/random.js';
import type { Store } from '../ports/store.js';
import { journeyStepSlot, type JourneyDefinition } from './decide/index.js';
import {
  allocateThompson,
  allocateThreePhase,
  weightsAt,
  type AllocationEntry,
} from './experiment/index.js';
import {
  allocationKey,
  globalHoldoutExperimentId,
  journeyExperimentId,
  promotedKey,
} from './guard-and-record.js';
import {
  adjustHolm,
  analyzeUnits,
  describeBlocks,
  incrementalRevenue,
  type ArmSums,
  type Estimate,
  type ExperimentAnalysis,
  type IncrementalRevenue,
  type Promotion,
  type UnitAnalysis,
} from './measure/index.js';
import { appendAudit } from './record/index.js';

/** How an experiment was laid out when it started (stored with it; the global one is config). */
export interface ExperimentDesign {
  id: string;
  kind: 'campaign' | 'journey' | 'global-holdout';
  /**
   * The variant arms in their stored order, with their designed weights (1 when not given);
   * `treatment` when there are none.
   */
  arms: { name: string; strategy: string | null; weight?: number }[];
  /** Variants were split within each segment separately. */
  stratified?: boolean;
  /** A journey step's variant test: the slot its promoted winner is kept under. */
  slot?: string;
  /** How the variants share traffic (journey steps): equal, or reallocated once a day. */
  allocation?: 'equal' | 'thompson' | 'three-phase';
  /**
   * The arm the others are compared with: for a campaign, the variant of the strategy promoted
   * for its segment and channel, else the composer's `control`; for a journey, the first.
   */
  control: string;
  /** Percent of the assigned customers held out (no message). */
  holdoutPercent: number;
  segment: string | null;
  channel: Channel;
  createdAtMs: number;
  /** Set once a winner was promoted: the test is finished. */
  promoted?: { winner: string; strategy: string | null; atMs: number };
}

/** The setting an experiment's design is stored under. */
export const designKey = (id: string) => `experiment:${id}`;
const controlKey = (segment: string, channel: string) => `control:${segment}:${channel}`;
/** Learnings without a segment apply to everyone. */
const ALL = 'all';

/**
 * Stores a campaign's design when it is launched: its variants and its holdout. The first
 * design of an id stays (a relaunch neither reshuffles nor forgets a promotion), also when two
 * processes register it at once (PostgreSQL): the one that finds none stores it under the
 * experiment's lock, and the other reads it there.
 */
export const registerExperiment = (store: Store, design: ExperimentDesign): Promise<void> =>
  store.transaction(async (tx) => {
    const key = designKey(design.id);
    if ((await tx.getSetting(key)) !== null) return;
    await tx.lock([key]);
    if ((await tx.getSetting(key)) === null) await tx.setSetting(key, JSON.stringify(design));
  });

/**
 * Stores the design of every journey experiment — each send step with variants (equal
 * weights, the first is the control) and each split (its weights, the first arm is the
 * control) — per journey version, once (the first design of an id stays).
 */
export const registerJourneyExperiments = async (
  store: Store,
  journeys: readonly { definition: JourneyDefinition; version: number }[],
  nowMs: number,
): Promise<number> => {
  let registered = 0;
  for (const { definition, version } of journeys)
    for (const step of definition.steps) {
      const id = journeyExperimentId(definition.id, version, step.id);
      const base = {
        id,
        kind: 'journey' as const,
        holdoutPercent: 0,
        segment: null,
        createdAtMs: nowMs,
      };
      if (step.type === 'send' && step.variants !== undefined) {
        const [first] = step.variants;
        if (first === undefined) continue;
        await registerExperiment(store, {
          ...base,
          arms: step.variants.map((name) => ({ name, strategy: null })),
          control: first,
          channel: step.channels[0] ?? 'email',
          slot: journeyStepSlot(definition.id, version, step.id),
          allocation: step.allocation ?? 'equal',
        });
        registered += 1;
      } else if (step.type === 'branch' && step.split !== undefined) {
        const [first] = step.split;
        if (first === undefined) continue;
        await registerExperiment(store, {
          ...base,
          arms: step.split.map((a) => ({ name: a.arm, strategy: null, weight: a.weight })),
          control: first.arm,
          channel: 'email',
        });
        registered += 1;
      }
    }
  return registered;
};

/**
 * Stores the design of the global holdout as configured (when it is above 0 %): one arm,
 * `treatment`, against `holdout`.
 */
export const registerGlobalHoldout = async (
  store: Store,
  holdout: { percent: number; salt: string },
  nowMs: number,
): Promise<string | null> => {
  if (holdout.percent <= 0) return null;
  const id = globalHoldoutExperimentId(holdout);
  await registerExperiment(store, {
    id,
    kind: 'global-holdout',
    arms: [{ name: 'treatment', strategy: null }],
    control: 'treatment',
    holdoutPercent: holdout.percent,
    segment: null,
    channel: 'email',
    createdAtMs: nowMs,
  });
  return id;
};

/** An experiment's design as stored when it started, or null. */
export const storedDesign = async (store: Store, id: string): Promise<ExperimentDesign | null> => {
  const stored = await store.transaction((tx) => tx.getSetting(designKey(id)));
  return stored === null ? null : (JSON.parse(stored) as ExperimentDesign);
};

/** An experiment's design, as stored when it started; not found without one. */
export const experimentDesignOf = async (store: Store, id: string): Promise<ExperimentDesign> => {
  const design = await storedDesign(store, id);
  if (design === null) throw new AppError('not-found', `no experiment ${id}`);
  return design;
};

const HOLDOUT = 'holdout';

const sumOf = (arm: string, rows: readonly UnitTotals[]): ArmSums =>
  rows.reduce<ArmSums>(
    (s, r) => ({
      arm,
      units: s.units + r.units,
      converted: s.converted + r.converted,
      revenueCents: s.revenueCents + r.revenueCents,
      revenueSquares: s.revenueSquares + r.revenueSquares,
    }),
    { arm, units: 0, converted: 0, revenueCents: 0, revenueSquares: 0 },
  );

const adaptive = (design: ExperimentDesign) =>
  design.allocation !== undefined && design.allocation !== 'equal' && design.slot !== undefined;

/** Exposed units' totals with the orders of the window from their exposure. */
const fromExposure = (r: UnitTotals): UnitTotals => ({
  ...r,
  converted: r.exposedConverted,
  revenueCents: r.exposedRevenueCents,
  revenueSquares: r.exposedRevenueSquares,
});

/**
 * The units the variant test compares: those the message reached, with the orders of the
 * window from their exposure (not those placed while the message waited for a review, quiet
 * hours or a rate limit, which a variant that waits longer would otherwise collect), and only
 * those whose window has closed, whatever the design. A young unit has had few days to order:
 * counting them, a variant whose messages leave a day later (a 20 % offer waiting for review)
 * has younger units than one that left at once and looks worse (an A/A test at 5 % with one
 * arm exposed a day later showed the other at +0.72 points, p ≈ 1e-5, three days in), and under
 * moving weights an arm that gained traffic holds more of them (an A/A test cut from equal to
 * 20/40/40/0 % after a week showed the starved arm at 5.0 % against control's 3.9 %). And only
 * those the sample-ratio check can vouch for (`settledUnits`): assigned before the first unit
 * whose message still waits, so a broken split after it cannot be promoted unchecked.
 */
const testedRows = (rows: readonly UnitTotals[]): UnitTotals[] =>
  rows.filter((r) => r.exposed && r.matured && r.settled).map(fromExposure);

/**
 * The units the sample-ratio check counts: exposed and settled (every unit assigned before
 * them has its exposure decided), mature or not. Maturity follows exposure, so an arm exposed a
 * day later always has a day fewer of mature units: counting those would alarm for ever. Units
 * still waiting for their message are left out until it goes or is refused, so a variant that
 * reviewers often reject still alarms (the exposed are then no longer comparable).
 */
const settledUnits = (
  rows: readonly UnitTotals[],
  arms: readonly string[],
): Record<string, number> =>
  Object.fromEntries(
    arms.map((arm) => [
      arm,
      rows
        .filter((r) => r.arm === arm && r.exposed && r.settled)
        .reduce((sum, r) => sum + r.units, 0),
    ]),
  );

/**
 * The tested units of each assignment day, per arm: the strata an adaptive step's conversion is
 * compared within. Its weights change from one day to the next while the baseline drifts (a
 * season, a sale, a change of audience), so pooling the days credits the arm that got more
 * traffic on the better days with their rate: in simulated A/A tests of a Thompson step over 60
 * days with conversion drifting from 4 % to 6 %, 23 % of runs promoted a false winner on the
 * pooled counts, 1 % within days. Each day's units were assigned under one set of weights (they change
 * at midnight, UTC, the day key's boundary), so within a day the arms share the baseline.
 */
const dayStrata = (arms: readonly string[], dayRows: readonly UnitTotals[]): ArmSums[][] => {
  const byDay = new Map<number, UnitTotals[]>();
  for (const r of testedRows(dayRows)) {
    const day = Number(r.key);
    const known = byDay.get(day);
    if (known === undefined) byDay.set(day, [r]);
    else known.push(r);
  }
  return [...byDay.keys()]
    .sort((a, b) => a - b)
    .map((day) => {
      const rows = byDay.get(day) ?? [];
      return arms.map((arm) =>
        sumOf(
          arm,
          rows.filter((r) => r.arm === arm),
        ),
      );
    });
};

/**
 * The two comparisons one set of rows supports: variants against control among the units the
 * message reached (exposures, the designed weights), and everyone assigned a message against
 * the holdout (intention to treat: a message that failed to go still counts as treated). Given
 * the same units by assignment day (an adaptive step), the variants' conversion is compared
 * within days.
 */
const compare = (
  design: ExperimentDesign,
  rows: readonly UnitTotals[],
  alpha: number,
  expected?: Readonly<Record<string, number>>,
  dayRows?: readonly UnitTotals[],
) => {
  const variants = design.arms.map((a) => a.name);
  const tested = testedRows(rows);
  const order = [design.control, ...variants.filter((v) => v !== design.control)];
  const test: UnitAnalysis | null =
    variants.length < 2
      ? null
      : analyzeUnits(
          design.control,
          order.map((v) =>
            sumOf(
              v,
              tested.filter((r) => r.arm === v),
            ),
          ),
          expected ?? Object.fromEntries(design.arms.map((a) => [a.name, a.weight ?? 1])),
          {
            alpha,
            sampleRatioSizes: settledUnits(rows, variants),
            ...(dayRows === undefined ? {} : { strata: dayStrata(order, dayRows) }),
          },
        );
  const treated = sumOf(
    'treatment',
    rows.filter((r) => r.arm !== HOLDOUT),
  );
  const held = sumOf(
    HOLDOUT,
    rows.filter((r) => r.arm === HOLDOUT),
  );
  const holdout: UnitAnalysis | null =
    design.holdoutPercent <= 0
      ? null
      : analyzeUnits(
          HOLDOUT,
          [held, treated],
          { [HOLDOUT]: design.holdoutPercent, treatment: 100 - design.holdoutPercent },
          { alpha },
        );
  return { test, holdout, treated, held };
};

/** Each variant's tested units and those that converted: what a bandit learns from. */
const exposedOutcomes = (design: ExperimentDesign, rows: readonly UnitTotals[]) => {
  const tested = testedRows(rows);
  return design.arms.map((a) => {
    const s = sumOf(
      a.name,
      tested.filter((r) => r.arm === a.name),
    );
    return { name: a.name, successes: s.converted, trials: s.units };
  });
};

const allocationOf = async (store: Store, design: ExperimentDesign): Promise<AllocationEntry[]> => {
  if (design.slot === undefined) return [];
  const slot = design.slot;
  const stored = await store.transaction((tx) => tx.getSetting(allocationKey(slot)));
  return stored === null ? [] : (JSON.parse(stored) as AllocationEntry[]);
};

/**
 * What the sample-ratio check expects of an adaptively allocated test: each day's exposed units
 * split by the weights in force that day (weights change only at midnight, UTC).
 */
const expectedShares = (
  design: ExperimentDesign,
  dayRows: readonly UnitTotals[],
  history: readonly AllocationEntry[],
): Record<string, number> => {
  const expected: Record<string, number> = Object.fromEntries(design.arms.map((a) => [a.name, 0]));
  for (const day of new Set(dayRows.map((r) => Number(r.key)))) {
    const n = dayRows
      .filter((r) => Number(r.key) === day && r.arm !== HOLDOUT && r.exposed && r.settled)
      .reduce((sum, r) => sum + r.units, 0);
    const weights = weightsAt(history, day);
    const total = design.arms.reduce((sum, a) => sum + (weights?.[a.name] ?? 1), 0);
    for (const a of design.arms)
      expected[a.name] = (expected[a.name] ?? 0) + (n * (weights?.[a.name] ?? 1)) / total;
  }
  // An arm that was given no traffic keeps a sliver, so an assignment to it still alarms.
  for (const a of design.arms) expected[a.name] = Math.max(expected[a.name] ?? 0, 1e-9);
  return expected;
};

export interface ArmView {
  arm: string;
  strategy: string | null;
  /** Customers assigned to the arm. */
  units: number;
  /** Of them, the ones the message reached. */
  exposed: number;
  /**
   * The exposed units the variant test counts: those whose window has closed, assigned before
   * the first unit whose message still waits to go.
   */
  tested: number;
  /**
   * Units with an order in their window: all assigned, from assignment / exposed only, from
   * exposure.
   */
  converted: number;
  exposedConverted: number;
  revenue: number;
}

/** The primary metric's comparisons in a compact form (per segment, per day). */
export interface LiftView {
  treatment: string;
  control: string;
  units: number;
  absoluteLift: Estimate;
  relativeLift: Estimate;
  p: number;
  alwaysValidP: number;
  /** The always-valid p adjusted by Holm across the analysis' treatments and metrics. */
  alwaysValidHolmP: number;
}

export interface ExperimentResults {
  experimentId: string;
  kind: ExperimentDesign['kind'];
  design: ExperimentDesign;
  /**
   * How the variant test's conversion lift, p-values and chance to beat control were estimated:
   * on the tested units pooled per arm (`pooled`, fixed weights), or within assignment days and
   * combined (`day-stratified`, an adaptive step whose weights change daily; the arms' rates,
   * revenue and the per-segment lifts stay pooled).
   */
  estimator: 'pooled' | 'day-stratified';
  arms: ArmView[];
  /** Variants against control among the exposed; null when there is one arm. */
  test: { analysis: ExperimentAnalysis } | { reason: string } | null;
  /** Everyone assigned against the holdout; null when there is no holdout. */
  holdout:
    | { analysis: ExperimentAnalysis; incrementalRevenue: IncrementalRevenue | null }
    | { reason: string }
    | null;
  segments: { segment: string; test: LiftView[]; holdout: LiftView[] }[];
  /**
   * Whether the winner may be promoted: the variant test's gate at α = 0.05, whatever alpha
   * the intervals were asked at (null without a variant test).
   */
  promotion: Promotion | null;
}

const lifts = (analysis: UnitAnalysis | null): LiftView[] => {
  if (analysis === null || !analysis.ok) return [];
  const { control, metrics, arms } = analysis.analysis;
  const primary = metrics[0];
  if (primary === undefined) return [];
  return primary.comparisons.map((c) => ({
    treatment: c.treatment,
    control,
    units: arms.find((a) => a.name === c.treatment)?.n ?? 0,
    absoluteLift: c.absoluteLift,
    relativeLift: c.relativeLift,
    p: c.p,
    alwaysValidP: c.alwaysValidP,
    alwaysValidHolmP: c.alwaysValidHolmP,
  }));
};

/** Promotion is judged at one level, whatever the intervals are shown at. */
const PROMOTION_ALPHA = 0.05;

const promotionOf = (test: UnitAnalysis | null): Promotion | null =>
  test !== null && test.ok ? test.analysis.promotion : null;

const viewOf = (u: UnitAnalysis | null) => (u === null ? null : u.ok ? u : { reason: u.reason });

/**
 * The results of one experiment from its units: per arm the counts; the variant test and the
 * holdout comparison (each with the full analysis: intervals, fixed-horizon and always-valid
 * p-values, chance to beat control, SRM against the designed weights, promotion gate); the
 * revenue the campaign added over its holdout; and the primary metric per segment.
 */
export const experimentResults = async (
  store: Store,
  id: string,
  options: { alpha?: number; nowMs: number },
): Promise<ExperimentResults> => {
  const alpha = options.alpha ?? 0.05;
  const { nowMs } = options;
  const design = await experimentDesignOf(store, id);
  // One pass over the units: per arm, exposure and segment; the arm totals are their sums.
  const rows = await store.unitTotals(id, 'segment', nowMs);
  // An adaptive step's units by day too: the weights each day ran with, and the strata its
  // conversion is compared within.
  const dayRows = adaptive(design) ? await store.unitTotals(id, 'day', nowMs) : undefined;
  const expected =
    dayRows === undefined
      ? undefined
      : expectedShares(design, dayRows, await allocationOf(store, design));
  const { test, holdout, treated, held } = compare(design, rows, alpha, expected, dayRows);
  // Promotion is judged at 0.05 whatever `alpha` the intervals are shown at; the analyses carry
  // that verdict too, so one answer never holds two.
  const verdict = promotionOf(
    alpha === PROMOTION_ALPHA
      ? test
      : compare(design, rows, PROMOTION_ALPHA, expected, dayRows).test,
  );
  const judged = (u: UnitAnalysis | null): UnitAnalysis | null =>
    u === null || !u.ok || verdict === null
      ? u
      : { ...u, analysis: { ...u.analysis, promotion: verdict } };
  const names = [
    ...design.arms.map((a) => a.name),
    ...(design.holdoutPercent > 0 ? [HOLDOUT] : []),
  ];
  const arms = names.map((arm): ArmView => {
    const mine = rows.filter((r) => r.arm === arm);
    const all = sumOf(arm, mine);
    const exposed = sumOf(arm, mine.filter((r) => r.exposed).map(fromExposure));
    const tested = sumOf(arm, testedRows(mine));
    return {
      arm,
      strategy: design.arms.find((a) => a.name === arm)?.strategy ?? null,
      units: all.units,
      exposed: exposed.units,
      converted: all.converted,
      exposedConverted: exposed.converted,
      tested: arm === HOLDOUT ? 0 : tested.units,
      revenue: all.revenueCents / 100,
    };
  });
  const segmentNames = [...new Set(rows.map((r) => String(r.key)))].sort();
  // An adaptive step's segments are compared within days too: pooled, a segment's lift credits
  // the arm that got more traffic on its better days, as the whole step's would.
  const segmentDays =
    dayRows === undefined ? undefined : await store.unitTotals(id, 'segment-day', nowMs);
  const segments = segmentNames.map((segment) => {
    const c = compare(
      design,
      rows.filter((r) => r.key === segment),
      alpha,
      expected,
      segmentDays?.filter((r) => r.key === segment).map((r) => ({ ...r, key: r.day ?? 0 })),
    );
    return { segment, test: lifts(c.test), holdout: lifts(c.holdout) };
  });
  return {
    experimentId: id,
    kind: design.kind,
    design,
    estimator: dayRows === undefined ? 'pooled' : 'day-stratified',
    arms,
    test: viewOf(judged(test)),
    holdout:
      holdout === null
        ? null
        : holdout.ok
          ? {
              analysis: holdout.analysis,
              incrementalRevenue: incrementalRevenue(treated, held, alpha),
            }
          : { reason: holdout.reason },
    segments,
    promotion: verdict,
  };
};

/** One day of an experiment, cumulative up to its end. */
export interface TimelinePoint {
  dayMs: number;
  /** Variant test (or, without variants, campaign vs holdout) on the primary metric. */
  lifts: LiftView[];
  /**
   * The running minimum of each treatment's always-valid p-value, Holm-adjusted as promotion
   * uses it: safe to read at any day.
   */
  alwaysValidPath: Record<string, number>;
  /**
   * The traffic weights: those an adaptive step ran with that day, else Thompson sampling's on
   * the data to that day (seeded, reproducible).
   */
  banditWeights: Record<string, number> | null;
}

/**
 * The experiment day by day (by assignment day, cumulative): lift with its interval, the
 * always-valid p-value path and the weights a Thompson-sampling bandit would give the variants.
 */
export const experimentTimeline = async (
  store: Store,
  design: ExperimentDesign,
  nowMs: number,
  alpha = 0.05,
): Promise<TimelinePoint[]> => {
  const rows = await store.unitTotals(design.id, 'day', nowMs);
  const days = [...new Set(rows.map((r) => Number(r.key)))].sort((a, b) => a - b);
  const history = adaptive(design) ? await allocationOf(store, design) : [];
  const path: Record<string, number> = {};
  return days.map((dayMs) => {
    const upTo = rows.filter((r) => Number(r.key) <= dayMs);
    const c = adaptive(design)
      ? compare(design, upTo, alpha, expectedShares(design, upTo, history), upTo)
      : compare(design, upTo, alpha);
    const found = lifts(c.test ?? c.holdout);
    for (const l of found) path[l.treatment] = Math.min(path[l.treatment] ?? 1, l.alwaysValidHolmP);
    const variants = design.arms.map((a) => a.name);
    // An adaptive step shows the weights it ran with; any other, what Thompson sampling would
    // have given on the data to that day.
    const banditWeights =
      variants.length < 2
        ? null
        : adaptive(design)
          ? (weightsAt(history, dayMs) ??
            Object.fromEntries(variants.map((v) => [v, 1 / variants.length])))
          : Object.fromEntries(
              allocateThompson(
                exposedOutcomes(design, upTo),
                seededRandom(Math.floor(dayMs / DAY_MS)),
              ).arms.map((a) => [a.name, a.weight]),
            );
    return { dayMs, lifts: found, alwaysValidPath: { ...path }, banditWeights };
  });
};

/** The strategy the last finished test promoted for a segment and channel; null when none did. */
export const promotedControl = (
  store: Store,
  segment: string | null,
  channel: Channel,
): Promise<string | null> =>
  store.transaction((tx) => tx.getSetting(controlKey(segment ?? ALL, channel)));

/**
 * The strategies to write first for a segment and channel: the promoted control, then those
 * whose latest test found their lift over control significantly positive (adjusted always-valid
 * p below 0.05), best lower bound first (equal ones by name). A strategy a later test found no
 * better, or worse, is no longer among them: each is judged by its latest learning, not by any
 * it ever had.
 */
export const learnedStrategies = async (
  store: Store,
  segment: string | null,
  channel: Channel,
): Promise<string[]> => {
  const control = await promotedControl(store, segment, channel);
  const latest = new Map<string, Learning>();
  for (const l of await store.listLearnings({ segment: segment ?? ALL, channel })) {
    if (l.metric !== 'conversion') continue;
    const seen = latest.get(l.strategy);
    // Of two kept at once (two arms of one strategy in one test), the more cautious: the
    // answer must not hang on the order the store lists them in.
    if (
      seen === undefined ||
      l.createdAtMs > seen.createdAtMs ||
      (l.createdAtMs === seen.createdAtMs && l.lower < seen.lower)
    )
      latest.set(l.strategy, l);
  }
  const learned = [...latest.values()]
    .filter((l) => l.p < PROMOTION_ALPHA && l.lower > 0)
    .sort((a, b) => b.lower - a.lower || (a.strategy < b.strategy ? -1 : 1))
    .map((l) => l.strategy);
  return [...new Set([...(control === null ? [] : [control]), ...learned])];
};

/**
 * One learning per strategy and segment: a test whose arms share a strategy (two tones of it)
 * teaches one thing of that strategy, its most cautious lift (the lowest lower bound) — not
 * whichever arm came last, which the store would keep.
 */
export const mostCautiousPerStrategy = (learnings: readonly Learning[]): Learning[] => {
  const kept = new Map<string, Learning>();
  for (const l of learnings) {
    const key = `${l.strategy}\u0000${l.segment}`;
    const seen = kept.get(key);
    if (seen === undefined || l.lower < seen.lower) kept.set(key, l);
  }
  return [...kept.values()];
};

export type PromotionOutcome =
  | { promoted: true; winner: string; strategy: string | null; learnings: number }
  | { promoted: false; reason: string };

/**
 * Promotes a test's winner when the gate allows it (always-valid p below alpha after Holm,
 * no sample-ratio mismatch): the winner's strategy becomes the control for the segment and
 * channel, and every variant's lift against control — overall and per segment — is kept as a
 * learning. Once per experiment; an audit entry records it.
 */
export const promoteWinner = async (
  store: Store,
  id: string,
  nowMs: number,
): Promise<PromotionOutcome> => {
  const results = await experimentResults(store, id, { nowMs });
  const { design } = results;
  if (design.promoted !== undefined)
    return { promoted: false, reason: `already promoted ${design.promoted.winner}` };
  if (results.test === null) return { promoted: false, reason: 'no variants to choose between' };
  if (!('analysis' in results.test)) return { promoted: false, reason: results.test.reason };
  const promotion = results.test.analysis.promotion;
  if (!promotion.allowed) return { promoted: false, reason: describeBlocks(promotion.blocks) };
  const strategyOf = (arm: string) => design.arms.find((a) => a.name === arm)?.strategy ?? arm;
  const learning = (segment: string, l: LiftView): Learning => ({
    experimentId: id,
    strategy: strategyOf(l.treatment),
    segment,
    channel: design.channel,
    metric: 'conversion',
    lift: l.relativeLift.estimate,
    lower: l.relativeLift.lower,
    upper: l.relativeLift.upper,
    p: l.alwaysValidHolmP,
    units: l.units,
    createdAtMs: nowMs,
  });
  const overall = lifts({ ok: true, analysis: results.test.analysis });
  // Per segment: many cuts of one test, so their p-values are adjusted (Holm) across every
  // segment and variant before any of them may lead a later campaign.
  const cuts = results.segments.flatMap((s) =>
    s.segment === design.segment ? [] : s.test.map((l) => ({ segment: s.segment, l })),
  );
  const adjusted = adjustHolm(cuts.map(({ l }) => l.alwaysValidHolmP));
  const learnings = [
    ...overall.map((l) => learning(design.segment ?? ALL, l)),
    ...cuts.map(({ segment, l }, i) => ({
      ...learning(segment, l),
      p: adjusted[i] ?? 1,
    })),
  ].filter((l) => Number.isFinite(l.lift) && Number.isFinite(l.lower) && Number.isFinite(l.upper));
  const kept = mostCautiousPerStrategy(learnings);
  const strategy = design.arms.find((a) => a.name === promotion.winner)?.strategy ?? null;
  const promoted: ExperimentDesign = {
    ...design,
    promoted: { winner: promotion.winner, strategy, atMs: nowMs },
  };
  const done = await store.transaction(async (tx) => {
    // One promotion per experiment, whoever asks at the same time: the design is read again
    // under the experiment's lock.
    await tx.lock([designKey(id)]);
    const current = await tx.getSetting(designKey(id));
    const already =
      current === null ? undefined : (JSON.parse(current) as ExperimentDesign).promoted;
    if (already !== undefined) return already;
    await tx.saveLearnings(kept);
    if (strategy !== null)
      await tx.setSetting(controlKey(design.segment ?? ALL, design.channel), strategy);
    // A journey step sends its winner to everyone from now on.
    if (design.slot !== undefined) await tx.setSetting(promotedKey(design.slot), promotion.winner);
    await tx.setSetting(designKey(id), JSON.stringify(promoted));
    await appendAudit(
      tx,
      [
        {
          kind: 'promotion',
          customerId: null,
          atMs: nowMs,
          data: {
            experimentId: id,
            winner: promotion.winner,
            strategy,
            metric: promotion.metric,
            segment: design.segment ?? ALL,
            channel: design.channel,
            learnings: learnings.length,
          },
        },
      ],
      nowMs,
    );
    return null;
  });
  if (done !== null) return { promoted: false, reason: `already promoted ${done.winner}` };
  return { promoted: true, winner: promotion.winner, strategy, learnings: learnings.length };
};

/** Tries to promote every running campaign test (the worker does this every hour). */
export const promoteDueWinners = async (store: Store, nowMs: number): Promise<string[]> => {
  const promoted: string[] = [];
  for (const e of await store.listExperiments()) {
    const design = await storedDesign(store, e.experimentId);
    if (design === null) continue;
    if (design.promoted !== undefined || design.arms.length < 2) continue;
    const outcome = await promoteWinner(store, e.experimentId, nowMs);
    if (outcome.promoted) promoted.push(e.experimentId);
  }
  return promoted;
};

/**
 * Once a day, the next day's weights of every adaptively allocated journey step still being
 * tested, from its exposed units so far: Thompson sampling (every arm keeps at least 5 %, an
 * equal split until each arm has 100 trials) or the three-phase policy (its always-valid
 * p-values and sample-ratio check from the results). They take effect at the next midnight
 * (UTC), so a day's units are all assigned under one set of weights and the sample-ratio check
 * knows what to expect. Seeded by the day: the same data gives the same weights.
 */
export const reallocateBandits = async (store: Store, nowMs: number): Promise<string[]> => {
  const fromMs = Math.floor(nowMs / DAY_MS) * DAY_MS + DAY_MS;
  const changed: string[] = [];
  for (const e of await store.listExperiments()) {
    const design = await storedDesign(store, e.experimentId);
    if (design === null) continue;
    const slot = design.slot;
    if (!adaptive(design) || design.promoted !== undefined || slot === undefined) continue;
    const history = await allocationOf(store, design);
    if (history.some((h) => h.fromMs === fromMs)) continue;
    const rows = await store.unitTotals(design.id, 'segment', nowMs);
    const outcomes = exposedOutcomes(design, rows);
    const random = seededRandom(Math.floor(fromMs / DAY_MS));
    let entry: AllocationEntry;
    if (design.allocation === 'three-phase') {
      const results = await experimentResults(store, design.id, { nowMs });
      const analysis =
        results.test !== null && 'analysis' in results.test ? results.test.analysis : null;
      const step = allocateThreePhase(
        {
          control: design.control,
          arms: outcomes,
          alwaysValidP: Object.fromEntries(
            (analysis?.metrics[0]?.comparisons ?? []).map((c) => [c.treatment, c.alwaysValidHolmP]),
          ),
          // Which of leader and control is better, as the test (within days) estimates it.
          lifts: Object.fromEntries(
            (analysis?.metrics[0]?.comparisons ?? []).map((c) => [
              c.treatment,
              c.absoluteLift.estimate,
            ]),
          ),
          sampleRatioAlarm: analysis?.sampleRatio.alarm ?? false,
        },
        random,
      );
      entry = {
        fromMs,
        weights: Object.fromEntries(step.arms.map((a) => [a.name, a.weight])),
        mode: step.phase,
        reasons: step.reasons,
      };
    } else {
      const step = allocateThompson(outcomes, random, { minShare: 0.05 });
      entry = {
        fromMs,
        weights: Object.fromEntries(step.arms.map((a) => [a.name, a.weight])),
        mode: step.mode,
        reasons: [],
      };
    }
    await store.transaction(async (tx) => {
      await tx.lock([allocationKey(slot)]);
      const current = await tx.getSetting(allocationKey(slot));
      const known = current === null ? [] : (JSON.parse(current) as AllocationEntry[]);
      if (known.some((h) => h.fromMs === fromMs)) return;
      await tx.setSetting(allocationKey(slot), JSON.stringify([...known, entry]));
      await appendAudit(
        tx,
        [
          {
            kind: 'allocation',
            customerId: null,
            atMs: nowMs,
            data: { experimentId: design.id, ...entry, reasons: [...entry.reasons] },
          },
        ],
        nowMs,
      );
    });
    changed.push(design.id);
  }
  return changed;
};

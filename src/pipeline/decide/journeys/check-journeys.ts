import type { FieldProblem } from '../../../core/errors.js';
import { quotedValue } from '../../../core/quoted-value.js';
import { WELL_KNOWN_EVENTS } from '../../../core/event-names.js';
import { looseWord } from '../../../core/read-props.js';
import { segmentNames } from '../agents/segment-customer.js';
import {
  MAX_WAIT_DAYS,
  MAX_WAIT_HOURS,
  conditionFields,
  stageNames,
  type Condition,
  type JourneyDefinition,
  type JourneyStep,
} from './journey-schema.js';

const targetsOf = (step: JourneyStep): (string | undefined)[] => {
  switch (step.type) {
    case 'branch':
      return [step.then, step.else, ...(step.split ?? []).map((s) => s.next)];
    case 'exit':
      return [];
    case 'send':
    case 'web':
    case 'wait':
      return [step.next];
  }
};

/**
 * The steps a run goes on to from step `i`: its `next`, `then`, `else` or split arm, and without
 * one the step below it; none from an exit. A target that is not a step is left out (refused on
 * its own).
 */
const nextSteps = (
  steps: readonly JourneyStep[],
  index: ReadonlyMap<string, number>,
  i: number,
) => {
  const step = steps[i];
  if (step === undefined || step.type === 'exit') return [];
  const below = steps[i + 1]?.id;
  // A split goes to one of its arms and nowhere else; a condition to then or else (else, and
  // then when missing, the step below).
  const targets =
    step.type === 'branch'
      ? step.split !== undefined
        ? step.split.map((s) => s.next)
        : [step.then ?? below, step.else ?? below]
      : [step.next ?? below];
  return targets.flatMap((id) => {
    const j = id === undefined ? undefined : index.get(id);
    return j === undefined ? [] : [j];
  });
};

/** The steps no run reaches from the first: a target mistyped, or a step left after an exit. */
const unreachedSteps = (journey: JourneyDefinition): number[] => {
  const index = new Map(journey.steps.map((step, i) => [step.id, i]));
  const reached = new Set<number>();
  const waiting = journey.steps.length > 0 ? [0] : [];
  for (let i = waiting.pop(); i !== undefined; i = waiting.pop()) {
    if (reached.has(i)) continue;
    reached.add(i);
    waiting.push(...nextSteps(journey.steps, index, i));
  }
  return journey.steps.flatMap((_, i) => (reached.has(i) ? [] : [i]));
};

/**
 * A run of steps that comes back to where it started without a timed wait (hours or days) on
 * the way, as step
 * ids (the first repeated at the end), or null. Runs go on as `nextSteps` says; a wait ends a
 * run.
 */
const loopWithoutWait = (journey: JourneyDefinition): string[] | null => {
  const steps = journey.steps;
  const index = new Map(steps.map((step, i) => [step.id, i]));
  // A wait until an event goes straight on once the customer has sent that event (it stays
  // seen): only a wait for a time (hours, days) takes a run out of the round for certain.
  const holds = (step: JourneyStep | undefined) =>
    step?.type === 'wait' && step.until === undefined;
  const successors = (i: number): number[] =>
    holds(steps[i]) ? [] : nextSteps(steps, index, i).filter((j) => !holds(steps[j]));
  const state = new Array<0 | 1 | 2>(steps.length).fill(0);
  const path: number[] = [];
  const visit = (i: number): number[] | null => {
    state[i] = 1;
    path.push(i);
    for (const j of successors(i)) {
      if (state[j] === 1) return [...path.slice(path.indexOf(j)), j];
      if (state[j] === 0) {
        const found = visit(j);
        if (found !== null) return found;
      }
    }
    path.pop();
    state[i] = 2;
    return null;
  };
  for (let i = 0; i < steps.length; i += 1)
    if (state[i] === 0) {
      const found = visit(i);
      if (found !== null) return found.map((j) => steps[j]?.id ?? '?');
    }
  return null;
};

/** A step's waits and lifetimes, each bounded by MAX_WAIT_DAYS: its path under the step, and value. */
const durationsOf = (
  step: JourneyStep,
): { key: string; value: number; max: number; unit: string }[] => {
  const hours = (key: string, value: number | undefined) =>
    value === undefined ? [] : [{ key, value, max: MAX_WAIT_HOURS, unit: 'hours' }];
  switch (step.type) {
    case 'wait':
      return [
        ...hours('hours', step.hours),
        ...(step.days === undefined
          ? []
          : [{ key: 'days', value: step.days, max: MAX_WAIT_DAYS, unit: 'days' }]),
        ...hours('until/timeoutHours', step.until?.timeoutHours),
      ];
    case 'web':
      return hours('ttlHours', step.ttlHours);
    case 'send':
    case 'branch':
    case 'exit':
      return [];
  }
};

/** What the configuration says about the triggers a journey can wait for. */
export interface JourneyContext {
  /** The days the daily sweep raises an `inactive` trigger for (`decide.winBack`). */
  inactiveDays: readonly number[];
}

interface FieldValues {
  kind: string;
  takes: (value: unknown) => boolean;
  /** Whether the order operators (gt, gte, lt, lte) can compare it. */
  ordered: boolean;
}

const aNumber: FieldValues = {
  kind: 'a number',
  takes: (v) => typeof v === 'number',
  ordered: true,
};

/** The values each profile field a condition reads can have (evaluate-condition.ts). */
const valuesOf = new Map<string, FieldValues>(
  Object.entries({
    lifecycleStage: {
      kind: `a lifecycle stage (${stageNames.join(', ')})`,
      takes: (v) => (stageNames as readonly unknown[]).includes(v),
      ordered: false,
    },
    segment: {
      kind: `a segment (${segmentNames.join(', ')})`,
      takes: (v) => (segmentNames as readonly unknown[]).includes(v),
      ordered: false,
    },
    frequency: aNumber,
    monetary: aNumber,
    ltv: aNumber,
    // No orders, no recency.
    recencyDays: {
      kind: 'a number or null',
      takes: (v) => typeof v === 'number' || v === null,
      ordered: true,
    },
    engagementScore: aNumber,
    churnRisk: aNumber,
    vip: { kind: 'true or false', takes: (v) => typeof v === 'boolean', ordered: false },
    country: {
      kind: 'a string or null',
      takes: (v) => typeof v === 'string' || v === null,
      ordered: false,
    },
    cartValue: aNumber,
  } satisfies Record<(typeof conditionFields)[number], FieldValues>),
);

/**
 * A condition that can never hold (or never fail): a value the field never has (`lifecycleStage`
 * is never `atrisk`), or an order operator on a field that is no number.
 */
const conditionProblems = (condition: Condition, at: string): FieldProblem[] => {
  if ('event' in condition) return [];
  const { field } = condition;
  // A trait can hold anything.
  const values = valuesOf.get(field);
  if (values === undefined) return [];
  if (condition.op === 'eq' || condition.op === 'neq' || condition.op === 'in') {
    const given =
      condition.op === 'in'
        ? condition.value.map((v, k) => ({ v, path: `${at}/value/${String(k)}` }))
        : [{ v: condition.value, path: `${at}/value` }];
    return given
      .filter(({ v }) => !values.takes(v))
      .map(({ v, path }) => ({
        path,
        message: `must be ${values.kind} to compare with ${field}, not ${quotedValue(v)}`,
      }));
  }
  return values.ordered
    ? []
    : [
        {
          path: `${at}/op`,
          message: `${condition.op} compares numbers, and ${field} is not one (use eq, neq or in)`,
        },
      ];
};

/** A well-known event `name` is written as, in another case or spacing; null for any other. */
const nearMissOf = (name: string): string | null => {
  const known = WELL_KNOWN_EVENTS.find((event) => looseWord(event) === looseWord(name));
  return known === undefined || known === name ? null : known;
};

/**
 * A warning for each event a journey names as a well-known one is written, in another case or
 * spacing (`order completed` for `Order Completed`): event names match exactly, and a journey
 * exiting on the one its sources do not send keeps a customer who ordered in it. A warning, not
 * a refusal: a source may send its events so (`order_completed`).
 */
export const eventSpellingWarnings = (journeys: readonly JourneyDefinition[]): string[] =>
  journeys.flatMap((journey, j) => {
    const at = `/decide/journeys/${String(j)}`;
    const named: [string, string][] = [
      ...('event' in journey.entry
        ? [[journey.entry.event, `${at}/entry/event`] as [string, string]]
        : []),
      ...(journey.exitOn ?? []).map((name, e): [string, string] => [
        name,
        `${at}/exitOn/${String(e)}`,
      ]),
      ...journey.steps.flatMap((step, i): [string, string][] =>
        step.type === 'wait' && step.until !== undefined
          ? [[step.until.event, `${at}/steps/${String(i)}/until/event`]]
          : step.type === 'branch' && step.if !== undefined && 'event' in step.if
            ? [[step.if.event, `${at}/steps/${String(i)}/if/event`]]
            : [],
      ),
    ];
    return named.flatMap(([name, path]) => {
      const known = nearMissOf(name);
      return known === null
        ? []
        : [
            `${path}: names the event ${quotedValue(name)}, not "${known}" (event names match exactly): check which your sources send`,
          ];
    });
  });

/**
 * The semantic checks the schema cannot make: unique journey and step ids, every `next`/`then`
 * /`else` naming a step of the same journey, a wait with exactly one of hours/days/until, a
 * branch with either a condition or a split (and then no `then` or `else`) and arms of
 * distinct names, a condition on a value its field can have, no wait for or condition on an
 * event the journey exits on, variants of distinct names, waits and web content of at most ten
 * years, and an `inactive` entry on days the sweep raises. Every problem is reported, with its
 * path.
 */
export const checkJourneys = (
  journeys: readonly JourneyDefinition[],
  context: JourneyContext,
): FieldProblem[] => {
  const problems: FieldProblem[] = [];
  const ids = new Set<string>();
  const days = context.inactiveDays.map(String);
  journeys.forEach((journey, j) => {
    const at = `/decide/journeys/${j}`;
    if (ids.has(journey.id))
      problems.push({ path: `${at}/id`, message: `journey id ${journey.id} is used twice` });
    ids.add(journey.id);
    const entry = journey.entry;
    // With no threshold to compare (both faulted, and reported on their own), the days stand.
    if (
      'trigger' in entry &&
      entry.trigger === 'inactive' &&
      entry.to !== undefined &&
      days.length > 0 &&
      !days.includes(entry.to)
    )
      problems.push({
        path: `${at}/entry/to`,
        message: `with trigger inactive, must be ${days.map((d) => `"${d}"`).join(' or ')} (decide.winBack.inactiveDays or dormantDays, the only days the daily sweep raises it), not ${quotedValue(entry.to)}`,
      });
    const stepIds = new Set<string>();
    journey.steps.forEach((step, i) => {
      if (stepIds.has(step.id))
        problems.push({ path: `${at}/steps/${i}/id`, message: `step id ${step.id} is used twice` });
      stepIds.add(step.id);
    });
    const exits = new Set(journey.exitOn ?? []);
    // A target that names no step is refused below; what it meant to reach cannot be told.
    const targetsKnown = journey.steps.every((step) =>
      targetsOf(step).every((target) => target === undefined || stepIds.has(target)),
    );
    for (const i of targetsKnown ? unreachedSteps(journey) : [])
      problems.push({
        path: `${at}/steps/${i}`,
        message: `step ${journey.steps[i]?.id ?? '?'} is never reached: no step goes to it, and the one above it ends the journey or goes elsewhere`,
      });
    const loop = loopWithoutWait(journey);
    if (loop !== null)
      problems.push({
        path: `${at}/steps`,
        message: `steps ${loop.join(' → ')} go round with no timed wait step on the way: a customer would be sent round it at once`,
      });
    journey.steps.forEach((step, i) => {
      const here = `${at}/steps/${i}`;
      // A send step names no website slot: web there could never be shown (decisions.md).
      if (step.type === 'send')
        step.channels.forEach((channel, k) => {
          if (channel === 'web')
            problems.push({
              path: `${here}/channels/${k}`,
              message:
                'a send step names no website slot, so web content from it could never be shown: use a web step (slot, content, ttlHours)',
            });
        });
      for (const target of targetsOf(step))
        if (target !== undefined && !stepIds.has(target))
          problems.push({
            path: here,
            message: `step ${step.id} goes to ${target}, which is not a step of ${journey.id}`,
          });
      if (step.type === 'wait') {
        const given = [step.hours, step.days, step.until].filter((v) => v !== undefined).length;
        if (given !== 1)
          problems.push({
            path: here,
            message: `wait step ${step.id} needs exactly one of hours, days or until`,
          });
      }
      if (step.type === 'branch' && (step.if === undefined) === (step.split === undefined))
        problems.push({
          path: here,
          message: `branch step ${step.id} needs either "if" or "split"`,
        });
      if (step.type === 'branch' && step.if !== undefined && step.then === undefined)
        problems.push({ path: here, message: `branch step ${step.id} needs "then"` });
      if (step.type === 'branch' && step.if !== undefined)
        problems.push(...conditionProblems(step.if, `${here}/if`));
      if (step.type === 'branch') {
        // An arm is measured and stored by name: two of one name would count as one.
        const arms = new Set<string>();
        step.split?.forEach(({ arm }, k) => {
          if (arms.has(arm))
            problems.push({
              path: `${here}/split/${String(k)}/arm`,
              message: `arm ${arm} is used twice in step ${step.id}`,
            });
          arms.add(arm);
        });
      }
      if (step.type === 'branch' && step.split !== undefined && step.if === undefined)
        // A split goes by its arms alone (advance-journey.ts): these would never be followed.
        for (const key of ['then', 'else'] as const)
          if (step[key] !== undefined)
            problems.push({
              path: `${here}/${key}`,
              message: `branch step ${step.id} splits into arms, so its "${key}" is never followed: give each arm its next step`,
            });
      // The exit runs before anything else the event does (decisions.md): a wait for it could
      // only time out, a condition on it never hold.
      if (step.type === 'wait' && step.until !== undefined && exits.has(step.until.event))
        problems.push({
          path: `${here}/until/event`,
          message: `${step.until.event} ends journey ${journey.id} (exitOn), so wait step ${step.id} could only time out`,
        });
      if (step.type === 'branch' && step.if !== undefined && 'event' in step.if)
        if (exits.has(step.if.event))
          problems.push({
            path: `${here}/if/event`,
            message: `${step.if.event} ends journey ${journey.id} (exitOn), so the condition of branch step ${step.id} could never hold`,
          });
      if (step.type === 'send') {
        // A variant is assigned and measured by name: two of one name would test it against itself.
        const variants = new Set<string>();
        step.variants?.forEach((variant, k) => {
          if (variants.has(variant))
            problems.push({
              path: `${here}/variants/${String(k)}`,
              message: `variant ${variant} is used twice in step ${step.id}`,
            });
          variants.add(variant);
        });
      }
      for (const { key, value, max, unit } of durationsOf(step))
        if (value > max)
          problems.push({
            path: `${here}/${key}`,
            message: `must be at most ${String(max)} ${unit} (ten years), not ${String(value)}`,
          });
      if (step.type === 'send' && step.allocation !== undefined && step.variants === undefined)
        problems.push({
          path: `${here}/allocation`,
          message: `send step ${step.id} has an allocation but no variants to allocate`,
        });
    });
  });
  return problems;
};

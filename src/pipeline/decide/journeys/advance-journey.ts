import type { Trigger } from '../../../core/decision.js';
import { hashToUnit } from '../../../core/hash-to-unit.js';
import { addLocalDays } from '../../../core/local-time.js';
import { resolveTimezone } from '../../../core/quiet-hours.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../core/time.js';
import type { Membership } from '../../../ports/decide-store.js';
import { cartAgent } from '../agents/cart-agent.js';
import { proposeMessage, toIncentiveCode } from '../agents/propose-message.js';
import type { CustomerView, DecideEnv, Proposal } from '../proposal.js';
import { evaluateCondition } from './evaluate-condition.js';
import type { Journey } from './journey-catalog.js';
import { MAX_WAIT_DAYS, MAX_WAIT_HOURS, type JourneyStep } from './journey-schema.js';

/** The step id a membership holds once the last step has run. */
export const END_STEP = '#end';
const MAX_STEPS_PER_RUN = 64;

export interface JourneyRun {
  membership: Membership;
  proposals: Proposal[];
  /** When to run the journey again (a wait), or null when it ended. */
  wakeAtMs: number | null;
  notes: string[];
}

const pickArm = (
  split: NonNullable<Extract<JourneyStep, { type: 'branch' }>['split']>,
  u: number,
) => {
  const total = split.reduce((sum, arm) => sum + arm.weight, 0);
  let acc = 0;
  for (const arm of split) {
    acc += arm.weight / total;
    if (u < acc) return arm;
  }
  return split[split.length - 1] ?? split[0];
};

/**
 * The experiment slot of a journey step's variants: `<journey>@<version>/<step>`. Each version
 * is an experiment of its own (its variants may differ), so each keeps its own weights and
 * promoted winner.
 */
export const journeyStepSlot = (journeyId: string, version: number, stepId: string): string =>
  `${journeyId}@${version}/${stepId}`;

const sendProposal = (
  journey: Journey,
  step: Extract<JourneyStep, { type: 'send' }>,
  view: CustomerView,
  env: DecideEnv,
  nowMs: number,
  trigger: Trigger,
): Proposal | string => {
  const ref = { id: journey.definition.id, version: journey.version, stepId: step.id };
  const experiment =
    step.variants === undefined
      ? null
      : {
          slot: journeyStepSlot(journey.definition.id, journey.version, step.id),
          variants: step.variants,
        };
  if (step.offer === 'cart') {
    const cart = view.state.cart;
    const cartTrigger: Extract<Trigger, { kind: 'cart-abandoned' }> =
      trigger.kind === 'cart-abandoned'
        ? trigger
        : { kind: 'cart-abandoned', cartUpdatedAtMs: cart?.updatedAtMs ?? 0 };
    // The step's channels, in its order, its template and variants, and its incentive if set.
    return cartAgent(view, cartTrigger, env, nowMs, ref, {
      wanted: step.channels,
      template: step.template,
      experiment,
      ...(step.incentive === undefined ? {} : { incentive: step.incentive }),
    });
  }
  const aov = view.computed.frequency > 0 ? view.computed.monetary / view.computed.frequency : 0;
  return proposeMessage(
    view,
    {
      agent: 'journey',
      trigger,
      action: `${journey.definition.id}/${step.id}`,
      wanted: step.channels,
      template: step.template,
      incentive:
        step.incentive === undefined
          ? null
          : {
              kind: 'percent-off',
              percent: step.incentive.percent,
              amount: null,
              code: toIncentiveCode(journey.definition.id.toUpperCase().slice(0, 8), env.nextId()),
              expiresAtMs: nowMs + step.incentive.validHours * HOUR_MS,
            },
      baseConfidence: 0.8,
      priority: journey.definition.priority ?? env.policy.priorities.journey,
      valueAtStake: aov,
      reasons: [`journey ${journey.definition.id} v${journey.version}, step ${step.id}`],
      atMs: nowMs,
      optimiseSendTime: step.sendTimeOptimised ?? true,
      journey: ref,
      experiment,
      // A journey entered on an abandoned cart speaks of that cart (the reminder): it is
      // moot once the cart is emptied, ordered or changed, as the offer is.
      aboutCart:
        'trigger' in journey.definition.entry &&
        journey.definition.entry.trigger === 'cart-abandoned',
    },
    env,
  );
};

/**
 * When a wait step started at `nowMs` ends: `hours` and `timeoutHours` are hours of elapsed
 * time, `days` are calendar days at the same wall-clock time in the customer's time zone (as
 * quiet hours resolve it), so a daylight-saving change does not move a day-3 email to day 4.
 * A wait longer than the configuration allows (a version stored before the bound) is cut to it.
 */
const wakeAfter = (
  step: Extract<JourneyStep, { type: 'wait' }>,
  view: CustomerView,
  env: DecideEnv,
  nowMs: number,
): number => {
  if (step.until !== undefined)
    return nowMs + Math.min(step.until.timeoutHours, MAX_WAIT_HOURS) * HOUR_MS;
  if (step.days !== undefined) {
    const timezone = resolveTimezone(view.state.location, env.policy.quietHours).timezone;
    return addLocalDays(nowMs, Math.min(step.days, MAX_WAIT_DAYS), timezone);
  }
  return nowMs + Math.min(step.hours ?? 0, MAX_WAIT_HOURS) * HOUR_MS;
};

/** How soon a second send step a run reached goes: in a round of its own, a minute on. */
export const NEXT_SEND_AFTER_MS = MINUTE_MS;

/**
 * Runs a customer's journey from the step their membership holds until it waits or ends:
 * sends and web content become proposals, a wait sets when to run again, a branch follows its
 * condition (or a stable hash for a split), exit and the last step end the membership.
 * `afterSend`: an earlier run of this journey in the same round proposed a message (an entry,
 * then a wait until an event the round also handles), so the first send this run reaches waits
 * for a round of its own, as a second send within one run does.
 */
export const advanceJourney = (
  journey: Journey,
  start: Membership,
  view: CustomerView,
  env: DecideEnv,
  nowMs: number,
  trigger: Trigger,
  afterSend = false,
): JourneyRun => {
  const membership: Membership = {
    ...start,
    arms: { ...start.arms },
    waitingFor: null,
    updatedAtMs: nowMs,
  };
  const proposals: Proposal[] = [];
  const notes: string[] = [];
  const steps = journey.definition.steps;
  let stepId: string | null = membership.stepId;
  const visited = new Set<string>();
  for (let n = 0; n < MAX_STEPS_PER_RUN; n += 1) {
    const found: { step: JourneyStep; index: number } | undefined =
      stepId === null || stepId === END_STEP ? undefined : journey.steps.get(stepId);
    if (found === undefined) {
      membership.status = 'completed';
      membership.stepId = END_STEP;
      return { membership, proposals, wakeAtMs: null, notes };
    }
    const step: JourneyStep = found.step;
    const index: number = found.index;
    // A send step reached again after the run's message is a loop with no wait (a version
    // stored before such loops were refused): it ends as the step limit ends one, not with a
    // message a minute for ever.
    if (step.type === 'send' && visited.has(step.id) && proposals.some((p) => p.kind === 'send'))
      break;
    visited.add(step.id);
    const following: string | null =
      ('next' in step ? step.next : undefined) ?? steps[index + 1]?.id ?? null;
    switch (step.type) {
      case 'send': {
        // One message a run: a customer gets one a round (arbitration), so a second send
        // reached without a timed wait (two sends in a row, a wait until an event already
        // seen) waits for the next round rather than being dropped there.
        if (afterSend || proposals.some((p) => p.kind === 'send')) {
          notes.push(`step ${step.id}: after the run's message, in the next round`);
          membership.stepId = step.id;
          return { membership, proposals, wakeAtMs: nowMs + NEXT_SEND_AFTER_MS, notes };
        }
        const proposal = sendProposal(journey, step, view, env, nowMs, trigger);
        if (typeof proposal === 'string') notes.push(`step ${step.id}: ${proposal}`);
        // The split arms the customer took so far go with the message: the experiment stage
        // measures each split from the first message after it.
        else if (Object.keys(membership.arms).length > 0)
          proposals.push({
            ...proposal,
            details: { ...proposal.details, splitArms: { ...membership.arms } },
          });
        else proposals.push(proposal);
        stepId = following;
        break;
      }
      case 'web':
        proposals.push({
          agent: 'journey',
          trigger,
          kind: 'web',
          action: 'web-content',
          channels: ['web'],
          template: step.content,
          incentive: null,
          scheduledForMs: nowMs,
          confidence: 1,
          reasons: [
            `journey ${journey.definition.id} v${journey.version}, step ${step.id}: ${step.content} in slot ${step.slot}`,
          ],
          priority: journey.definition.priority ?? env.policy.priorities.journey,
          expectedValue: 0,
          journey: { id: journey.definition.id, version: journey.version, stepId: step.id },
          experiment: null,
          details: {
            slot: step.slot,
            content: step.content,
            expiresAt: new Date(
              nowMs + Math.min(step.ttlHours, MAX_WAIT_HOURS) * HOUR_MS,
            ).toISOString(),
          },
        });
        stepId = following;
        break;
      case 'wait': {
        if (step.until !== undefined) {
          if (membership.seenEvents.includes(step.until.event)) {
            stepId = following;
            break;
          }
          membership.waitingFor = step.until.event;
        }
        membership.stepId = following ?? END_STEP;
        return { membership, proposals, wakeAtMs: wakeAfter(step, view, env, nowMs), notes };
      }
      case 'branch': {
        if (step.split !== undefined) {
          const chosen: { arm: string; next: string } | undefined =
            step.split.find((a: { arm: string }) => a.arm === membership.arms[step.id]) ??
            pickArm(step.split, hashToUnit(`${journey.definition.id}/${step.id}`, view.customerId));
          if (chosen !== undefined) {
            membership.arms[step.id] = chosen.arm;
            stepId = chosen.next;
          }
          break;
        }
        const holds: boolean =
          step.if !== undefined && evaluateCondition(step.if, view, membership);
        notes.push(`step ${step.id}: condition ${holds ? 'holds' : 'does not hold'}`);
        stepId = (holds ? step.then : step.else) ?? following;
        break;
      }
      case 'exit':
        membership.status = 'exited';
        membership.exitReason = `exit step ${step.id}`;
        membership.stepId = step.id;
        return { membership, proposals, wakeAtMs: null, notes };
    }
  }
  notes.push(`went round its steps without a wait (a loop): stopped`);
  membership.status = 'exited';
  membership.exitReason = 'loop without a wait';
  return { membership, proposals, wakeAtMs: null, notes };
};

/** Whether a customer may enter (again) under the journey's re-entry rule; a reason if not. */
export const mayEnter = (
  journey: Journey,
  existing: Membership | undefined,
  nowMs: number,
): string | null => {
  if (existing === undefined) return null;
  if (existing.status === 'active') return `already in journey ${journey.definition.id}`;
  const rule = journey.definition.reEntry ?? 'never';
  if (rule === 'never') return `journey ${journey.definition.id} allows no re-entry`;
  if (rule === 'after-exit') return null;
  return nowMs - existing.enteredAtMs >= rule.afterDays * DAY_MS
    ? null
    : `re-entry to ${journey.definition.id} only ${rule.afterDays} days after the last entry`;
};

/** A fresh membership at the journey's first step. */
export const newMembership = (
  journey: Journey,
  view: CustomerView,
  existing: Membership | undefined,
  nowMs: number,
): Membership => ({
  customerId: view.customerId,
  journeyId: journey.definition.id,
  version: journey.version,
  stepId: journey.definition.steps[0]?.id ?? END_STEP,
  status: 'active',
  enteredAtMs: nowMs,
  updatedAtMs: nowMs,
  entries: (existing?.entries ?? 0) + 1,
  exitReason: null,
  seenEvents: [],
  waitingFor: null,
  arms: {},
});

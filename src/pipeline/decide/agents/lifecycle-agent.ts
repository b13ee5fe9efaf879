import type { Trigger } from '../../../core/decision.js';
import type { Channel } from '../../../core/profile.js';
import { HOUR_MS } from '../../../core/time.js';
import type { CustomerView, DecideEnv, Proposal } from '../proposal.js';
import { celebratedDay, type CelebratedDay } from '../sweep-customer.js';
import { proposeMessage, toIncentiveCode } from './propose-message.js';
import type { SendDeadline } from './schedule-send.js';

const stageActions: Record<
  string,
  { action: string; template: string; offerPercent: number | null }
> = {
  new: { action: 'onboarding', template: 'onboarding', offerPercent: null },
  active: { action: 'engagement', template: 'upsell', offerPercent: null },
  'at-risk': { action: 'win-back-offer', template: 'win-back-offer', offerPercent: 10 },
  churned: { action: 'reactivation', template: 'reactivation', offerPercent: 15 },
};

const wanted: Channel[] = ['email', 'push', 'sms'];

/**
 * Lifecycle & retention: the stage's action when a customer changes stage (new → onboarding,
 * active → engagement/upsell, at-risk → win-back offer, churned → reactivation). A VIP at risk
 * or churned is escalated to a person instead of receiving an automated offer.
 */
export const lifecycleAgent = (
  view: CustomerView,
  trigger: Extract<Trigger, { kind: 'stage-changed' }>,
  env: DecideEnv,
  nowMs: number,
): Proposal | string => {
  const plan = stageActions[trigger.to];
  if (plan === undefined) return `no action for stage ${trigger.to}`;
  // Churned customers are the win-back agent's dormant path (tiers, waves, concierge).
  if (trigger.to === 'churned' && env.policy.winBack.waves.length > 0)
    return 'churned: left to the win-back dormant path';
  const from = trigger.from ?? 'unknown';
  const reasons = [`lifecycle stage ${from} → ${trigger.to}`];
  const ltv = view.computed.ltv;
  if (view.computed.vip && (trigger.to === 'at-risk' || trigger.to === 'churned')) {
    return {
      agent: 'lifecycle',
      trigger,
      kind: 'escalate',
      action: 'vip-outreach',
      channels: [],
      template: null,
      incentive: null,
      scheduledForMs: nowMs,
      confidence: 1,
      reasons: [
        ...reasons,
        `VIP (LTV $${ltv.toFixed(2)}): a person reaches out instead of an automated offer`,
      ],
      priority: env.policy.priorities.lifecycle,
      expectedValue: ltv,
      journey: null,
      experiment: null,
      details: { ltv, segment: view.segment },
    };
  }
  const percent = plan.offerPercent;
  return proposeMessage(
    view,
    {
      agent: 'lifecycle',
      trigger,
      action: plan.action,
      wanted,
      template: plan.template,
      incentive:
        percent === null
          ? null
          : {
              kind: 'percent-off',
              percent,
              amount: null,
              code: toIncentiveCode(`BACK${percent}`, env.nextId()),
              expiresAtMs: nowMs + 7 * 24 * HOUR_MS,
            },
      baseConfidence: trigger.to === 'churned' ? 0.6 : 0.7,
      priority: env.policy.priorities.lifecycle,
      valueAtStake:
        view.computed.frequency > 0 ? view.computed.monetary / view.computed.frequency : 0,
      reasons:
        percent === null ? reasons : [...reasons, `${percent} % offer for stage ${trigger.to}`],
      atMs: nowMs,
      optimiseSendTime: true,
    },
    env,
  );
};

/** Order milestones (1st, 5th, 10th … order): a thank-you, the value at stake the average order. */
export const milestoneAgent = (
  view: CustomerView,
  trigger: Extract<Trigger, { kind: 'order-placed' }>,
  env: DecideEnv,
  nowMs: number,
): Proposal | string => {
  if (!env.policy.milestones.includes(trigger.orderCount))
    return `order ${trigger.orderCount} is not a milestone`;
  const aov = view.computed.frequency > 0 ? view.computed.monetary / view.computed.frequency : 0;
  return proposeMessage(
    view,
    {
      agent: 'milestone',
      trigger,
      action: trigger.orderCount === 1 ? 'first-order-thanks' : 'order-milestone',
      wanted,
      template: trigger.orderCount === 1 ? 'first-order' : 'order-milestone',
      baseConfidence: 0.8,
      priority: env.policy.priorities.milestone,
      valueAtStake: aov,
      reasons: [`order number ${trigger.orderCount} is a milestone`],
      atMs: nowMs,
      optimiseSendTime: true,
      // `orderNumber`, as the built-in `order-milestone` template (and an API send's data) names it.
      details: { orderCount: trigger.orderCount, orderNumber: trigger.orderCount },
    },
    env,
  );
};

/**
 * The latest a celebration may be sent: the end of its day in the customer's time zone — a
 * greeting moved to the customer's best hour never arrives on the day after. A trigger whose
 * day is no longer found (the trait changed since) is not moved at all.
 */
export const celebrationDeadline = (
  day: CelebratedDay | null,
  kind: 'birthday' | 'anniversary',
  nowMs: number,
): SendDeadline =>
  day === null
    ? { atMs: nowMs, why: `no ${kind} in the days swept` }
    : { atMs: day.endsAtMs - 1, why: `the end of the ${kind} ${day.date} in ${day.timezone}` };

/**
 * Birthdays and signup anniversaries from traits, found by the daily sweep: sent on the
 * customer's own day, never before its sending hours open (local midnight, or the end of quiet
 * hours) and never moved past its end.
 */
export const celebrationAgent = (
  view: CustomerView,
  trigger: Extract<Trigger, { kind: 'birthday' | 'anniversary' }>,
  env: DecideEnv,
  nowMs: number,
): Proposal => {
  const day = celebratedDay(trigger.kind, view.state, env.policy.quietHours, nowMs);
  // A sweep greets days that open before the next sweep: west of it, later the same day.
  const atMs = day === null ? nowMs : Math.max(nowMs, day.opensAtMs);
  const what = trigger.kind === 'birthday' ? 'birthday' : `${trigger.years} year(s) since signup`;
  const reasons = [day === null ? what : `${what}, on ${day.date} in ${day.timezone}`];
  if (atMs > nowMs)
    reasons.push(`not before ${new Date(atMs).toISOString()}, when that day's sending hours open`);
  return proposeMessage(
    view,
    {
      agent: 'lifecycle',
      trigger,
      action: trigger.kind,
      wanted,
      template: trigger.kind,
      baseConfidence: 0.75,
      priority: env.policy.priorities.custom,
      valueAtStake:
        view.computed.frequency > 0 ? view.computed.monetary / view.computed.frequency : 0,
      reasons,
      atMs,
      optimiseSendTime: true,
      sendBy: celebrationDeadline(day, trigger.kind, atMs),
    },
    env,
  );
};

/** A custom event named in the configuration: its configured message. */
export const customEventAgent = (
  view: CustomerView,
  trigger: Extract<Trigger, { kind: 'custom-event' }>,
  env: DecideEnv,
  nowMs: number,
): Proposal | string => {
  const rule = env.policy.customEvents.find((c) => c.event === trigger.name);
  if (rule === undefined) return `no rule for event ${trigger.name}`;
  return proposeMessage(
    view,
    {
      agent: 'custom',
      trigger,
      action: `on-${trigger.name}`,
      wanted: rule.channels,
      template: rule.template,
      baseConfidence: 0.75,
      priority: env.policy.priorities.custom,
      valueAtStake: 0,
      reasons: [`event ${trigger.name} is configured to send ${rule.template}`],
      atMs: nowMs,
      optimiseSendTime: true,
    },
    env,
  );
};

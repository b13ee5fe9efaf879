import type { Trigger } from '../../../core/decision.js';
import { HOUR_MS } from '../../../core/time.js';
import type { CustomerView, DecideEnv, Proposal } from '../proposal.js';
import { proposeMessage, toIncentiveCode } from './propose-message.js';

/**
 * A one-off campaign's message for one customer, if they are (still) in its segment when it
 * is decided; the send time is optimised within the day and held out of quiet hours.
 */
export const campaignAgent = (
  view: CustomerView,
  trigger: Extract<Trigger, { kind: 'campaign' }>,
  env: DecideEnv,
  nowMs: number,
): Proposal | string => {
  const c = trigger.campaign;
  if (c.segment !== null && view.segment !== c.segment)
    return `campaign ${c.id}: in segment ${view.segment}, not ${c.segment}`;
  const aov = view.computed.frequency > 0 ? view.computed.monetary / view.computed.frequency : 0;
  return proposeMessage(
    view,
    {
      agent: 'campaign',
      trigger,
      action: `campaign:${c.id}`,
      wanted: c.channels,
      template: c.template,
      incentive:
        c.incentive === null
          ? null
          : {
              kind: 'percent-off',
              percent: c.incentive.percent,
              amount: null,
              code: toIncentiveCode(
                `${c.id.toUpperCase().slice(0, 8)}${c.incentive.percent}`,
                env.nextId(),
              ),
              expiresAtMs: nowMs + c.incentive.validHours * HOUR_MS,
            },
      baseConfidence: 0.75,
      priority: env.policy.priorities.campaign,
      valueAtStake: aov,
      reasons: [
        `campaign ${c.id}${c.segment === null ? ' to everyone' : ` to segment ${c.segment}`}`,
      ],
      atMs: nowMs,
      optimiseSendTime: true,
      // The copy's sources expire: a better hour after that would only get the message blocked.
      ...(c.copyValidUntilMs === undefined
        ? {}
        : {
            sendBy: {
              atMs: c.copyValidUntilMs - 1,
              why: `the campaign's copy is valid until ${new Date(c.copyValidUntilMs).toISOString()}`,
            },
          }),
      details: { campaignId: c.id },
      ...(c.variantIds === undefined || c.variantIds.length === 0
        ? {}
        : { experiment: { slot: `creative:${c.id}`, variants: c.variantIds } }),
    },
    env,
  );
};

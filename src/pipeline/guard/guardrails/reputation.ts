import type { JsonObject } from '../../../core/event.js';
import type { GuardContext, Guardrail } from '../guard-types.js';
import { pass, verdict } from '../guard-types.js';
import type { GuardPolicy } from '../policy.js';

const NAME = 'reputation';

/** A sending domain's delivery results over the reputation window. */
export type DomainResults = NonNullable<GuardContext['sendingDomain']>;

/** A limit a sending domain's results reached: what pauses its marketing email. */
export interface DomainBreach {
  limit: 'bounce' | 'complaint';
  reason: string;
  figures: JsonObject;
}

/**
 * The limits the domain's results reached (empty while within them, or while fewer than
 * `minSent` left it in the window: too few to judge), with the figures they were judged on: one
 * rule for the guardrail and for the check at hand-off (`checkReputationAtHandOff`).
 */
export const domainBreaches = (
  stats: DomainResults,
  policy: Pick<GuardPolicy, 'reputation'>,
): { breaches: DomainBreach[]; figures: JsonObject } => {
  const r = policy.reputation;
  const bounceRate = stats.sent > 0 ? stats.bounced / stats.sent : 0;
  const complaintRate = stats.sent > 0 ? stats.complained / stats.sent : 0;
  const figures = {
    domain: stats.domain,
    sent: stats.sent,
    bounced: stats.bounced,
    complained: stats.complained,
    bounceRate,
    complaintRate,
    windowDays: r.windowDays,
  };
  const breaches: DomainBreach[] = [];
  if (stats.sent < r.minSent) return { breaches, figures };
  if (bounceRate >= r.maxBounceRate)
    breaches.push({
      limit: 'bounce',
      reason: `${stats.domain}: bounce rate ${percent(bounceRate)} reached ${percent(r.maxBounceRate)}`,
      figures: { ...figures, limit: 'bounce', maxBounceRate: r.maxBounceRate },
    });
  if (complaintRate >= r.maxComplaintRate)
    breaches.push({
      limit: 'complaint',
      reason: `${stats.domain}: complaint rate ${percent(complaintRate)} reached ${percent(r.maxComplaintRate)}`,
      figures: { ...figures, limit: 'complaint', maxComplaintRate: r.maxComplaintRate },
    });
  return { breaches, figures };
};

/**
 * ISP reputation of the sending domain: once at least `reputation.minSent` emails left it in
 * the window (`reputation.windowDays`, applied by whoever gathers `context.sendingDomain`),
 * marketing email from it is blocked while bounced / sent reaches `maxBounceRate` or
 * complained / sent reaches `maxComplaintRate` (the limits mailbox providers throttle and
 * filter at). Transactional email still goes: receipts and password resets are owed to the
 * customer, are rarely bounced or reported, and pausing marketing alone is what brings the
 * rates back down.
 */
export const reputationGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    if (message.channel !== 'email') return [pass(NAME, 'not email')];
    if (message.class === 'transactional')
      return [pass(NAME, 'transactional email is not paused for the domain’s reputation')];
    const stats = context.sendingDomain;
    if (stats === null) return [pass(NAME, 'nothing sent from the domain yet')];
    const { breaches, figures } = domainBreaches(stats, policy);
    if (stats.sent < policy.reputation.minSent)
      return [
        pass(
          NAME,
          `${stats.sent} sent: too few to judge (${policy.reputation.minSent} needed)`,
          figures,
        ),
      ];
    return breaches.length > 0
      ? breaches.map((b) => verdict(NAME, 'block', 'domain_paused', b.reason, b.figures))
      : [pass(NAME, 'bounce and complaint rates within limits', figures)];
  },
};

const percent = (rate: number): string => `${Number((rate * 100).toFixed(2))} %`;

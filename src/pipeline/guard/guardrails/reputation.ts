import type { Guardrail, Verdict } from '../guard-types.js';
import { pass, verdict } from '../guard-types.js';

const NAME = 'reputation';

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
    if (stats.sent < r.minSent)
      return [pass(NAME, `${stats.sent} sent: too few to judge (${r.minSent} needed)`, figures)];
    const found: Verdict[] = [];
    if (bounceRate >= r.maxBounceRate)
      found.push(
        verdict(
          NAME,
          'block',
          'domain_paused',
          `${stats.domain}: bounce rate ${percent(bounceRate)} reached ${percent(r.maxBounceRate)}`,
          { ...figures, limit: 'bounce', maxBounceRate: r.maxBounceRate },
        ),
      );
    if (complaintRate >= r.maxComplaintRate)
      found.push(
        verdict(
          NAME,
          'block',
          'domain_paused',
          `${stats.domain}: complaint rate ${percent(complaintRate)} reached ${percent(r.maxComplaintRate)}`,
          { ...figures, limit: 'complaint', maxComplaintRate: r.maxComplaintRate },
        ),
      );
    return found.length > 0
      ? found
      : [pass(NAME, 'bounce and complaint rates within limits', figures)];
  },
};

const percent = (rate: number): string => `${Number((rate * 100).toFixed(2))} %`;

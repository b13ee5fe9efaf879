import type { Guardrail, Verdict } from '../guard-types.js';
import { phraseSource } from '../../../core/escape-reg-exp.js';
import { visibleText } from '../../../core/visible-text.js';
import { pass, verdict } from '../guard-types.js';

const NAME = 'spam';

const triggerPatterns = new WeakMap<readonly string[], [string, RegExp][]>();
/** Each trigger phrase as a pattern, in any case, its words however joined; made once a list. */
const triggerPatternsOf = (words: readonly string[]): [string, RegExp][] => {
  let found = triggerPatterns.get(words);
  if (found === undefined) {
    found = words
      .filter((w) => visibleText(w).trim() !== '')
      .map((w) => [w, new RegExp(phraseSource(visibleText(w)), 'iu')]);
    triggerPatterns.set(words, found);
  }
  return found;
};

/**
 * Spam control for marketing: the per-channel frequency cap over the window (with a cap of 3
 * the 3rd email in 7 days goes, the 4th does not), the engagement threshold once a customer
 * has had `engagementGraceMessages` messages to engage with, and spam trigger words in the
 * subject (to review).
 */
export const spamGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    if (message.class === 'transactional') return [pass(NAME, 'transactional')];
    const found: Verdict[] = [];
    const cap = policy.frequencyCaps[message.channel];
    const sent = context.history.marketingInWindow[message.channel] ?? 0;
    if (sent >= cap)
      found.push(
        verdict(
          NAME,
          'block',
          'frequency_capped',
          `${sent} ${message.channel} messages in ${policy.frequencyCaps.windowDays} days (cap ${cap})`,
          {
            sentInWindow: sent,
            cap,
          },
        ),
      );
    if (
      context.history.marketingTotal >= policy.engagementGraceMessages &&
      context.engagementScore < policy.minEngagement
    )
      found.push(
        verdict(
          NAME,
          'block',
          'low_engagement',
          `engagement ${context.engagementScore} below ${policy.minEngagement}`,
          {
            engagementScore: context.engagementScore,
            threshold: policy.minEngagement,
          },
        ),
      );
    // As a reader sees it: `act\u00A0now` and `act\u200B now` read "act now", and so does
    // `act-now` (before 2026-12-07 only a space joined a phrase's words).
    const subject = visibleText(message.content?.subject ?? '');
    const triggers = triggerPatternsOf(policy.spamTriggerWords)
      .filter(([, pattern]) => pattern.test(subject))
      .map(([word]) => word);
    if (triggers.length > 0)
      found.push(
        verdict(
          NAME,
          'review',
          'spam_trigger_words',
          `the subject contains ${triggers.map((t) => `"${t}"`).join(', ')}`,
          {
            words: triggers,
          },
        ),
      );
    return found.length > 0
      ? found
      : [pass(NAME, 'within caps and engaged enough', { sentInWindow: sent, cap })];
  },
};

/**
 * At most `maxCampaignsPerDay` marketing messages per customer in 24 hours, on any channel but
 * web: content a site shows in a slot interrupts nobody, and neither counts nor is counted.
 */
export const rateGuardrail: Guardrail = {
  name: 'rate',
  check(message, context, policy) {
    if (message.class === 'transactional') return [pass('rate', 'transactional')];
    if (message.channel === 'web') return [pass('rate', 'web content is not limited per day')];
    const today = context.history.campaignsToday;
    return today >= policy.maxCampaignsPerDay
      ? [
          verdict(
            'rate',
            'block',
            'rate_limited',
            `${today} marketing messages in the last 24 hours (limit ${policy.maxCampaignsPerDay})`,
            {
              campaignsToday: today,
              limit: policy.maxCampaignsPerDay,
            },
          ),
        ]
      : [pass('rate', 'under the daily limit', { campaignsToday: today })];
  },
};

import { optedInAfter, purposeOf } from '../../../core/profile.js';
import { DAY_MS } from '../../../core/time.js';
import type { Guardrail, Verdict } from '../guard-types.js';
import { pass, verdict } from '../guard-types.js';

const NAME = 'consent';

/** How often a customer's `preferences.cadence` lets marketing reach them. */
const CADENCE_DAYS: Readonly<Record<string, number>> = { daily: 1, weekly: 7, monthly: 30 };

/**
 * The customer's cadence against their latest marketing message (web content aside): at most
 * one a day, a week or a month, none for `never`. A blank value is no cadence. A value Herald
 * does not know (`biweekly`, `immediately`) is held to weekly, the reason naming it: it cannot
 * tell how often the customer asked to hear, and blocking everything would silence them.
 */
const cadenceProblem = (
  value: unknown,
  lastMs: number | null,
  sendAtMs: number,
): Verdict | null => {
  const given = typeof value === 'string' ? value.trim().toLowerCase() : String(value);
  if (given === '') return null;
  if (given === 'never')
    return verdict(NAME, 'block', 'cadence', 'the customer asked for no marketing (cadence never)');
  const known = CADENCE_DAYS[given] !== undefined;
  const cadence = known ? given : 'weekly';
  const days = CADENCE_DAYS[cadence] ?? 7;
  const period = cadence === 'daily' ? 'day' : cadence.slice(0, -2);
  return lastMs !== null && lastMs > sendAtMs - days * DAY_MS
    ? verdict(
        NAME,
        'block',
        'cadence',
        known
          ? `${cadence} cadence: already had a message this ${period}`
          : `cadence "${given}" is not daily, weekly, monthly or never: held to weekly, and already had a message this week`,
        { cadence: given, lastAt: new Date(lastMs).toISOString() },
      )
    : null;
};

/** A preference list, in lower case; one name on its own (`"email"`) is a list of one. */
const listOf = (value: unknown): string[] | null => {
  const items = typeof value === 'string' ? [value] : Array.isArray(value) ? value : null;
  return items === null
    ? null
    : items.filter((v): v is string => typeof v === 'string').map(purposeOf);
};

/**
 * Consent and preferences: global suppression (unsubscribed from the channel, or the email
 * address unsubscribed on any record of it; email bounced or complained), explicit opt-in for
 * SMS, WhatsApp and push, the customer's channel preferences (`preferences.channels`), topics (`preferences.topics`, and a topic the customer
 * unsubscribed from on the channel: consent for the topic as a purpose) and cadence
 * (`preferences.cadence: weekly`). Transactional messages skip the marketing rules but never
 * go to a suppressed address.
 */
export const consentGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    const { profile } = context;
    const channel = message.channel;
    const marketing = profile.consent[channel]?.['marketing'];
    const found: Verdict[] = [];
    if (channel === 'email') {
      if (profile.email.hardBounces >= policy.autoOptOutHardBounces)
        found.push(
          verdict(NAME, 'block', 'suppressed_bounced', 'the address bounced hard too often', {
            hardBounces: profile.email.hardBounces,
            limit: policy.autoOptOutHardBounces,
          }),
        );
      if (profile.email.complaints > 0)
        found.push(
          verdict(NAME, 'block', 'suppressed_complained', 'the customer marked a message as spam', {
            complaints: profile.email.complaints,
          }),
        );
    }
    if (message.class === 'transactional')
      return found.length > 0 ? found : [pass(NAME, 'transactional')];
    const topical =
      message.topic === null ? undefined : profile.consent[channel]?.[purposeOf(message.topic)];
    const addressOut = channel === 'email' ? (context.addressOptedOutAtMs ?? null) : null;
    if (marketing?.granted === false)
      found.push(
        verdict(NAME, 'block', 'unsubscribed', `unsubscribed from ${channel} marketing`, {
          at: new Date(marketing.atMs).toISOString(),
          source: marketing.source,
        }),
      );
    // The address opted out through another record of it (a guest checkout and an account):
    // the opt-out is the address's, until this record opts in again, explicitly, after it.
    else if (addressOut !== null && !optedInAfter(marketing, addressOut))
      found.push(
        verdict(
          NAME,
          'block',
          'unsubscribed',
          'the email address unsubscribed from marketing, on another customer record, and has not opted in since',
          { at: new Date(addressOut).toISOString(), source: 'address' },
        ),
      );
    else if (topical?.granted === false)
      found.push(
        verdict(
          NAME,
          'block',
          'unsubscribed_topic',
          `unsubscribed from ${message.topic ?? ''} on ${channel}`,
          {
            topic: message.topic,
            at: new Date(topical.atMs).toISOString(),
            source: topical.source,
          },
        ),
      );
    else if (channel !== 'email' && channel !== 'web' && marketing?.granted !== true)
      // TCPA (SMS), WhatsApp Business policy and the platforms' push rules: opt-in only.
      found.push(
        verdict(NAME, 'block', 'no_consent', `${channel} marketing needs an explicit opt-in`),
      );
    const channels = listOf(profile.preferences['channels']);
    if (channels !== null && !channels.includes(channel))
      found.push(
        verdict(
          NAME,
          'block',
          'channel_preference',
          `the customer prefers ${channels.join(', ')}`,
          {
            channels,
          },
        ),
      );
    const topics = listOf(profile.preferences['topics']);
    if (topics !== null && (message.topic === null || !topics.includes(purposeOf(message.topic))))
      found.push(
        verdict(NAME, 'block', 'topic_preference', `the customer only wants ${topics.join(', ')}`, {
          topics,
          topic: message.topic,
        }),
      );
    const cadence = profile.preferences['cadence'];
    if (cadence !== undefined && cadence !== null && channel !== 'web') {
      const problem = cadenceProblem(
        cadence,
        context.history.lastMarketingAtMs ?? null,
        message.sendAtMs,
      );
      if (problem !== null) found.push(problem);
    }
    return found.length > 0 ? found : [pass(NAME, 'consent and preferences allow it')];
  },
};

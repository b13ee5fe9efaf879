import {
  channels as knownChannels,
  grantedBeforeNumberChanged,
  optedInAfter,
  OPTED_IN_AGAIN_HOW,
  purposeOf,
  type Channel,
  type ConsentEntry,
  type ProfileState,
  EVENT_WITHDRAWAL_SOURCES,
  impliedSourceOf,
  explicitlyGranted,
  isExplicitFact,
  marketingStopOf,
} from '../../../core/profile.js';
import { asConsentAnswer } from '../../../core/read-props.js';
import { DAY_MS } from '../../../core/time.js';
import type { MessageClass } from '../../../core/message.js';
import type { GuardMessage, Guardrail, Verdict } from '../guard-types.js';
import { pass, verdict } from '../guard-types.js';
import type { GuardPolicy } from '../policy.js';

const NAME = 'consent';

/** How often a customer's `preferences.cadence` lets marketing reach them. */
const CADENCE_DAYS: Readonly<Record<string, number>> = { daily: 1, weekly: 7, monthly: 30 };

/**
 * The customer's cadence against their latest marketing message (web content aside): at most
 * one a day, a week or a month, none for `never`. A blank value is no cadence. A value Herald
 * does not know (`biweekly`, `immediately`) is held to weekly, the reason saying so: it cannot
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
          : 'a cadence Herald does not know (not daily, weekly, monthly or never): held to weekly, and already had a message this week',
        // The value as the customer wrote it is free text (`ask me first, +1 555 0100`): the
        // audit log, which outlives an erasure, keeps only the word Herald read it as.
        known
          ? { cadence, lastAt: new Date(lastMs).toISOString() }
          : { cadence: 'unknown', heldTo: cadence, lastAt: new Date(lastMs).toISOString() },
      )
    : null;
};

/**
 * A preference the customer stated, as the names it allows: a list of names or one name on its
 * own (`"email"`), in lower case; or a map of yes and no as preference centres write it
 * (`{ email: false, sms: true }`: the names marked yes, or when none is, every name but those
 * marked no — before 2026-12-07 a map was read as no preference, and email went to someone
 * who had turned it off). Null when none is stated; `unreadable` for a value of another shape,
 * which allows nothing.
 */
type Preference =
  { kind: 'only'; names: string[] } | { kind: 'except'; names: string[] } | { kind: 'unreadable' };

const preferenceOf = (value: unknown): Preference | null => {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return { kind: 'only', names: [purposeOf(value)] };
  if (Array.isArray(value))
    return {
      kind: 'only',
      names: value.filter((v): v is string => typeof v === 'string').map(purposeOf),
    };
  if (typeof value !== 'object') return { kind: 'unreadable' };
  const yes: string[] = [];
  const no: string[] = [];
  for (const [name, answer] of Object.entries(value)) {
    const said = asConsentAnswer(answer);
    if (said === true) yes.push(purposeOf(name));
    else if (said === false) no.push(purposeOf(name));
  }
  return yes.length > 0 ? { kind: 'only', names: yes } : { kind: 'except', names: no };
};

/**
 * Whether a preference allows `name` (a message's channel or topic; null: a message of no
 * topic, which a list of names cannot be shown to allow, and names turned off do not forbid).
 */
const allows = (preference: Preference, name: string | null): boolean => {
  switch (preference.kind) {
    case 'only':
      return name !== null && preference.names.includes(name);
    case 'except':
      return name === null || !preference.names.includes(name);
    case 'unreadable':
      return false;
  }
};

/**
 * The topics of Herald's own templates (`src/pipeline/render/default-templates.ts`, which the
 * guard may not import): the topics a verdict may name besides the message's own.
 */
const BUILT_IN_TOPICS: ReadonlySet<string> = new Set([
  'promotions',
  'onboarding',
  'win-back',
  'orders',
  'occasions',
]);

const isChannel = (name: string): boolean => (knownChannels as readonly string[]).includes(name);

/**
 * A preference list split into the names Herald knows, as they may be recorded, and how many
 * others it holds. Verdicts go to the audit log, which outlives an erasure: a preference is
 * whatever the customer or an integration typed (`"only jane roe, +1 555 0100"`), so what Herald
 * does not know is counted, never copied.
 */
const splitKnown = (
  list: readonly string[],
  isKnown: (name: string) => boolean,
): { known: string[]; unknown: number } => {
  const known = [...new Set(list.filter(isKnown))];
  return { known, unknown: list.filter((name) => !isKnown(name)).length };
};

/** `sms, push`, `sms and 2 channels Herald does not know`, `none`. */
const describeKnown = ({ known, unknown }: { known: string[]; unknown: number }, noun: string) => {
  const others =
    unknown === 0 ? '' : `${unknown} ${noun}${unknown === 1 ? '' : 's'} Herald does not know`;
  if (known.length === 0) return others === '' ? 'none' : others;
  return others === '' ? known.join(', ') : `${known.join(', ')} and ${others}`;
};

/**
 * Channels whose opt-out covers every message on them, transactional included: an SMS STOP
 * opts the number out of everything from the sender (CTIA; Twilio refuses the next text
 * anyway), WhatsApp Business policy has an opt-out honoured for every message, and a customer
 * who turned push off wants no notifications. Email and web keep it to marketing: a receipt
 * still goes to an address that unsubscribed from marketing (CAN-SPAM's transactional
 * exemption), and web content is shown on the shop's own pages, not sent.
 */
const OPT_OUT_COVERS_ALL: ReadonlySet<Channel> = new Set<Channel>(['sms', 'whatsapp', 'push']);

/**
 * The consent sources Herald writes itself, by which a verdict names where a withdrawal came
 * from: traits' default, the events' own names, its unsubscribe page and one-click link,
 * SendGrid's and Twilio's reports, a do-not-sell request. Any other source is text an
 * integration or the customer wrote (`Consent Updated { source }`, `consentSource`), which may
 * be anything — a name, a note — and is recorded as `other`: the audit log outlives an erasure.
 */
const KNOWN_SOURCES: ReadonlyMap<string, string> = new Map(
  ['identify', ...EVENT_WITHDRAWAL_SOURCES].map((source) => [purposeOf(source), source]),
);

const withdrawnFigures = (entry: ConsentEntry) => ({
  at: new Date(entry.atMs).toISOString(),
  source: KNOWN_SOURCES.get(purposeOf(entry.source)) ?? 'other',
});

/**
 * What consent asks of a transactional message: none when the channel's consent was withdrawn
 * (its `transactional` purpose on any channel; on SMS, WhatsApp and push, an opt-out of the
 * channel itself — an SMS STOP, a `Consent Updated` or `Unsubscribed` naming it — but not
 * traits saying the customer takes no marketing there, nor a withdrawal spread from
 * `channel: "all"`), and an explicit opt-in (marketing or transactional) on WhatsApp — a grant
 * from an implied source (`gdpr.impliedSources`) is none there. SMS without any consent record
 * still goes: the customer gave the number for it.
 */
const transactionalProblem = (
  channel: Channel,
  profile: ProfileState,
  impliedSources: readonly string[],
): Verdict | null => {
  const given = profile.consent[channel];
  const transactional = given?.['transactional'];
  const marketing = given?.['marketing'];
  const withdrawn =
    transactional?.granted === false
      ? transactional
      : OPT_OUT_COVERS_ALL.has(channel) &&
          marketing?.granted === false &&
          isExplicitFact(marketing) &&
          marketing.everyChannel !== true
        ? marketing
        : undefined;
  if (withdrawn !== undefined)
    return verdict(
      NAME,
      'block',
      'unsubscribed',
      `${channel} consent withdrawn (an opt-out covers transactional messages too)`,
      withdrawnFigures(withdrawn),
    );
  if (channel !== 'whatsapp') return null;
  // WhatsApp Business policy: an opt-in of the customer's own before any message, whatever its
  // class; a grant from an implied source (an import marking every phone) is none.
  const granted = [marketing, transactional].filter((entry) => entry?.granted === true);
  // Or one restated since from an implied source beside the customer's own explicit grant.
  const own = granted.filter(
    (entry) =>
      entry !== undefined &&
      (impliedSourceOf(entry.source, impliedSources) === null ||
        explicitlyGranted(entry, impliedSources)),
  );
  if (own.length > 0) {
    const changedAtMs = profile.phoneChangedAtMs;
    return own.some((entry) => !grantedBeforeNumberChanged(entry, changedAtMs, impliedSources))
      ? null
      : numberChangedProblem('whatsapp', 'opt-in', own[0], changedAtMs);
  }
  const source =
    granted
      .map((entry) => impliedSourceOf(entry?.source ?? '', impliedSources))
      .find((s) => s !== null) ?? null;
  return source === null
    ? verdict(NAME, 'block', 'no_consent', 'whatsapp needs an explicit opt-in, for every message')
    : verdict(
        NAME,
        'block',
        'no_consent',
        `whatsapp needs an explicit opt-in, for every message; consent from "${source}" is not one`,
        { source },
      );
};

const numberChangedProblem = (
  channel: 'sms' | 'whatsapp',
  what: string,
  entry: ConsentEntry | undefined,
  changedAtMs: number | undefined,
): Verdict =>
  verdict(
    NAME,
    'block',
    'no_consent',
    `the ${channel} ${what} was given for the customer's number before; the number changed since and has not opted in`,
    {
      ...(entry === undefined
        ? {}
        : { consentAt: new Date(entry.sinceMs ?? entry.atMs).toISOString() }),
      ...(changedAtMs === undefined
        ? {}
        : { numberChangedAt: new Date(changedAtMs).toISOString() }),
    },
  );

/**
 * Whether the customer opted in to texts of this class explicitly after their number texted
 * STOP (`stoppedAtMs`), and for the number they have now: a grant made after the STOP, first
 * stated no earlier than the number became theirs (one given for the number before is that
 * number's), from no implied source — to marketing for a marketing text (an opt-in to order
 * updates is none to offers), to either for a transactional one.
 */
const textsOptedInSince = (
  profile: ProfileState,
  messageClass: MessageClass,
  stoppedAtMs: number,
  implied: readonly string[],
): boolean => {
  const given = profile.consent.sms;
  const changedAtMs = profile.phoneChangedAtMs;
  const purposes =
    messageClass === 'marketing'
      ? [given?.['marketing']]
      : [given?.['marketing'], given?.['transactional']];
  return purposes.some((entry) =>
    [entry, entry?.other].some(
      (fact) =>
        fact?.granted === true &&
        fact.explicit === true &&
        fact.atMs > stoppedAtMs &&
        (changedAtMs === undefined || (fact.sinceMs ?? fact.atMs) >= changedAtMs) &&
        impliedSourceOf(fact.source, implied) === null,
    ),
  );
};

/**
 * The block for a text to a number that texted STOP (on this record or another one of it) and
 * has not opted in since: an SMS STOP opts the number out of everything from the sender.
 */
const numberStopProblem = (
  message: ConsentSubject,
  profile: ProfileState,
  stoppedAtMs: number | null,
  implied: readonly string[],
): Verdict | null =>
  message.channel !== 'sms' ||
  stoppedAtMs === null ||
  textsOptedInSince(profile, message.class, stoppedAtMs, implied)
    ? null
    : verdict(
        NAME,
        'block',
        'unsubscribed',
        "the customer's number texted STOP, on this or another customer record, and has not opted in since",
        { at: new Date(stoppedAtMs).toISOString(), source: 'number' },
      );

/** What the consent rules read of a message. */
export type ConsentSubject = Pick<GuardMessage, 'channel' | 'class' | 'topic'>;

/** What the consent rules read besides the message and the profile. */
export interface ConsentFacts {
  /** When the email address opted out of marketing on another record of it; email only. */
  addressOptedOutAtMs?: number | null;
  /** The email address's hard bounces on every record of it, when any are kept; email only. */
  addressHardBounces?: number | null;
  /**
   * When the customer's phone number texted STOP, on any record of it, unless a START from the
   * number lifted it since; read for SMS only.
   */
  numberStoppedAtMs?: number | null;
  /**
   * The customer's latest marketing message (web aside), sent or queued, for the cadence
   * window; null when there is none or it is not known (the check at hand-off), when only
   * `never` is read.
   */
  lastMarketingAtMs: number | null;
  /** When the message is to leave. */
  sendAtMs: number;
}

/**
 * Every consent and preference rule the message breaks, as verdicts (empty when none): one
 * implementation for the guardrail and for the check at hand-off (`checkAtHandOff`).
 */
export const consentProblems = (
  message: ConsentSubject,
  profile: ProfileState,
  policy: Pick<GuardPolicy, 'autoOptOutHardBounces' | 'gdpr'>,
  facts: ConsentFacts,
): Verdict[] => {
  const channel = message.channel;
  const marketing = profile.consent[channel]?.['marketing'];
  const found: Verdict[] = [];
  if (channel === 'email') {
    const limit = policy.autoOptOutHardBounces;
    const addressBounces = facts.addressHardBounces ?? null;
    // The record's own hard bounces are those of the address it has now: the profile starts a
    // new address from none, so a customer who fixed a typo is not suppressed for the old one.
    if (profile.email.hardBounces >= limit)
      found.push(
        verdict(NAME, 'block', 'suppressed_bounced', 'the address bounced hard too often', {
          hardBounces: profile.email.hardBounces,
          ...(addressBounces === null ? {} : { addressHardBounces: addressBounces }),
          limit,
        }),
      );
    // A mailbox that does not exist is dead on every record that has it: the bounces this
    // record had and those of another one (a guest checkout and an account) count together.
    else if (addressBounces !== null && addressBounces >= limit)
      found.push(
        verdict(
          NAME,
          'block',
          'suppressed_bounced',
          'the address bounced hard too often, counted on every customer record that has it',
          { hardBounces: profile.email.hardBounces, addressHardBounces: addressBounces, limit },
        ),
      );
    if (profile.email.complaints > 0)
      found.push(
        verdict(NAME, 'block', 'suppressed_complained', 'the customer marked a message as spam', {
          complaints: profile.email.complaints,
        }),
      );
  }
  const numberStop = numberStopProblem(
    message,
    profile,
    facts.numberStoppedAtMs ?? null,
    policy.gdpr.impliedSources,
  );
  if (message.class === 'transactional') {
    const problem =
      transactionalProblem(channel, profile, policy.gdpr.impliedSources) ?? numberStop;
    return problem === null ? found : [...found, problem];
  }
  const topical =
    message.topic === null ? undefined : profile.consent[channel]?.[purposeOf(message.topic)];
  const addressOut = channel === 'email' ? (facts.addressOptedOutAtMs ?? null) : null;
  const stoppedAt = marketingStopOf(profile, channel);
  // A grant from an implied source (`gdpr.impliedSources`) is no opt-in to texts anywhere: the
  // TCPA asks for the customer's express written consent, WhatsApp for an opt-in of their own.
  const impliedText =
    (channel === 'sms' || channel === 'whatsapp') &&
    marketing?.granted === true &&
    !explicitlyGranted(marketing, policy.gdpr.impliedSources)
      ? impliedSourceOf(marketing.source, policy.gdpr.impliedSources)
      : null;
  if (marketing?.granted === false)
    found.push(
      verdict(
        NAME,
        'block',
        'unsubscribed',
        `unsubscribed from ${channel} marketing`,
        withdrawnFigures(marketing),
      ),
    );
  // The number texted STOP (on this record or another one of it), and has not opted in since.
  else if (numberStop !== null) found.push(numberStop);
  // The address opted out through another record of it (a guest checkout and an account):
  // the opt-out is the address's, until this record opts in again, explicitly, after it.
  else if (addressOut !== null && !optedInAfter(marketing, addressOut))
    found.push(
      verdict(
        NAME,
        'block',
        'unsubscribed',
        `the email address unsubscribed from marketing, on another customer record, and has not opted in since (${OPTED_IN_AGAIN_HOW})`,
        { at: new Date(addressOut).toISOString(), source: 'address' },
      ),
    );
  // The customer stopped the business's marketing in the provider's app (WhatsApp's setting):
  // none goes there until they opt in again, explicitly, after it.
  else if (stoppedAt !== null)
    found.push(
      verdict(
        NAME,
        'block',
        'unsubscribed',
        `stopped this business's marketing in ${channel} itself, and has not opted in since (${OPTED_IN_AGAIN_HOW})`,
        { at: new Date(stoppedAt).toISOString(), source: 'provider' },
      ),
    );
  else if (topical?.granted === false)
    found.push(
      verdict(
        NAME,
        'block',
        'unsubscribed_topic',
        `unsubscribed from ${message.topic ?? ''} on ${channel}`,
        { topic: message.topic, ...withdrawnFigures(topical) },
      ),
    );
  else if (channel !== 'email' && channel !== 'web' && marketing?.granted !== true)
    // TCPA (SMS), WhatsApp Business policy and the platforms' push rules: opt-in only.
    found.push(
      verdict(NAME, 'block', 'no_consent', `${channel} marketing needs an explicit opt-in`),
    );
  else if (impliedText !== null)
    found.push(
      verdict(
        NAME,
        'block',
        'no_consent',
        `${channel} marketing needs an explicit opt-in; consent from "${impliedText}" is not one`,
        { source: impliedText },
      ),
    );
  else if (
    (channel === 'sms' || channel === 'whatsapp') &&
    grantedBeforeNumberChanged(marketing, profile.phoneChangedAtMs, policy.gdpr.impliedSources)
  )
    found.push(
      numberChangedProblem(channel, 'marketing consent', marketing, profile.phoneChangedAtMs),
    );
  const channels = preferenceOf(profile.preferences['channels']);
  if (channels !== null && !allows(channels, channel)) {
    const named = splitKnown(channels.kind === 'unreadable' ? [] : channels.names, isChannel);
    found.push(
      verdict(
        NAME,
        'block',
        'channel_preference',
        channels.kind === 'unreadable'
          ? 'the customer’s channel preference is of a shape Herald cannot read'
          : channels.kind === 'except'
            ? `the customer turned off ${describeKnown(named, 'channel')}`
            : `the customer prefers ${describeKnown(named, 'channel')}`,
        {
          ...(channels.kind === 'except' ? { turnedOff: named.known } : { channels: named.known }),
          ...(named.unknown === 0 ? {} : { unknownChannels: named.unknown }),
        },
      ),
    );
  }
  const topics = preferenceOf(profile.preferences['topics']);
  const topic = message.topic === null ? null : purposeOf(message.topic);
  if (topics !== null && !allows(topics, topic)) {
    const named = splitKnown(topics.kind === 'unreadable' ? [] : topics.names, (name) =>
      BUILT_IN_TOPICS.has(name),
    );
    const wanted =
      topics.kind === 'unreadable'
        ? 'the customer’s topic preference is of a shape Herald cannot read'
        : topics.kind === 'except'
          ? `the customer turned off ${describeKnown(named, 'topic')}`
          : `the customer only wants ${describeKnown(named, 'topic')}`;
    found.push(
      verdict(
        NAME,
        'block',
        'topic_preference',
        `${message.topic === null ? 'the message has no topic' : `topic preference excludes ${message.topic}`}: ${wanted}`,
        {
          ...(topics.kind === 'except' ? { turnedOff: named.known } : { topics: named.known }),
          ...(named.unknown === 0 ? {} : { unknownTopics: named.unknown }),
          topic: message.topic,
        },
      ),
    );
  }
  const cadence = profile.preferences['cadence'];
  if (cadence !== undefined && cadence !== null && channel !== 'web') {
    const problem = cadenceProblem(cadence, facts.lastMarketingAtMs, facts.sendAtMs);
    if (problem !== null) found.push(problem);
  }
  return found;
};

/**
 * Consent and preferences: global suppression (unsubscribed from the channel, or the email
 * address unsubscribed on any record of it; email bounced — on any record of the address — or
 * complained), explicit opt-in for
 * SMS, WhatsApp and push, the customer's channel preferences (`preferences.channels`), topics
 * (`preferences.topics`, and a topic the customer unsubscribed from on the channel: consent for
 * the topic as a purpose) and cadence (`preferences.cadence: weekly`). Transactional messages
 * skip the marketing rules, but never go to a suppressed address, nor on SMS, WhatsApp or push
 * once the customer opted out there, nor on WhatsApp without an opt-in.
 */
export const consentGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    const found = consentProblems(message, context.profile, policy, {
      addressOptedOutAtMs: context.addressOptedOutAtMs ?? null,
      addressHardBounces: context.addressHardBounces ?? null,
      numberStoppedAtMs: context.numberStoppedAtMs ?? null,
      lastMarketingAtMs: context.history.lastMarketingAtMs ?? null,
      sendAtMs: message.sendAtMs,
    });
    if (found.length > 0) return found;
    return [
      pass(
        NAME,
        message.class === 'transactional' ? 'transactional' : 'consent and preferences allow it',
      ),
    ];
  },
};

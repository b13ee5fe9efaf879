import { cartFingerprint } from '../../core/cart-fingerprint.js';
import { HOUR_MS, MINUTE_MS } from '../../core/time.js';
import type { JudgedOn, MessageClass } from '../../core/message.js';
import type { Channel, ProfileState } from '../../core/profile.js';
import { afterQuietHoursIn, quietZonesOf, type QuietHours } from '../../core/quiet-hours.js';
import { gdprProblem } from './guardrails/compliance.js';
import { consentProblems, type ConsentFacts } from './guardrails/consent.js';
import { domainBreaches, type DomainResults } from './guardrails/reputation.js';
import type { GuardPolicy } from './policy.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Whether a time the profile holds is news to a message: later than the message was made, or
 * later than the one the message was judged on (`judged`: an event stamped before the message
 * but recorded after it). A message recorded before it kept what it was judged on compares its
 * own time alone.
 */
const isNewer = (atMs: number, createdAtMs: number, judged: number | null | undefined): boolean =>
  atMs > createdAtMs || (judged !== undefined && (judged === null || atMs > judged));

/** How a moment stands to the message: after it was made, or before it but recorded after. */
const since = (atMs: number | null, message: { createdAtMs: number }): string =>
  atMs !== null && atMs > message.createdAtMs ? 'after' : 'recorded after';

/**
 * What made an offer moot since it was made: a cart offer or a message about the cart (a cart
 * journey's reminder) after the customer ordered, emptied the cart or changed what it holds
 * (the offer may wait for quiet hours, a review or a send time chosen for them), a win-back
 * wave after they came back (by email, SMS or push: one on the website is for their visit),
 * the lifecycle stage's offer to an at-risk or churned customer (any lifecycle message with an
 * offer) after they ordered. The decide stage withdraws what is still due when it handles the
 * order or the visit; this catches what already left its hands.
 */
const supersededBy = (
  message: {
    agent: string;
    channel: Channel;
    topic: string | null;
    createdAtMs: number;
    offerEndsMs?: number;
    cartAsOffered?: string;
    judgedOn?: JudgedOn;
  },
  profile: ProfileState,
): string | null => {
  const ordered = profile.orders.lastAtMs;
  // The cart agent's offer, or a message about the cart (a cart journey's reminder): those
  // made since the cart was fingerprinted carry the cart as it was.
  const aboutCart = message.agent === 'cart' || message.cartAsOffered !== undefined;
  const what = message.agent === 'cart' ? 'the cart offer' : 'the message about the cart';
  if (aboutCart && ordered !== null && ordered > message.createdAtMs)
    return `the customer ordered on ${iso(ordered)}, after ${what} was made`;
  const closed = profile.cartClosedAtMs ?? null;
  if (aboutCart && closed !== null && closed > message.createdAtMs)
    return `the customer emptied the cart on ${iso(closed)}, after ${what} was made`;
  const cart = profile.cart;
  // The cart it was made for is gone, whatever the times say: an order stamped a little before
  // the message was made (a late mobile batch) arrives after it and closes the cart.
  if (message.cartAsOffered !== undefined && cart === null)
    return `the cart is no longer open: ordered or emptied since ${what} was made for it`;
  // Its products and its discount band were the cart's as it was: a 25 % code for a $90 cart
  // must not go once the cart holds $600. A look at the cart that changes nothing is no change.
  if (
    message.cartAsOffered !== undefined &&
    cart !== null &&
    cartFingerprint(cart.items) !== message.cartAsOffered
  )
    return `the customer changed the cart on ${iso(cart.updatedAtMs)}, after ${what} was made for it as it was`;
  // A wave on the website is for the visit itself: the visit that shows it is no return that
  // makes it moot (the page view, or the banner's own impression, would take it down at once).
  const active = profile.lastActiveAtMs;
  if (
    message.agent === 'win-back' &&
    message.channel !== 'web' &&
    active !== null &&
    isNewer(active, message.createdAtMs, message.judgedOn?.lastActiveAtMs)
  )
    return `the customer came back on ${iso(active)}, ${since(active, message)} the win-back wave was made`;
  // One on the website does go once they order: its offer is moot.
  const orderedSince =
    (ordered !== null && isNewer(ordered, message.createdAtMs, message.judgedOn?.lastOrderAtMs)) ||
    (message.judgedOn !== undefined && profile.orders.count > message.judgedOn.orders);
  if (message.agent === 'win-back' && orderedSince)
    return `the customer ordered${ordered === null ? '' : ` on ${iso(ordered)}`}, ${since(ordered, message)} the win-back wave was made`;
  // A lifecycle stage's offer (at-risk, churned) survives a visit — a customer at risk by their
  // churn score may still be browsing — but not an order: a discount right after a purchase.
  if (message.agent === 'lifecycle' && message.offerEndsMs !== undefined && orderedSince)
    return `the customer ordered${ordered === null ? '' : ` on ${iso(ordered)}`}, ${since(ordered, message)} the offer to win them back was made`;
  return null;
};

/**
 * What is kept of the message's email address or phone number on any record of it, read when it
 * was claimed.
 */
export type AddressFactsAtHandOff = Pick<
  ConsentFacts,
  'addressOptedOutAtMs' | 'addressHardBounces' | 'numberStoppedAtMs'
>;

/**
 * The check at hand-off, on the customer's profile as it is when the message leaves (it may
 * have changed since the guardrails passed it): no profile (erased), then the consent
 * guardrail's own rules (`consentProblems`) — email suppressed by hard bounces (the record's,
 * or the address's on every record of it: `address`, read when the message was claimed) or a
 * complaint, the address's marketing opt-out on another record of it, consent withdrawn for the channel or the message's topic, SMS/WhatsApp/push marketing never
 * opted in to, a transactional message on a channel opted out of or WhatsApp without an opt-in,
 * and the preferences: channels, topics and a cadence of `never` (the cadence window is not
 * read here: it needs the customer's send history, and was judged against every message sent or
 * queued when this one was) — then, for marketing, an offer made moot since (`superseded`) or
 * GDPR's rules as the guardrail applies them, since it was judged (a message held by quiet
 * hours, a reviewer or a chosen send time; a web banner shown for days): a customer placed in
 * the EU since, without explicit consent, or consent run out. Null when the message may go.
 */
export const checkAtHandOff = (
  message: {
    channel: Channel;
    class: MessageClass;
    topic: string | null;
    agent: string;
    createdAtMs: number;
    offerEndsMs?: number;
    cartAsOffered?: string;
    judgedOn?: JudgedOn;
  },
  profile: ProfileState | undefined,
  policy: Pick<GuardPolicy, 'autoOptOutHardBounces' | 'gdpr'>,
  nowMs: number,
  address: AddressFactsAtHandOff = {},
): { code: string; reason: string } | null => {
  if (profile === undefined)
    return { code: 'no_profile', reason: 'the customer no longer has a profile' };
  const [problem] = consentProblems(message, profile, policy, {
    addressOptedOutAtMs: address.addressOptedOutAtMs ?? null,
    addressHardBounces: address.addressHardBounces ?? null,
    numberStoppedAtMs: address.numberStoppedAtMs ?? null,
    lastMarketingAtMs: null,
    sendAtMs: nowMs,
  });
  if (problem !== undefined)
    return { code: problem.code, reason: `${problem.reason}, as the message was to leave` };
  if (message.class === 'transactional') return null;
  const superseded = supersededBy(message, profile);
  if (superseded !== null) return { code: 'superseded', reason: superseded };
  // GDPR's rule in full, as the guardrail applies it: the customer may have been placed in the
  // EU since it judged them (a country given later), or their consent run out.
  const gdpr = gdprProblem(profile, message.channel, policy, nowMs);
  return gdpr === null
    ? null
    : { code: gdpr.code, reason: `${gdpr.reason}, as the message was to leave` };
};

/**
 * A message held back at hand-off until `holdUntilMs`. `dueAtMs`, when given, is when it is
 * due from then on — the moment its lateness is counted from, moved on by the hold (quiet
 * hours); without it the hold counts as lateness (a paused sending domain, as an outage would).
 */
export interface HandOffHold {
  holdUntilMs: number;
  /** The guardrail's code for what holds it (`quiet_hours`, `domain_paused`): its reason code while it waits. */
  holdCode: string;
  reason: string;
  dueAtMs?: number;
}

/** What the moment of hand-off asks of a marketing message: go, wait, or not at all. */
export type Timing = HandOffHold | { code: string; reason: string };

/**
 * The timing check at hand-off. For any message whose written copy cites a document that has
 * expired since (it waited in a backlog, for retries or for quiet hours past the guard's
 * reckoning): `content_expired`, as the guard would have refused it; for one whose offer's code
 * has expired since: `offer_expired`. For marketing on channels
 * that interrupt (not web): a message
 * due more than `maxLatenessHours` ago (an outage, a backlog, retries; counted from when it was
 * meant to leave — its send time as recorded, a chosen send time or a quiet-hours hold, or as
 * a reviewer's approval set it — since every retry moves its `sendAtMs`) is refused as `stale`,
 * since a cart reminder or a sale two days late says the wrong thing; one whose hand-off falls
 * in the customer's local quiet hours (a retry or a backlog pushed it there) waits until they
 * end, and is due as much later as it waits: the hold is no lateness, so it is not refused as
 * `stale` for having waited out the night. Null when it may go now.
 */
export const checkTimingAtHandOff = (
  message: {
    channel: Channel;
    class: MessageClass;
    createdAtMs: number;
    dueAtMs?: number;
    validUntilMs?: number;
    offerEndsMs?: number;
  },
  profile: ProfileState,
  quietHours: QuietHours,
  maxLatenessHours: number,
  nowMs: number,
): Timing | null => {
  if (message.validUntilMs !== undefined && nowMs >= message.validUntilMs)
    return {
      code: 'content_expired',
      reason: `its copy cites a document that expired ${iso(message.validUntilMs)}, before it left`,
    };
  if (message.offerEndsMs !== undefined && nowMs >= message.offerEndsMs)
    return {
      code: 'offer_expired',
      reason: `the code of its offer expired ${iso(message.offerEndsMs)}, before it left`,
    };
  if (message.class === 'transactional' || message.channel === 'web') return null;
  const lateMs = nowMs - Math.max(message.createdAtMs, message.dueAtMs ?? message.createdAtMs);
  if (lateMs > maxLatenessHours * HOUR_MS)
    return {
      code: 'stale',
      reason: `due ${String(Math.floor(lateMs / HOUR_MS))} h ago, past the ${String(maxLatenessHours)} h a marketing message may be late`,
    };
  const { zones } = quietZonesOf(profile.location, profile.traits['phone'], quietHours);
  const untilMs = afterQuietHoursIn(nowMs, zones, quietHours);
  if (untilMs <= nowMs) return null;
  // As late when the quiet hours end as it is now: what it was late before the hold still counts.
  return {
    holdUntilMs: untilMs,
    holdCode: 'quiet_hours',
    reason: `quiet hours in ${zones.join(', ')}`,
    dueAtMs: untilMs - Math.max(0, lateMs),
  };
};

/** How long marketing email from a paused sending domain is held at hand-off, each time. */
export const DOMAIN_PAUSED_HOLD_MS = 15 * MINUTE_MS;

/**
 * The reputation guardrail's rule again at hand-off (`domainBreaches`, on the domain's results
 * read as the message is claimed): marketing email from a sending domain whose bounce or
 * complaint rate reached its limit since the message was judged — held for quiet hours, in a
 * throttled campaign's backlog, approved by a reviewer — is held (`DOMAIN_PAUSED_HOLD_MS`), not
 * sent and not dropped: it goes once the rates are back within their limits. The hold is
 * lateness: held past `deliver.maxLatenessHours`, it is refused as `stale` as any backlog is.
 * Transactional email, and every other channel, goes. Null when it may go.
 */
export const checkReputationAtHandOff = (
  message: { channel: Channel; class: MessageClass },
  domain: DomainResults | null,
  policy: Pick<GuardPolicy, 'reputation'>,
  nowMs: number,
): HandOffHold | null => {
  if (message.channel !== 'email' || message.class === 'transactional' || domain === null)
    return null;
  const [breach] = domainBreaches(domain, policy).breaches;
  if (breach === undefined) return null;
  return {
    holdUntilMs: nowMs + DOMAIN_PAUSED_HOLD_MS,
    holdCode: 'domain_paused',
    reason: `${breach.reason}: marketing email from it is held`,
  };
};

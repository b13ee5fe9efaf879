import type { HeraldEvent, JsonObject } from './event.js';
import { HERALD_EVENTS } from './event-names.js';
import type { CustomerId } from './ids.js';
import { asBoolean } from './read-props.js';

export type Channel = 'email' | 'sms' | 'whatsapp' | 'push' | 'web';
export const channels: readonly Channel[] = ['email', 'sms', 'whatsapp', 'push', 'web'];

/** One consent fact: granted or withdrawn, when, and who said so. */
export interface ConsentEntry {
  granted: boolean;
  atMs: number;
  source: string;
  /**
   * Set by an event that says what the customer chose (`Consent Updated`, `Unsubscribed`, a
   * complaint), not by identify traits. A withdrawal set so is not undone by traits granting
   * again: integrations resend every trait, stale ones included. Absent: traits set it.
   */
  explicit?: true;
  /**
   * Set on a withdrawal that named no channel of its own (`Unsubscribed { channel: "all" }` or
   * one Herald does not know) and so was spread to every channel: it withdraws marketing
   * there, but is no opt-out of the channel itself (an SMS STOP is), which would stop
   * transactional messages too.
   */
  everyChannel?: true;
  /**
   * On an explicit withdrawal (a STOP, an unsubscribe): the newest fact of the purpose known to
   * be dated before it (either kind, whichever order they arrived in). What START or YES may
   * restore: a withdrawal of a grant (`granted: true`), not one from someone who never granted
   * the purpose or had declined it.
   */
  before?: { granted: boolean; atMs: number };
  /**
   * Traits only: when traits first said what they still say. Integrations resend every trait on
   * each identify, so a restated grant is not a new one: the GDPR age of consent counts from
   * here. Absent: since `atMs`.
   */
  sinceMs?: number;
  /**
   * When the source stamped the fact, where that is after `atMs` (a fact is dated no later than
   * Herald heard of it): facts dated alike are weighed by it, as a replay orders them.
   */
  stampedAtMs?: number;
  /** The latest fact of the other kind (explicit or from traits), when there is one. */
  other?: ConsentEntry;
}
/**
 * A consent purpose (`marketing`, a topic) as it is kept and looked up: trimmed, in lower case,
 * so `Newsletter` from one source and `newsletter` from a template are the same topic.
 */
export const purposeOf = (name: string): string => name.trim().toLowerCase();

/** A channel as sources write it (`Email`, ` sms `), or null for anything else. */
export const channelOf = (value: string): Channel | null => {
  const name = value.trim().toLowerCase();
  return (channels as readonly string[]).includes(name) ? (name as Channel) : null;
};

/** Consent by channel, then by purpose (`marketing`, `transactional`, a topic …). */
export type Consent = Partial<Record<Channel, Record<string, ConsentEntry>>>;

/**
 * The sources Herald's own events record a withdrawal under: the event's name (`Unsubscribed`,
 * `Consent Updated`, a complaint), an unsubscribe page or one-click link, SendGrid's reports, a
 * STOP texted back, a CCPA request.
 */
export const EVENT_WITHDRAWAL_SOURCES: ReadonlySet<string> = new Set([
  'Consent Updated',
  HERALD_EVENTS.unsubscribed,
  HERALD_EVENTS.emailComplained,
  'page',
  'one-click',
  'sendgrid',
  'sendgrid-suppression',
  'sms-reply',
  'ccpa-request',
]);

/**
 * Whether a consent fact is the customer's own act (an event), not what traits stated: marked
 * `explicit`, or a withdrawal stored before the mark was kept (2026-12-02) under a source
 * Herald's events use — read as the act it was, so traits resent after an upgrade do not undo a
 * STOP or an unsubscribe. (One recorded under a `source` property of a sender's own reads as a
 * traits fact until `herald profiles recompute` replays it.)
 */
export const isExplicitFact = (fact: ConsentEntry): boolean =>
  fact.explicit === true || (!fact.granted && EVENT_WITHDRAWAL_SOURCES.has(fact.source));

/**
 * Whether what an explicit withdrawal (`held`, a STOP) took away was a grant, for START or YES
 * to give back. A traits fact stated after it is the latest wish known, and decides alone; else
 * the newest fact dated before it (`before`), else the traits fact. Only the latest traits fact
 * is kept, so when a later one has replaced an earlier, `before` depends on which arrived first:
 * the later one decides, the same whatever the order.
 */
export const withdrewGrant = (held: ConsentEntry): boolean => {
  const later = held.other !== undefined && held.other.atMs > held.atMs ? held.other : undefined;
  if (later !== undefined) return later.granted;
  return (
    held.before?.granted === true || (held.before === undefined && held.other?.granted === true)
  );
};

/** A name trait as copy prints it: trimmed, null when absent, not text, or blank. */
const nameTrait = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : null;

/**
 * The customer's first and last names as copy addresses them: `firstName`, else `first_name`
 * (a blank one from a sign-up form passed over), and the same of the last name. The renderer
 * prints these, and the brand rule asks copy to name the first.
 */
export const namesOf = (
  traits: Record<string, unknown>,
): { first: string | null; last: string | null } => ({
  first: nameTrait(traits['firstName']) ?? nameTrait(traits['first_name']),
  last: nameTrait(traits['lastName']) ?? nameTrait(traits['last_name']),
});

/** How a customer opts in again as `optedInAfter` reads it, as a block's reason says. */
export const OPTED_IN_AGAIN_HOW =
  'an explicit opt-in: a Consent Updated event granting it; consent in identify traits does not count';

/**
 * Whether the customer opted in explicitly (an event saying what they chose, not traits an
 * integration may replay from before) after `sinceMs`.
 */
export const optedInAfter = (c: ConsentEntry | undefined, sinceMs: number): boolean => {
  const explicit = c?.explicit === true ? c : c?.other?.explicit === true ? c.other : undefined;
  return explicit?.granted === true && explicit.atMs > sinceMs;
};

/**
 * When the customer stopped the business's marketing on a channel in the provider's own app
 * (`marketingStops`), if that still holds: no explicit opt-in to the channel's marketing since.
 */
export const marketingStopOf = (state: ProfileState, channel: Channel): number | null => {
  const stoppedAt = state.marketingStops?.[channel];
  return stoppedAt === undefined || optedInAfter(state.consent[channel]?.['marketing'], stoppedAt)
    ? null
    : stoppedAt;
};

/**
 * Whether a grant to texts was given before the customer's number last changed (`changedAtMs`):
 * then it was the number before's, and does not reach this one (the TCPA's consent and a
 * WhatsApp opt-in are a number's). A grant counts from when it was first stated (`sinceMs`: a
 * CRM restating an old flag beside the new number makes it no new one), and a grant kept beside
 * it (an explicit opt-in beside traits, or traits beside it) may be the newer — but not one
 * from an implied source (`implied`: an import marking every phone), which is no opt-in of the
 * number's at all.
 */
export const grantedBeforeNumberChanged = (
  entry: ConsentEntry | undefined,
  changedAtMs: number | undefined,
  implied: readonly string[],
): boolean =>
  changedAtMs !== undefined &&
  entry?.granted === true &&
  ![entry, entry.other].some(
    (fact) =>
      fact?.granted === true &&
      (fact.sinceMs ?? fact.atMs) >= changedAtMs &&
      impliedSourceOf(fact.source, implied) === null,
  );

/**
 * The configured implied source a consent source is, however it is written (`Implied`,
 * ` implied `), or null. A verdict names the configured word, not the source as written: a
 * source is text an integration or the customer sent, and the audit log outlives an erasure.
 */
export const impliedSourceOf = (source: string, implied: readonly string[]): string | null => {
  const spelled = source.trim().toLowerCase();
  return implied.find((s) => s.trim().toLowerCase() === spelled)?.trim() ?? null;
};

/**
 * Whether a granted consent entry holds an explicit grant of the customer's own beside it
 * (`other`, an event's fact), not from an implied source: a later traits grant from an implied
 * source (a CRM restating it) leaves that grant standing.
 */
export const explicitlyGranted = (c: ConsentEntry, impliedSources: readonly string[]): boolean =>
  c.granted &&
  c.other?.explicit === true &&
  c.other.granted &&
  impliedSourceOf(c.other.source, impliedSources) === null;

export interface CartItem {
  productId: string;
  sku: string | null;
  name: string | null;
  /**
   * The unit price in cents as stated (converted at the currency's rate, not rounded: $0.994 is
   * 99.4); the cart's value rounds each line, price × quantity, to whole cents, as an order does.
   */
  priceCents: number;
  quantity: number;
  /** Margin per unit when the event carries one (used by the cart-recovery agent). */
  marginCents: number | null;
  /**
   * Set when no event of it stated a price: it counts 0 in the cart's value, which is then not
   * known (the cart-recovery agent offers its smallest discount band for such a cart).
   */
  unpriced?: true;
}

export interface Cart {
  items: CartItem[];
  valueCents: number;
  updatedAtMs: number;
}

/**
 * What happened to a cart, as the profile keeps it (`cartLog`): a product added or removed, the
 * cart replaced by a snapshot (`Cart Viewed`, `Checkout Started` with `products`), or closed by
 * an order. The cart is the fold of these in time order from the latest snapshot or order, so
 * it is the same whatever order the events arrived in: a late order takes out what was in the
 * cart before it and leaves what came after, a late add lands where its time puts it.
 */
/**
 * A change to the open cart, dated `atMs` no later than Herald received it; `stampedAtMs` is the
 * event's own stamp where that is later, to weigh changes dated alike as a replay orders them.
 */
export type CartEntry = (
  | {
      kind: 'add' | 'remove';
      atMs: number;
      item: CartItem;
      /** Set when the event gave no price: an item added again keeps the price it had. */
      unpriced?: true;
    }
  | { kind: 'set'; atMs: number; items: CartItem[] }
  | { kind: 'order'; atMs: number }
) & { stampedAtMs?: number };

export interface Device {
  token: string;
  platform: 'ios' | 'android' | 'web';
  seenAtMs: number;
}

export interface Location {
  country: string | null;
  region: string | null;
  city: string | null;
  timezone: string | null;
}

export type LifecycleStage = 'new' | 'active' | 'at-risk' | 'churned';

/** Every lifecycle stage, in the order a customer moves through them. */
export const lifecycleStages = Object.keys({
  new: true,
  active: true,
  'at-risk': true,
  churned: true,
} satisfies Record<LifecycleStage, true>) as LifecycleStage[];

/** A counted order as a profile keeps it. */
export interface KeptOrder {
  id: string;
  cents: number;
  atMs: number;
  refundedCents: number;
  /** Cancelled since: it counts no more, and takes no more back. */
  cancelled?: true;
}

/** The facts accumulated from a customer's events; everything else is derived from these. */
export interface ProfileState {
  customerId: CustomerId;
  userId: string | null;
  anonymousIds: string[];
  /** Other user ids merged into this customer with `alias`. */
  aliases: string[];
  traits: JsonObject;
  location: Location;
  consent: Consent;
  preferences: JsonObject;
  firstSeenAtMs: number;
  lastSeenAtMs: number;
  signedUpAtMs: number | null;
  /** Last event the customer caused themselves (a page, a click, an order …). */
  lastActiveAtMs: number | null;
  orders: {
    count: number;
    revenueCents: number;
    refundedCents: number;
    firstAtMs: number | null;
    lastAtMs: number | null;
    /**
     * The order ids cancelled so far (the latest `CANCELLED_IDS_KEPT`), so that a cancellation
     * sent again counts once. Absent in profiles recorded before they were kept.
     */
    cancelledIds?: string[];
    /**
     * The most orders the customer has held at once: a cancellation takes one off `count`, not
     * off this, so the order that replaces a cancelled one reaches no milestone again (two
     * "thanks for your first order"). Absent in profiles recorded before it was kept: `count`.
     */
    peakCount?: number;
    /**
     * The latest counted orders (`ORDERS_KEPT`, oldest first): each one's value, time and what
     * was refunded of it, so that a cancellation naming one takes back what is left of it
     * (its own value when the cancellation states none) and the last order's time moves back
     * to the one before. Absent in profiles recorded before they were kept.
     */
    kept?: KeptOrder[];
    /**
     * Refunds that named an order not placed yet (the latest `CANCELLED_IDS_KEPT`), held against
     * the order: taken back when it comes, no more than its value, so a refund and its order net
     * the same in either order, and never when the order turns out to be another customer's or
     * never comes. `whole`: one that stated no amount (a full refund by order id), which takes
     * back the whole order when it comes. `onArrival`: taken back then; one without it (recorded
     * before 2026-12-08) was taken back in full when it came, and is netted when its order comes.
     */
    earlyRefunds?: { id: string; cents: number; whole?: true; onArrival?: true }[];
  };
  /** Engagement points, decayed to `asOfMs`. */
  engagement: { points: number; asOfMs: number };
  email: { hardBounces: number; complaints: number; lastBounceAtMs: number | null };
  /**
   * Push devices from `context.device.token` (newest last); one is removed when its provider
   * reports it unregistered. Absent in profiles recorded before devices were kept.
   */
  devices?: Device[];
  /**
   * Tokens a provider reported unregistered, and when (the latest few): an event stamped before
   * that, arriving late (a device's offline queue), does not bring the token back. Absent until
   * a token was unregistered.
   */
  unregisteredTokens?: { token: string; atMs: number }[];
  cart: Cart | null;
  /**
   * The cart's changes since its latest snapshot or order, in time order (that entry first):
   * `cart` is their fold. Absent in profiles recorded before it was kept (their cart then
   * stands as a snapshot at its last change).
   */
  cartLog?: readonly CartEntry[];
  /**
   * When the cart was last closed — an order, or its last item removed: a cart change older
   * than that arrived late and does not reopen it. Absent until then.
   */
  cartClosedAtMs?: number;
  eventCount: number;
  /**
   * Opens and clicks: how many per channel, and per UTC hour of the week (0 = Monday 00:00),
   * for channel choice and send-time optimisation. Absent on profiles stored before it existed.
   */
  responses?: Responses;
  /**
   * When each trait, preference and location field was last set (the setting event's
   * timestamp, but no later than Herald received it; keys `traits.<key>`, `preferences.<key>`,
   * `location.<field>`, and `stamped.<key>` for the event's own stamp where it is later): an
   * older event arriving later does not overwrite it. Absent on profiles stored before it was kept.
   */
  setAtMs?: Record<string, number>;
  /**
   * The number a provider last said cannot receive (normalised; `SMS Undelivered` with
   * `permanent: true`), per channel, and when: not messaged again on that channel while it is
   * the `phone` trait, unless the number itself opted in since (an SMS START reply). Absent
   * until one fails.
   */
  unreachable?: Partial<Record<'sms' | 'whatsapp', { to: string; atMs: number }>>;
  /**
   * When the customer last stopped the business's marketing in a provider's own app rather
   * than through Herald (WhatsApp's "stop marketing messages", reported as error 131050 — the
   * `Marketing Stopped` event), per channel: no marketing goes there until the customer opts in
   * to it again, explicitly, after. Consent is left as it was — the provider still delivers
   * the business's other (utility) messages, so it is no opt-out of the channel. Absent until
   * one is reported.
   */
  marketingStops?: Partial<Record<Channel, number>>;
  /**
   * When the `phone` trait last replaced a number with another (a number cleared and another
   * given later included), dated as traits are: consent to texts (SMS and WhatsApp) is the
   * number's, so a grant older than this was given for the number before and does not reach
   * this one. A first number is no change. Absent until a number is replaced (and on profiles
   * stored before it was kept).
   */
  phoneChangedAtMs?: number;
  /**
   * The latest run of one number (normalised) in the identifies' `phone`, by their times: when it
   * began and when it was last named. What `phoneChangedAtMs` is worked out from, whatever order
   * identifies arrive in. Absent until a number is named.
   */
  phoneRun?: { number: string; sinceMs: number; lastMs: number };
}

export interface Responses {
  byChannel: Partial<Record<Channel, number>>;
  /**
   * Counts by the customer's local hour of the week (keys 0–167, `localHourOfWeek` in `zone`),
   * only the hours that had a response. Absent on profiles stored before it was kept, which
   * counted by UTC hour (`byHourOfWeek`) until their next response.
   */
  byLocalHourOfWeek?: Record<string, number>;
  /**
   * The zone `byLocalHourOfWeek` is counted in: the one the customer's quiet hours used at their
   * latest response. Read in another (their zone learned or changed since), the counts move by
   * the difference of the two zones' offsets (`responsesIn`).
   */
  zone?: string;
  /** Counts by UTC hour of the week, as profiles stored before local hours were counted hold them. */
  byHourOfWeek?: Record<string, number>;
}

/** Figures derived from the state at a given moment. */
export interface ComputedProfile {
  /** Days since the last order; null without orders. */
  recencyDays: number | null;
  frequency: number;
  /** Net revenue in major currency units. */
  monetary: number;
  engagementScore: number;
  churnRisk: number;
  /** The trained churn model that scored `churnRisk`; null when it is the rule-based score. */
  churnModelVersion: number | null;
  lifecycleStage: LifecycleStage;
  /** Historical lifetime value (net revenue) in major currency units. */
  ltv: number;
  vip: boolean;
  daysSinceActive: number | null;
  cart: { items: CartItem[]; value: number; updatedAtMs: number } | null;
  computedAtMs: number;
}

/** A trained churn model in memory: the profile stage scores with it instead of the rules. */
export interface ChurnModel {
  modelVersion: number;
  /**
   * P(no purchase in the model's churn window); null for a customer it cannot score (no
   * orders). `activity` is what the profile stage worked out from the state at `nowMs`.
   */
  score(
    state: ProfileState,
    nowMs: number,
    activity: {
      engagementScore: number;
      daysSinceActive: number | null;
      cartValue: number;
      responsesByChannel: Partial<Record<Channel, number>>;
    },
  ): number | null;
}

/** Where the profile stage finds the current churn model; it changes when a model is trained. */
export interface LiveChurnModel {
  current(): ChurnModel | null;
}

export interface Profile {
  state: ProfileState;
  computed: ComputedProfile;
}

/** One customer's profile before and after a batch of events, with the new events. */
export interface ProfileChange {
  customerId: CustomerId;
  /** Null for a customer seen for the first time. */
  before: ProfileState | null;
  after: ProfileState;
  /** The figures of `after` when the batch was recorded (already worked out for its row). */
  afterComputed: ComputedProfile;
  events: readonly HeraldEvent[];
  /** The orders among `events` seen for the first time (a repeated order id is not new). */
  newOrders: readonly { orderId: string; placedAtMs: number; totalCents: number }[];
  /**
   * Set when the change is handed on after its events were stored (a bulk load's settle): how
   * fresh they are is judged at each one's arrival (`receivedAtMs`), not when it is handed on.
   */
  arrived?: true;
  /**
   * Set when `after` was replayed from the customer's whole history (a merge, a bulk load's
   * settle) rather than updated by `events` alone: facts it holds may come from earlier events.
   */
  replayed?: true;
  /**
   * Set when another customer was merged into this one (an alias, a visitor identified): the
   * two records' messages are now one person's.
   */
  merged?: true;
  /**
   * With `merged`: the customer's whole history after the merge, the other record's events
   * among it. An exit event there (a guest's order) ends the journeys the customer is in as
   * one that came late does: none of it was offered to them.
   */
  mergedHistory?: readonly HeraldEvent[];
}

/**
 * Whether the customer opted out of the sale and sharing of their data: by a request through
 * Herald (an explicit fact, consent `web`/`sale` withdrawn, that traits cannot undo) or by a
 * `preferences.doNotSell` trait.
 */
export const optedOutOfSale = (state: ProfileState): boolean =>
  // A preference centre or a CRM may send the flag as `"true"`, `"yes"` or `1`, as consent.
  asBoolean(state.preferences['doNotSell']) === true ||
  state.consent.web?.['sale']?.granted === false;

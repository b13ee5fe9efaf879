import type { JsonObject } from './event.js';
import type { CustomerId } from './ids.js';
import type { Channel } from './profile.js';

/** Caps, quiet hours and marketing consent apply to marketing only; the class is recorded. */
export type MessageClass = 'marketing' | 'transactional';

/** The agents whose messages a customer's own action or an operator's rule asks for. */
const MAY_BE_TRANSACTIONAL: ReadonlySet<string> = new Set(['api', 'journey', 'custom']);

/**
 * A message's class, from its template's (`transactional` or not) and what asked for it. A
 * template can say `transactional`, but only a message a customer's own action or an operator's
 * rule asked for (an API send, a journey step, a configured event) keeps that class, and only
 * without an incentive and with copy a person wrote: a campaign, an agent's offer or reminder, a
 * discount or generated copy is marketing whatever the template says — else naming a
 * transactional template would skip consent, caps and quiet hours. The decide stage asks it when
 * it schedules (a transactional message is not held for quiet hours nor moved to a best hour),
 * the guard when it judges.
 */
export const classOfMessage = (
  templateIsTransactional: boolean,
  asked: { agent: string; triggerKind: string; hasIncentive: boolean; generated: boolean },
): MessageClass =>
  templateIsTransactional &&
  MAY_BE_TRANSACTIONAL.has(asked.agent) &&
  asked.triggerKind !== 'campaign' &&
  !asked.hasIncentive &&
  !asked.generated
    ? 'transactional'
    : 'marketing';

/**
 * Where a message stands. `queued`: passed the guardrails, in the outbox for delivery at
 * `sendAtMs`; `sending`: claimed by a dispatcher (its lease runs out if the process dies, and the
 * message is claimed again); `review`: waits for a person; `blocked`: a guardrail refused it; `held-out`: its customer is in the global
 * holdout or the campaign's (no automated marketing: the baseline lift is measured against); `rejected`: a
 * reviewer refused it; `expired`: nobody reviewed it in time; `cancelled`: a later event made
 * it moot; `sent`, `bounced`, `complained`, `failed`: what delivery made of it.
 */
export type MessageStatus =
  | 'queued'
  | 'sending'
  | 'review'
  | 'blocked'
  | 'held-out'
  | 'rejected'
  | 'expired'
  | 'cancelled'
  | 'sent'
  | 'bounced'
  | 'complained'
  | 'failed';

/** Every message status, in the order a message passes them, for lists that filter by one. */
export const messageStatuses: readonly MessageStatus[] = [
  'queued',
  'review',
  'sending',
  'blocked',
  'held-out',
  'rejected',
  'expired',
  'cancelled',
  'sent',
  'bounced',
  'complained',
  'failed',
];

/** One guardrail's judgement as recorded with the message and in the audit log. */
export interface RecordedVerdict {
  guardrail: string;
  outcome: 'pass' | 'hold' | 'review' | 'block';
  code: string;
  reason: string;
  figures: JsonObject;
  holdUntilMs?: number;
}

/**
 * A rendered message: what leaves (email uses every field; SMS, push and web the text). Never
 * changed once made (an edit makes a new one): its JSON text is kept with it (`contentJsonOf`).
 */
export interface RenderedContent {
  readonly subject: string | null;
  readonly preheader: string | null;
  /** The text body (SMS, WhatsApp, push and web use it alone). */
  readonly body: string;
  readonly html: string | null;
  readonly from: string | null;
  readonly replyTo: string | null;
  /** The sender's physical postal address in the footer (CAN-SPAM). */
  readonly footerAddress: string | null;
  readonly unsubscribeUrl: string | null;
  /**
   * WhatsApp only: the approved template sent in place of the body, its language and its
   * variables' values. Absent on other channels, and on WhatsApp messages rendered before
   * Herald sent variables (they go out under the Herald template's name, in `en_US`).
   */
  readonly whatsapp?: WhatsAppCall;
}

/** An approved WhatsApp template as one message sends it. */
export interface WhatsAppCall {
  /** The template's name at Meta. */
  readonly name: string;
  /** Its language code (`en_US`, `de` …). */
  readonly language: string;
  /** The body's variables, `{{1}}` first; whitespace runs are single spaces (Meta's rule). */
  readonly parameters: readonly string[];
}

const contentTexts = new WeakMap<RenderedContent, string>();

/**
 * A message's content as JSON text, made once per content object: its hash is taken over this
 * text, and the stored message row holds the same text.
 */
export const contentJsonOf = (content: RenderedContent | null): string => {
  if (content === null) return 'null';
  let text = contentTexts.get(content);
  if (text === undefined) {
    text = JSON.stringify(content);
    contentTexts.set(content, text);
  }
  return text;
};

/**
 * A person's action on a message in the review queue. `return`: an approval whose re-check
 * raised review reasons the reviewer had not been shown (an edit that now states an offer):
 * the message, edits kept, waits for another look.
 */
export interface ReviewAction {
  action: 'approve' | 'edit-approve' | 'return' | 'reject' | 'expire';
  reviewer: string;
  reason: string;
  atMs: number;
  /** A `return` whose reviewer edited the copy (the edit raised the reason it went back for). */
  edited?: true;
}

/** What a message was judged on of its customer's orders and activity (`MessageRecord.judgedOn`). */
export interface JudgedOn {
  orders: number;
  lastOrderAtMs: number | null;
  lastActiveAtMs: number | null;
}

/** A message on its way out: one per decision, on the channel the decision chose. */
export interface MessageRecord {
  /** The decision's id: one message per decision. */
  id: string;
  customerId: CustomerId;
  agent: string;
  channel: Channel;
  class: MessageClass;
  template: string | null;
  topic: string | null;
  campaignId: string | null;
  status: MessageStatus;
  sendAtMs: number;
  /**
   * When it was meant to leave: its send time as recorded (a chosen send time, a quiet-hours
   * hold) or as a reviewer's approval set it. Retries and holds at hand-off move `sendAtMs`, not
   * this; lateness is counted from here. Absent in messages recorded before it was kept.
   */
  dueAtMs?: number;
  /**
   * When a provider's rate limit first answered it, while the limit goes on answering (no
   * attempt is spent on those): how long the limit has held it is counted from here. Absent
   * once any other answer came.
   */
  throttledSinceMs?: number;
  /**
   * Push: the device tokens this message found unregistered; its next attempt goes to another
   * of the customer's devices, whatever the profile still lists.
   */
  staleTokens?: string[];
  /**
   * Automated marketing judged while a staged rollout ran: the salt of the cohort it was let
   * through by. A roll-back of that rollout refuses it at hand-off when its customer has left the
   * cohort; one judged before any rollout, or under an earlier one, is not held to the new.
   */
  rolloutSalt?: string;
  /**
   * Until when its content may go: the earliest expiry among the approved documents its
   * written variant cites. Absent when nothing it cites expires, and in messages recorded
   * before it was kept.
   */
  validUntilMs?: number;
  /**
   * Until when the offer it carries holds: its code's expiry. Absent when it carries no offer
   * with an expiry, and in messages recorded before it was kept.
   */
  offerEndsMs?: number;
  /**
   * A cart offer's cart as it was offered for (`cartFingerprint`): a cart changed since makes
   * its products and discount band another cart's, and the hand-off refuses it. Absent on other
   * messages, and on cart offers recorded before it was kept.
   */
  cartAsOffered?: string;
  /**
   * The customer's orders and latest activity as the guardrails judged a win-back or lifecycle
   * message: an order or a visit the profile holds since makes it moot at hand-off, also one
   * stamped before the message was made but recorded after it (a phone's late batch). Absent
   * on other messages, and on those recorded before it was kept (their own times are compared).
   */
  judgedOn?: JudgedOn;
  createdAtMs: number;
  updatedAtMs: number;
  /** What sending it costs (provider price), major units; campaign budgets add these up. */
  cost: number;
  /** The sending domain (email), for reputation. */
  sendingDomain: string | null;
  /** Null once the customer is erased. */
  content: RenderedContent | null;
  /** SHA-256 of the content as judged, so the audit log can commit to it without holding it. */
  contentHash: string | null;
  /**
   * The verdicts that did not simply pass (holds, reviews, blocks), with their figures; the
   * audit entry keeps every verdict, passes included.
   */
  verdicts: RecordedVerdict[];
  /** The guardrails the message passed. */
  passed: string[];
  /** A review waits until then, and expires after. */
  reviewExpiresAtMs: number | null;
  reviews: ReviewAction[];
  /** Why it ended where it is, in a word, for reporting: `frequency_capped`, `no_consent` … */
  reasonCode: string | null;
  /** Delivery attempts so far. */
  attempts: number;
  /** Where it was sent: the address, number or push token (set at hand-off). */
  recipient: string | null;
  /** The adapter that sent it (`smtp`, `capture` …) and the provider's id for it. */
  provider: string | null;
  providerId: string | null;
  sentAtMs: number | null;
  /** The last delivery error, when an attempt failed. */
  lastError: string | null;
  /** Web content: the page slot it fills and until when. */
  web: { slot: string; expiresAtMs: number } | null;
  /** The experiment arm (a creative variant's id) this message carries, when it has one. */
  variant?: string | null;
}

/**
 * Whether a message may have reached its customer: sent, being sent, or tried at least once
 * (an attempt that timed out may have been taken by the provider all the same). Only such a
 * message's links unsubscribe and its pixel counts: the copy of one never handed over is what
 * the API and reviewers read.
 */
export const mayHaveReachedCustomer = (
  message: Pick<MessageRecord, 'sentAtMs' | 'attempts' | 'status'>,
): boolean => message.sentAtMs !== null || message.attempts > 0 || message.status === 'sending';

/**
 * The longest web content is shown for (a journey's `ttlHours`, an API send's
 * `data.expiresAt`): 30 days. `GET /v1/personalize` looks no further back for a slot's content.
 */
export const WEB_MAX_TTL_HOURS = 30 * 24;

/**
 * Until when a message is still worth delivering: the earliest of its offer's end, its cited
 * copy's validity and — marketing, not web — the lateness a marketing message is allowed since
 * it was due (as the check at hand-off counts it). A provider that keeps messages for offline
 * devices (FCM, for four weeks unless told) is told to keep it no longer. Null when nothing
 * ends it.
 */
export const deliverableUntilMs = (
  message: Pick<
    MessageRecord,
    'channel' | 'class' | 'createdAtMs' | 'dueAtMs' | 'validUntilMs' | 'offerEndsMs'
  >,
  maxLatenessHours: number,
): number | null => {
  const late =
    message.class === 'marketing' && message.channel !== 'web'
      ? Math.max(message.createdAtMs, message.dueAtMs ?? message.createdAtMs) +
        maxLatenessHours * 3_600_000
      : Number.POSITIVE_INFINITY;
  const until = Math.min(
    message.validUntilMs ?? Number.POSITIVE_INFINITY,
    message.offerEndsMs ?? Number.POSITIVE_INFINITY,
    late,
  );
  return Number.isFinite(until) ? until : null;
};

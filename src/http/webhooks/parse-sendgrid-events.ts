import { attemptNumberOf } from '../../core/attempt-number.js';
import { err, ok, type Result } from '../../core/result.js';

/**
 * SendGrid's Event Webhook body, in Herald's terms. Source for the event names and fields:
 * twilio.com/docs/sendgrid/for-developers/tracking-events/event (Event Webhook Reference).
 * The body is a JSON array of events; custom args sent with the message (our
 * `herald_message_id`) come back as top-level fields of every event; `timestamp` is Unix
 * seconds.
 */
export type SendGridEventKind =
  | 'accepted'
  | 'delivered'
  | 'bounced-hard'
  | 'bounced-soft'
  | 'dropped'
  | 'complained'
  | 'unsubscribed'
  | 'opened'
  | 'clicked';

export interface SendGridEvent {
  /** `sg_event_id`: SendGrid may post an event more than once; dedupe on this. */
  eventId: string;
  /** Our message id (the `herald_message_id` custom arg), or null when absent. */
  messageId: string | null;
  /** `sg_message_id`, or null when absent. */
  providerMessageId: string | null;
  /** Which attempt of the message (the `herald_attempt` custom arg), when it names one. */
  attempt?: number;
  email: string;
  atMs: number;
  kind: SendGridEventKind;
  /** Clicks: the link followed. */
  url?: string;
  /** Bounces and drops: SendGrid's reason. */
  reason?: string;
}

/** An entry that names an event Herald reads but lacks a field it needs. */
export interface MalformedSendGridEvent {
  index: number;
  problem: string;
}

export interface ParsedSendGridEvents {
  events: SendGridEvent[];
  malformed: MalformedSendGridEvent[];
}

export type SendGridBodyError = { kind: 'not-a-list' };

/**
 * Events Herald acts on; any other is skipped. `processed` (accepted for sending) and `deferred`
 * (SendGrid retries for up to 72 hours, then reports a bounce or drop) are not outcomes, but
 * they prove SendGrid took the message: one back in the outbox after an attempt that seemed to
 * fail is not sent again.
 */
const kindOf: Readonly<Record<string, SendGridEventKind | 'bounce'>> = {
  processed: 'accepted',
  deferred: 'accepted',
  delivered: 'delivered',
  bounce: 'bounce',
  dropped: 'dropped',
  spamreport: 'complained',
  unsubscribe: 'unsubscribed',
  group_unsubscribe: 'unsubscribed',
  open: 'opened',
  click: 'clicked',
};

type Fields = Record<string, unknown>;

/**
 * An `open` SendGrid flags `sg_machine_open: true`: a mail server fetched the pixel on its own
 * (Apple Mail Privacy Protection loads every image of every message it receives), so nobody is
 * known to have read the message. Skipped: it is no open (open rate, `opened_at_ms`, engagement).
 */
const isMachineOpen = (fields: Fields): boolean =>
  fields.event === 'open' && (fields.sg_machine_open === true || fields.sg_machine_open === 'true');

const isFields = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const optionalString = (fields: Fields, key: string): string | null | undefined => {
  const value = fields[key];
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : undefined;
};

/** Bounce `type`: `bounce` is a permanent rejection, `blocked` a temporary one (SendGrid docs). */
const toBounceKind = (type: unknown): SendGridEventKind | null => {
  if (type === undefined || type === 'bounce') return 'bounced-hard';
  if (type === 'blocked') return 'bounced-soft';
  return null;
};

const toEvent = (fields: Fields, kind: SendGridEventKind | 'bounce'): SendGridEvent | string => {
  const { email, timestamp, sg_event_id: eventId } = fields;
  if (typeof eventId !== 'string' || eventId.length === 0) return 'sg_event_id is missing';
  if (typeof email !== 'string' || email.length === 0) return 'email is missing';
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0) {
    return 'timestamp is not a number of seconds';
  }
  const messageId = optionalString(fields, 'herald_message_id');
  if (messageId === undefined) return 'herald_message_id is not a string';
  const providerMessageId = optionalString(fields, 'sg_message_id');
  if (providerMessageId === undefined) return 'sg_message_id is not a string';
  const resolved = kind === 'bounce' ? toBounceKind(fields.type) : kind;
  if (resolved === null) return 'bounce type is neither bounce nor blocked';
  const attempt = attemptNumberOf(optionalString(fields, 'herald_attempt'));
  const event: SendGridEvent = {
    eventId,
    messageId,
    providerMessageId,
    ...(attempt === undefined ? {} : { attempt }),
    email,
    atMs: Math.round(timestamp * 1000),
    kind: resolved,
  };
  if (resolved === 'clicked') {
    if (typeof fields.url !== 'string' || fields.url.length === 0) return 'click without url';
    event.url = fields.url;
  }
  if (typeof fields.reason === 'string' && fields.reason.length > 0) event.reason = fields.reason;
  return event;
};

/**
 * Reads a parsed Event Webhook body. Never throws: a body that is not a list is an error;
 * within a list, events Herald does not act on are skipped and entries it cannot read are
 * reported by index, so one bad entry does not lose the rest of the batch.
 */
export const parseSendGridEvents = (
  body: unknown,
): Result<ParsedSendGridEvents, SendGridBodyError> => {
  if (!Array.isArray(body)) return err({ kind: 'not-a-list' });
  const events: SendGridEvent[] = [];
  const malformed: MalformedSendGridEvent[] = [];
  body.forEach((entry: unknown, index) => {
    if (!isFields(entry)) {
      malformed.push({ index, problem: 'not an object' });
      return;
    }
    if (typeof entry.event !== 'string') {
      malformed.push({ index, problem: 'event is missing' });
      return;
    }
    const kind = Object.hasOwn(kindOf, entry.event) ? kindOf[entry.event] : undefined;
    if (kind === undefined || isMachineOpen(entry)) return;
    const event = toEvent(entry, kind);
    if (typeof event === 'string') malformed.push({ index, problem: event });
    else events.push(event);
  });
  return ok({ events, malformed });
};

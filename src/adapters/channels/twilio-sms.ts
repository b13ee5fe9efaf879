/**
 * SMS through Twilio's Programmable Messaging REST API, and the check of Twilio's webhook
 * signature. In: one SMS delivery. Out: the outcome Twilio's answer means.
 *
 * Provider facts relied on (Twilio's public docs):
 * - `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth with the Account
 *   SID and Auth Token, form-encoded `To`, `From` or `MessagingServiceSid`, `Body`,
 *   `StatusCallback`; `201 Created` with the Message resource, whose `sid` names it —
 *   twilio.com/docs/messaging/api/message-resource.
 * - Errors answer `{ "code", "message", "more_info", "status" }` — twilio.com/docs/api/errors/400
 *   and twilio.com/docs/usage/twilios-response. 429 (code 20429) asks to slow down, with a
 *   `Retry-After` header where Twilio sends one; it is honoured when present.
 * - 21211 invalid `To` number, 21614 `To` is not a mobile number, 21610 the recipient replied
 *   STOP (opted out until they send START) — twilio.com/docs/api/errors/21211, /21614, /21610.
 * - 21611 (a 400): the `From` number's queue already holds more than Twilio queues for it, 10
 *   hours' worth at its rate; messages may be created again once it drains —
 *   twilio.com/docs/api/errors/21611. 63038: the account sent as many messages as it may in a
 *   rolling 24 hours (50 on a trial account) — twilio.com/docs/api/errors/63038.
 * - Webhook signatures: `X-Twilio-Signature` is the base64 HMAC-SHA1, keyed with the Auth
 *   Token, of the full URL followed by each POST parameter's name and value, sorted by name,
 *   with no delimiters — twilio.com/docs/usage/webhooks/webhooks-security (the twilio-php
 *   validation guide's worked example is the known answer in the tests).
 * - Message creation takes no idempotency key: a retry after a timeout whose request did
 *   reach Twilio sends the SMS twice.
 */
import { twilioQueueFullWaitMs, twilioUnreachableCodes } from '../../core/twilio-codes.js';
import type { ChannelAdapter, Delivery, DeliveryOutcome } from '../../ports/channel-adapter.js';
import {
  fieldOf,
  retryAfterMsOf,
  sendHttpRequest,
  toRetryOutcome,
  type HttpAnswer,
} from './http-request.js';

export interface TwilioSmsAdapterOptions {
  accountSid: string;
  authToken: string;
  /** The sending number (E.164) or alphanumeric sender id; or give `messagingServiceSid`. */
  from?: string;
  /** A Messaging Service picks the sender; used instead of `from` when both are given. */
  messagingServiceSid?: string;
  /** Where Twilio posts delivery status changes. */
  statusCallbackUrl?: string;
  /** Default `https://api.twilio.com`. */
  baseUrl?: string;
  /** Default 10 s; the attempt is abandoned (`retry`) after it. */
  timeoutMs?: number;
}

/**
 * Errors of the account or its sender, not the message — every message would fail alike until
 * someone fixes the setup, so the provider is paused rather than each message dead-lettered:
 * 20003 authentication failed (the SID or token is wrong), 20005 the account is not active
 * (suspended or closed), 21212 the `From` number is invalid, 21601 it is not an SMS-capable
 * number of the account, 21616 it matches several of the account's numbers, 21660 it belongs
 * to another account, 63038 the account reached its daily limit (twilio.com/docs/api/errors/
 * <code>). Sender errors that depend on the destination (21606, 21659 for a short code in
 * another country) stay the message's.
 *
 * 63038 lasts until the rolling 24 hours let messages through again (or Support raises the
 * limit): paused, no message spends an attempt on it, and the circuit's probes find when it
 * ends; retried instead, every message of the day would run out of attempts before then.
 */
export const twilioAccountCodes: ReadonlySet<number> = new Set([
  20003, 20005, 21212, 21601, 21616, 21660, 63038,
]);

/** 21611: the `From` number's queue at Twilio is full (10 hours of messages at its rate). */
export const TWILIO_QUEUE_FULL = 21611;

export { twilioQueueFullWaitMs };

type Sender = { From: string } | { MessagingServiceSid: string };

/** The form fields of the Create Message request for one delivery. */
export const toTwilioMessageForm = (
  delivery: Delivery,
  sender: Sender,
  statusCallbackUrl: string | undefined,
): URLSearchParams => {
  const form = new URLSearchParams({ To: delivery.to, ...sender, Body: delivery.content.body });
  // Naming the message in the callback's URL (which Twilio signs whole): a status that comes
  // before the send's answer is written back (a fast failure) still finds its message. And the
  // attempt: a retry after one that gave up waiting is another Twilio message, whose reports
  // must not be taken for the retry's.
  if (statusCallbackUrl !== undefined)
    form.set(
      'StatusCallback',
      `${statusCallbackUrl}${statusCallbackUrl.includes('?') ? '&' : '?'}message=${encodeURIComponent(delivery.messageId)}${
        delivery.attempt === undefined ? '' : `&attempt=${String(delivery.attempt)}`
      }`,
    );
  return form;
};

/** What a Create Message answer means for the delivery. */
export const toTwilioOutcome = (answer: HttpAnswer): DeliveryOutcome => {
  const { status, json } = answer;
  if (status >= 200 && status < 300) {
    const sid = fieldOf(json, 'sid');
    return { kind: 'sent', providerId: typeof sid === 'string' ? sid : null };
  }
  const code = fieldOf(json, 'code');
  const message = fieldOf(json, 'message');
  const detail = [
    typeof code === 'number' ? `Twilio error ${code}` : '',
    typeof message === 'string' ? message : answer.text.trim().slice(0, 500),
  ]
    .filter((part) => part !== '')
    .join(': ');
  if (status === 429 || status >= 500)
    return toRetryOutcome(answer, detail, retryAfterMsOf(answer));
  // A 400, but transient: the message is fine, the sender's queue is full for now.
  if (code === TWILIO_QUEUE_FULL)
    return toRetryOutcome(
      answer,
      detail,
      Math.max(retryAfterMsOf(answer) ?? 0, twilioQueueFullWaitMs),
    );
  if (typeof code === 'number' && twilioUnreachableCodes.has(code))
    return { kind: 'unreachable', reason: detail };
  if (status === 401 || (typeof code === 'number' && twilioAccountCodes.has(code)))
    return {
      kind: 'suspended',
      reason: `Twilio answered ${status}${detail === '' ? '' : `: ${detail}`}`,
    };
  return {
    kind: 'failed',
    reason: `Twilio answered ${status}${detail === '' ? '' : `: ${detail}`}`,
  };
};

/** Sends SMS through Twilio; every answer, timeout and network error becomes an outcome. */
export const createTwilioSmsAdapter = (options: TwilioSmsAdapterOptions): ChannelAdapter => {
  const sender: Sender | null =
    options.messagingServiceSid !== undefined
      ? { MessagingServiceSid: options.messagingServiceSid }
      : options.from !== undefined
        ? { From: options.from }
        : null;
  if (sender === null) throw new Error('Twilio SMS needs either from or messagingServiceSid');
  const baseUrl = (options.baseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
  const url = `${baseUrl}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    name: 'twilio',
    channel: 'sms',
    async send(delivery, signal) {
      const attempt = await sendHttpRequest({
        url,
        headers: { authorization, accept: 'application/json' },
        body: toTwilioMessageForm(delivery, sender, options.statusCallbackUrl),
        timeoutMs,
        signal,
      });
      return attempt.kind === 'answered' ? toTwilioOutcome(attempt.answer) : attempt;
    },
    close: () => Promise.resolve(),
  };
};

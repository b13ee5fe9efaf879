/**
 * Email through Twilio SendGrid's v3 Mail Send API. In: one email delivery. Out: the outcome
 * SendGrid's answer means.
 *
 * Provider facts relied on (SendGrid's public docs):
 * - `POST /v3/mail/send`, `Authorization: Bearer <API key>`, JSON body with `personalizations[].to`,
 *   `from`, `reply_to`, `subject`, `content` (text/plain before text/html), `headers`,
 *   `custom_args` (string values) — docs.sendgrid.com/api-reference/mail-send/mail-send.
 * - `202 Accepted`: valid and queued; `200 OK`: valid but not queued (sandbox mode only). The
 *   `X-Message-Id` response header names the message in Event Webhook posts —
 *   twilio.com/docs/sendgrid/glossary/x-message-id.
 * - Failures answer `{ "errors": [{ "message", "field", "help" }] }`; 400 bad request, 401
 *   unauthorized, 403 forbidden, 413 payload too large, 429 too many requests, 500/503 server
 *   errors — sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html and
 *   twilio.com/docs/sendgrid/api-reference/mail-send/errors.
 * - Rate limits: every response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
 *   `X-RateLimit-Reset` (Unix epoch seconds when the period ends); a 429 means no more
 *   requests until then. SendGrid documents no `Retry-After`; one is honoured if present —
 *   twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits.
 * - Bounces are not reported by Mail Send (they arrive later through the Event Webhook); the
 *   only recipient problem it answers is an invalid `to` address (a 400 naming a
 *   `personalizations…to` field), reported here as `unreachable`.
 * - Mail Send takes no idempotency key: a retry after a timeout whose request did reach
 *   SendGrid sends the email twice. `custom_args.herald_message_id` lets the Event Webhook
 *   name the message, so duplicates can at least be recognised.
 */
import type { ChannelAdapter, Delivery, DeliveryOutcome } from '../../ports/channel-adapter.js';
import { withPreheader } from './preheader.js';
import {
  answerDateMs,
  fieldOf,
  retryAfterMsOf,
  sendHttpRequest,
  toRetryOutcome,
  type HttpAnswer,
} from './http-request.js';

export interface SendGridAdapterOptions {
  apiKey: string;
  /** Default `https://api.sendgrid.com` (`https://api.eu.sendgrid.com` for EU-pinned accounts). */
  baseUrl?: string;
  /** Default 10 s; the attempt is abandoned (`retry`) after it. */
  timeoutMs?: number;
  /** The domain of every message's `Message-ID` (`<message id@domain>`), as over SMTP. */
  messageIdDomain: string;
}

/** An address as SendGrid takes it. */
export interface SendGridAddress {
  email: string;
  name?: string;
}

/**
 * `Name <addr>`, `"Name" <addr>` or a bare `addr` as a SendGrid address object; the name is
 * left out when empty.
 */
export const toSendGridAddress = (value: string): SendGridAddress => {
  const match = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(value);
  if (match === null) return { email: value.trim() };
  const name = (match[1] ?? '').replace(/^"(.*)"$/, '$1').trim();
  const email = (match[2] ?? '').trim();
  return name === '' ? { email } : { email, name };
};

/** The Mail Send request body for one delivery. */
export const toSendGridMail = (
  delivery: Delivery,
  from: string,
  messageIdDomain: string,
): Record<string, unknown> => {
  const { content } = delivery;
  return {
    personalizations: [{ to: [{ email: delivery.to }] }],
    from: toSendGridAddress(from),
    ...(content.replyTo === null ? {} : { reply_to: toSendGridAddress(content.replyTo) }),
    ...(content.subject === null ? {} : { subject: content.subject }),
    // SendGrid requires text/plain first, then text/html.
    content: [
      { type: 'text/plain', value: content.body },
      ...(content.html === null
        ? []
        : [
            {
              type: 'text/html',
              value: withPreheader(content.html, content.preheader),
            },
          ]),
    ],
    headers: {
      // Stable across attempts, as over SMTP: a receiver drops the copy a retry sends after an
      // answer that was lost.
      'Message-ID': `<${delivery.messageId}@${messageIdDomain}>`,
      // RFC 8058 one-click unsubscribe: the URL in List-Unsubscribe plus the fixed
      // List-Unsubscribe-Post value; Gmail and Yahoo require both for bulk senders.
      ...(content.unsubscribeUrl === null
        ? {}
        : {
            'List-Unsubscribe': `<${content.unsubscribeUrl}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          }),
    },
    // Back on every event: the message, and which attempt of it (a retry after one that gave up
    // waiting is another Mail Send request, whose bounce must not be taken for the retry's).
    custom_args: {
      herald_message_id: delivery.messageId,
      ...(delivery.attempt === undefined ? {} : { herald_attempt: String(delivery.attempt) }),
    },
    // Herald tracks opens and clicks itself (its pixel, its signed links). SendGrid's tracking,
    // on by default in many accounts, would add a second pixel and wrap Herald's links: each
    // open and click would then come back twice, doubling engagement scores.
    tracking_settings: {
      click_tracking: { enable: false, enable_text: false },
      open_tracking: { enable: false },
    },
  };
};

interface SendGridError {
  message: string;
  field: string | null;
}

/** The `errors` of a SendGrid error body; empty when the body is not in that shape. */
export const toSendGridErrors = (body: unknown): SendGridError[] => {
  const errors = fieldOf(body, 'errors');
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((error: unknown) => {
    const message = fieldOf(error, 'message');
    const field = fieldOf(error, 'field');
    return typeof message === 'string'
      ? [{ message, field: typeof field === 'string' ? field : null }]
      : [];
  });
};

const describeErrors = (errors: readonly SendGridError[], answer: HttpAnswer): string =>
  errors.length === 0
    ? answer.text.trim().slice(0, 500)
    : errors
        .map(({ message, field }) => (field === null ? message : `${field}: ${message}`))
        .join('; ');

const isRecipientField = (field: string | null): boolean =>
  field !== null && /^personalizations(\.\d+)?\.to(\.|$)/.test(field);

/**
 * The wait a 429 asks for: `Retry-After` when sent, else until `X-RateLimit-Reset`, measured
 * against the answer's own `Date` so the two clocks agree. Null when neither can be read.
 */
export const sendGridRetryAfterMs = (answer: HttpAnswer): number | null => {
  const retryAfter = retryAfterMsOf(answer);
  if (retryAfter !== null) return retryAfter;
  const reset = answer.headers.get('x-ratelimit-reset');
  const nowMs = answerDateMs(answer);
  if (reset === null || !/^\d+$/.test(reset.trim()) || nowMs === null) return null;
  return Math.max(0, Number(reset.trim()) * 1000 - nowMs);
};

/** What a Mail Send answer means for the delivery. */
export const toSendGridOutcome = (answer: HttpAnswer): DeliveryOutcome => {
  const { status } = answer;
  // A 200 comes only in sandbox mode (validated, not delivered); Herald reports it as sent,
  // so a sandboxed deployment runs end to end without mail leaving.
  if (status >= 200 && status < 300)
    return { kind: 'sent', providerId: answer.headers.get('x-message-id') };
  const errors = toSendGridErrors(answer.json);
  const detail = describeErrors(errors, answer);
  if (status === 429) return toRetryOutcome(answer, detail, sendGridRetryAfterMs(answer));
  if (status >= 500) return toRetryOutcome(answer, detail, retryAfterMsOf(answer));
  if (status === 400 && errors.length > 0 && errors.every((e) => isRecipientField(e.field)))
    return { kind: 'unreachable', reason: `SendGrid refused the recipient: ${detail}` };
  // 401: the API key is wrong or revoked; 403: it lacks Mail Send, or the sender identity is
  // not verified — every message would get the same answer.
  if (status === 401 || status === 403)
    return {
      kind: 'suspended',
      reason: `SendGrid answered ${status}${detail === '' ? '' : `: ${detail}`}`,
    };
  return {
    kind: 'failed',
    reason: `SendGrid answered ${status}${detail === '' ? '' : `: ${detail}`}`,
  };
};

/** Sends email through SendGrid; every answer, timeout and network error becomes an outcome. */
export const createSendGridAdapter = (options: SendGridAdapterOptions): ChannelAdapter => {
  const baseUrl = (options.baseUrl ?? 'https://api.sendgrid.com').replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    name: 'sendgrid',
    channel: 'email',
    async send(delivery, signal) {
      const from = delivery.content.from;
      if (from === null)
        return { kind: 'failed', reason: 'email without a from address: SendGrid requires one' };
      const attempt = await sendHttpRequest({
        url: `${baseUrl}/v3/mail/send`,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(toSendGridMail(delivery, from, options.messageIdDomain)),
        timeoutMs,
        signal,
      });
      return attempt.kind === 'answered' ? toSendGridOutcome(attempt.answer) : attempt;
    },
    close: () => Promise.resolve(),
  };
};

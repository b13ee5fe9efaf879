import { withPreheader } from './preheader.js';
import nodemailer from 'nodemailer';
import type { ChannelAdapter, DeliveryOutcome } from '../../ports/channel-adapter.js';

export interface SmtpOptions {
  /** `smtp://[user:pass@]host[:port]` or `smtps://…` (TLS from the first byte). */
  url: string;
  /** Pooled connections kept open to the relay. */
  maxConnections: number;
  timeoutMs: number;
  /** The right-hand side of every `Message-ID` (the sending domain). */
  messageIdDomain: string;
}

interface SmtpError {
  code?: string;
  /** The command the relay answered (nodemailer's `command`: `MAIL FROM`, `RCPT TO`, …). */
  command?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/**
 * The enhanced status code of a reply (RFC 3463: class, subject, detail), as the reply states it
 * after its code (`550 5.1.1 …`, `550-5.2.1 …`), or, failing that, anywhere in the words
 * (qmail's `… (#5.7.1)`); null when it gives none.
 */
const enhancedStatusOf = (reply: string): { subject: number; detail: number } | null => {
  const match =
    /^\d{3}[ -]?[45]\.(\d{1,3})\.(\d{1,3})\b/.exec(reply) ??
    // Not the start of an IPv4 address in the words (`5.9.12.34 is in a black list`).
    /(?:^|[\s(#])[45]\.(\d{1,3})\.(\d{1,3})\b(?!\.\d)/.exec(reply);
  return match === null ? null : { subject: Number(match[1]), detail: Number(match[2]) };
};

/**
 * A relay refusing to relay for Herald (it wants Herald to authenticate, or does not serve its
 * address): Postfix `554 5.7.1 <…>: Relay access denied`, Sendmail `550 5.7.1 … Relaying
 * denied`, Exim `550 relay not permitted`, Exchange `550 5.7.1 Unable to relay`, qmail's
 * `rcpthosts`, Microsoft 365's 5.7.54 (unable to relay) and 5.7.64 (relay access denied). It
 * names no fault of the recipient, and every message would get it.
 */
const RELAY_REFUSED =
  /\brelay(?:ing)?(?: access)?(?: is)?(?: temporarily)? (?:denied|not permitted|not allowed|prohibited|disallowed|refused)\b|\b(?:unable|not (?:permitted|allowed|authori[sz]ed)) to relay\b|\bwe do not relay\b|\brcpthosts\b/i;

const isRelayRefusal = (reply: string): boolean => {
  const enhanced = enhancedStatusOf(reply);
  return (
    (enhanced?.subject === 7 && (enhanced.detail === 54 || enhanced.detail === 64)) ||
    RELAY_REFUSED.test(reply)
  );
};

/**
 * Words saying the recipient's mailbox itself is missing or dead, for a 550/551/553 at RCPT that
 * carries no enhanced status to say so: RFC 5321's own texts ("mailbox unavailable", "user not
 * local", "mailbox name not allowed") and the common ones ("user unknown", "no such user",
 * "does not exist").
 */
const NAMES_THE_RECIPIENT =
  /\b(?:user|mailbox|recipient|addressee|account) (?:is )?(?:unknown|unavailable|not found|not known|not local|disabled|inactive|invalid|not valid)\b|\b(?:unknown|invalid|nonexistent|non-existent|no such) (?:user|mailbox|recipient|address|addressee|account)\b|\bmailbox name not allowed\b|\bdoes(?: not|n't) exist\b/i;

/** SMTP replies and nodemailer's error codes → an outcome. */
export const smtpOutcome = (error: SmtpError): DeliveryOutcome => {
  const reason = error.response ?? error.message ?? String(error.code);
  const status = error.responseCode;
  // Refused at MAIL FROM: the sender (a From domain that does not resolve, a relay that does not
  // take it), the same for every message, whatever its address: the channel is suspended, and
  // no recipient's address is counted a hard bounce.
  if (status !== undefined && status >= 500 && error.command === 'MAIL FROM')
    return { kind: 'suspended', reason: `the relay refuses the sender: ${reason}` };
  // The relay will not relay for Herald (credentials missing or wrong, Herald's host not among
  // those it serves): not the recipient's fault, and the same answer for every message, whether
  // it says so for good (5xx) or for now (Postfix's 454 4.7.1 under defer_unauth_destination).
  if (status !== undefined && status >= 400 && isRelayRefusal(reason))
    return { kind: 'suspended', reason: `the relay refuses to relay for Herald: ${reason}` };
  if (status !== undefined && status >= 400 && status < 500)
    return { kind: 'retry', reason, afterMs: null };
  // The address itself is bad (a hard bounce, counted against it and the sending domain, for
  // good): an enhanced status 5.1.x (RFC 3463, addressing); or a 550/551/553 at RCPT with an
  // enhanced status of another subject (5.2.1 disabled, 5.5.0 unavailable, 5.4.1 rejected …) —
  // unless it is 5.7.x, the receiver's policy (a blocklisted relay, DMARC, spam), which says
  // nothing about the address —, or, without one (or with 5.0.0, "no further information"),
  // with words that name the mailbox as missing. A bare `550 <words>` is what many servers
  // answer for any refusal, their policy's included: taken for a bounce, one misread refusal
  // would suppress every address it met. Such a refusal fails the message alone.
  const enhanced = enhancedStatusOf(reason);
  const informative = enhanced !== null && enhanced.subject !== 0;
  if (
    status !== undefined &&
    status >= 500 &&
    enhanced?.subject !== 7 &&
    (enhanced?.subject === 1 ||
      (error.code === 'EENVELOPE' &&
        [550, 551, 553].includes(status) &&
        (informative || NAMES_THE_RECIPIENT.test(reason))))
  )
    return { kind: 'unreachable', reason };
  // 530 authentication required, 535 credentials rejected (RFC 4954), or nodemailer's EAUTH:
  // the relay refuses Herald, whatever the message.
  if (error.code === 'EAUTH' || status === 530 || status === 535)
    return { kind: 'suspended', reason };
  if (status !== undefined && status >= 500) return { kind: 'failed', reason };
  // ECONNECTION, ETIMEDOUT, ESOCKET, EDNS …: the relay could not be reached or went away.
  return { kind: 'retry', reason, afterMs: null };
};

/**
 * Email over SMTP to any relay (an ESP's or your own), through nodemailer's pooled transport.
 * Every message carries a stable `Message-ID` (`<message id@sending domain>`) and, for
 * marketing, `List-Unsubscribe` with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
 * (RFC 8058). SMTP has no idempotency key: if the process dies after the relay's 250 and
 * before the outcome is written back, the message is sent again after its lease — with the
 * same Message-ID, which many receivers use to drop the duplicate.
 */
export const createSmtpAdapter = (options: SmtpOptions): ChannelAdapter => {
  const url = new URL(options.url);
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: options.maxConnections,
    maxMessages: Number.POSITIVE_INFINITY,
    host: url.hostname,
    port: url.port === '' ? (url.protocol === 'smtps:' ? 465 : 587) : Number(url.port),
    secure: url.protocol === 'smtps:',
    ...(url.username === ''
      ? {}
      : {
          auth: {
            user: decodeURIComponent(url.username),
            pass: decodeURIComponent(url.password),
          },
        }),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  return {
    name: 'smtp',
    channel: 'email',
    async send(delivery, signal) {
      const c = delivery.content;
      if (signal.aborted) return { kind: 'retry', reason: 'aborted before sending', afterMs: null };
      const sending = transport.sendMail({
        from: c.from ?? undefined,
        to: delivery.to,
        replyTo: c.replyTo ?? undefined,
        subject: c.subject ?? '',
        text: c.body,
        ...(c.html === null ? {} : { html: withPreheader(c.html, c.preheader) }),
        messageId: `<${delivery.messageId}@${options.messageIdDomain}>`,
        // A send given up on leaves the pool: taken out of its queue, or its connection closed
        // (the relay may still have it whole, as when the answer is lost: same Message-ID).
        signal,
        ...(c.unsubscribeUrl === null
          ? {}
          : {
              list: { unsubscribe: c.unsubscribeUrl },
              headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
            }),
      });
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<DeliveryOutcome>((resolve) => {
        onAbort = () => {
          resolve({
            kind: 'retry',
            reason: 'timed out or aborted waiting for the relay',
            afterMs: null,
          });
        };
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        return await Promise.race([
          sending.then(
            (info): DeliveryOutcome => ({ kind: 'sent', providerId: info.messageId }),
            (error: unknown) => smtpOutcome(error as SmtpError),
          ),
          aborted,
        ]);
      } finally {
        if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
        // An abandoned send still settles; nothing waits for it.
        sending.catch(() => undefined);
      }
    },
    close() {
      transport.close();
      return Promise.resolve();
    },
  };
};

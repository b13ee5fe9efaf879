import { withPreheader } from './preheader.js';
import type Nodemailer from 'nodemailer';
import { onFirstUse } from '../../core/on-first-use.js';
import type { ChannelAdapter, DeliveryOutcome } from '../../ports/channel-adapter.js';

const nodemailer = onFirstUse<typeof Nodemailer>('nodemailer');

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

/**
 * Words saying the relay refuses the *sender's* address, wherever the reply comes (a relay that
 * judges the sender only at RCPT, as Postfix does by default with `smtpd_delay_reject`):
 * Postfix's "Sender address rejected" (its every sender restriction), Microsoft 365's "bad
 * outbound sender", Exim's "sender verify failed", Sendmail's "Domain of sender address … does
 * not exist". Not a sender's *reputation* ("bad sender reputation", a receiver's policy, 5.7.x):
 * that refuses one receiver's mail, not the address.
 */
const NAMES_THE_SENDER =
  /\bsender address (?:rejected|refused|denied|invalid|not (?:valid|allowed|permitted|accepted))\b|\b(?:bad|invalid|unknown|unverified) (?:outbound sender|sender (?:address|domain))\b|\bsender verify failed\b|\bdomain of sender address\b/i;

/**
 * Whose address an enhanced status of subject 1, addressing (RFC 3463 §3.2; X.1.9 RFC 3886,
 * X.1.10 RFC 7505), finds at fault: the recipient's (a hard bounce), the sender's (Herald's,
 * the same for every message), one it does not say (`unsaid`), or none. A detail not listed
 * (not registered) is none.
 */
const ADDRESSING_FAULT: Readonly<Record<number, 'recipient' | 'sender' | 'unsaid' | 'none'>> = {
  // Other address status: not whose; the words decide.
  0: 'unsaid',
  // Bad destination mailbox address.
  1: 'recipient',
  // Bad destination system address (the domain does not exist or takes no mail).
  2: 'recipient',
  // Bad destination mailbox address syntax.
  3: 'recipient',
  // Destination mailbox address ambiguous.
  4: 'recipient',
  // Destination address valid: a success detail, no fault of the address.
  5: 'none',
  // Destination mailbox has moved, no forwarding address.
  6: 'recipient',
  // Bad sender's mailbox address syntax.
  7: 'sender',
  // Bad sender's system address (Postfix's "Sender address rejected: Domain not found").
  8: 'sender',
  // Message relayed to a non-compliant mailer: says nothing against the address.
  9: 'none',
  // Recipient address has null MX: the recipient's domain takes no mail.
  10: 'recipient',
};

/**
 * What an enhanced status says against the recipient's address: that it is bad (`recipient`);
 * nothing, so the words decide (none given, 5.0.0 "no further information", 5.1.0 "other
 * address status", which does not say whose); that it is bad if the refusal came at RCPT
 * (`likely`: another subject, 5.2.1 disabled, 5.4.1, 5.5.0); or that it is not
 * (`not-the-address`: the receiver's policy, 5.7.x, and 5.1.x details that name no fault of
 * the recipient).
 */
const recipientBlameOf = (
  enhanced: { subject: number; detail: number } | null,
): 'recipient' | 'words' | 'likely' | 'not-the-address' => {
  if (enhanced === null || enhanced.subject === 0) return 'words';
  if (enhanced.subject === 7) return 'not-the-address';
  if (enhanced.subject !== 1) return 'likely';
  const fault = ADDRESSING_FAULT[enhanced.detail];
  return fault === 'recipient' ? 'recipient' : fault === 'unsaid' ? 'words' : 'not-the-address';
};

/**
 * Whether a reply refuses the sender's address: an enhanced status 5.1.7 or 5.1.8, 5.7.27
 * (RFC 7505: the sender's domain has a null MX), or words saying so.
 */
const isSenderRefusal = (reply: string): boolean => {
  const enhanced = enhancedStatusOf(reply);
  return (
    (enhanced?.subject === 1 && ADDRESSING_FAULT[enhanced.detail] === 'sender') ||
    (enhanced?.subject === 7 && enhanced.detail === 27) ||
    NAMES_THE_SENDER.test(reply)
  );
};

/** SMTP replies and nodemailer's error codes → an outcome. */
export const smtpOutcome = (error: SmtpError): DeliveryOutcome => {
  const reason = error.response ?? error.message ?? String(error.code);
  const status = error.responseCode;
  // Refused at MAIL FROM: the sender (a From domain that does not resolve, a relay that does not
  // take it), the same for every message, whatever its address: the channel is suspended, and
  // no recipient's address is counted a hard bounce. So is a refusal of the sender's address
  // given later, at RCPT (Postfix's default `smtpd_delay_reject`: `553 5.1.8 <from>: Sender
  // address rejected: Domain not found`) or after DATA.
  if (
    status !== undefined &&
    status >= 500 &&
    (error.command === 'MAIL FROM' || isSenderRefusal(reason))
  )
    return { kind: 'suspended', reason: `the relay refuses the sender: ${reason}` };
  // The relay will not relay for Herald (credentials missing or wrong, Herald's host not among
  // those it serves): not the recipient's fault, and the same answer for every message, whether
  // it says so for good (5xx) or for now (Postfix's 454 4.7.1 under defer_unauth_destination).
  if (status !== undefined && status >= 400 && isRelayRefusal(reason))
    return { kind: 'suspended', reason: `the relay refuses to relay for Herald: ${reason}` };
  if (status !== undefined && status >= 400 && status < 500)
    return { kind: 'retry', reason, afterMs: null };
  // The recipient's address itself is bad (a hard bounce, counted against it and the sending
  // domain, for good): an enhanced status 5.1.x whose detail names the recipient's address
  // (RFC 3463: 5.1.1 mailbox, 5.1.2 system, 5.1.3 syntax, 5.1.4 ambiguous, 5.1.6 moved; RFC
  // 7505: 5.1.10 null MX); or a 550/551/553 at RCPT with an enhanced status of another subject
  // (5.2.1 disabled, 5.5.0 unavailable, 5.4.1 rejected …) — unless it is 5.7.x, the receiver's
  // policy (a blocklisted relay, DMARC, spam), which says nothing about the address —, or,
  // without one (or with 5.0.0, "no further information", or 5.1.0, "other address status",
  // which does not say whose address), with words that name the mailbox as missing. Other
  // 5.1.x details (5.1.5 valid, 5.1.9 relayed on, and any not registered) name no fault of
  // the recipient. A bare `550 <words>` is what many servers answer for any refusal, their
  // policy's included: taken for a bounce, one misread refusal would suppress every address it
  // met. Such a refusal fails the message alone.
  const blame = recipientBlameOf(enhancedStatusOf(reason));
  if (
    status !== undefined &&
    status >= 500 &&
    (blame === 'recipient' ||
      (error.code === 'EENVELOPE' &&
        [550, 551, 553].includes(status) &&
        (blame === 'likely' || (blame === 'words' && NAMES_THE_RECIPIENT.test(reason)))))
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
  const transport = nodemailer().createTransport({
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

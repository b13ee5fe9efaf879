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

/** SMTP replies and nodemailer's error codes → an outcome. */
export const smtpOutcome = (error: SmtpError): DeliveryOutcome => {
  const reason = error.response ?? error.message ?? String(error.code);
  const status = error.responseCode;
  if (status !== undefined && status >= 400 && status < 500)
    return { kind: 'retry', reason, afterMs: null };
  // Refused at MAIL FROM: the sender (a From domain that does not resolve, a relay that does not
  // take it), the same for every message, whatever its address: the channel is suspended, and
  // no recipient's address is counted a hard bounce.
  if (status !== undefined && status >= 500 && error.command === 'MAIL FROM')
    return { kind: 'suspended', reason: `the relay refuses the sender: ${reason}` };
  // The address itself is bad (a hard bounce, counted against it and the sending domain): an
  // enhanced status 5.1.x (RFC 3463, addressing), or 550/551/553 at RCPT (5.2.1 disabled,
  // 5.5.0 unavailable, 5.4.1 rejected …) — unless its enhanced status is 5.7.x, the receiver's
  // policy (a blocklisted relay, DMARC, spam), which says nothing about the address: failed.
  const enhancedClass = /\b5\.(\d{1,3})\.\d{1,3}\b/.exec(reason)?.[1];
  if (
    status !== undefined &&
    status >= 500 &&
    enhancedClass !== '7' &&
    (enhancedClass === '1' || (error.code === 'EENVELOPE' && [550, 551, 553].includes(status)))
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

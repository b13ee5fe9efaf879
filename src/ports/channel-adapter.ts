import type { CustomerId } from '../core/ids.js';
import type { MessageClass, RenderedContent } from '../core/message.js';
import type { Channel } from '../core/profile.js';

/** One message handed to a provider: the rendered content and where it goes. */
export interface Delivery {
  /** The message's id: the idempotency key wherever the provider takes one. */
  messageId: string;
  customerId: CustomerId;
  channel: Channel;
  class: MessageClass;
  template: string | null;
  /**
   * Where it goes: an e-mail address, an E.164 phone number (SMS, WhatsApp), or a device's
   * push token.
   */
  to: string;
  /** Push only: the device's platform, for the platform-specific payload. */
  platform?: 'ios' | 'android' | 'web';
  /** What leaves; on WhatsApp its `whatsapp` names the approved template and its variables. */
  content: RenderedContent;
  /**
   * For how long from now it is still worth delivering (ms, from `deliverableUntilMs`): a
   * provider that holds messages for devices offline is told to hold it no longer. Absent when
   * nothing ends it.
   */
  worthForMs?: number;
  /**
   * Which attempt of the message this is (1 for the first). Providers that call back carry it
   * (Twilio's callback URL, SendGrid's `custom_args`, WhatsApp's `biz_opaque_callback_data`),
   * so a report about an attempt a retry superseded — one that gave up waiting, which the
   * provider took after all — is told apart from the retry's own.
   */
  attempt?: number;
}

/**
 * What a provider made of a delivery. `sent`: accepted (the provider's id when it gives one).
 * `retry`: a transient failure (429, 5xx, timeout, connection) — try again, after `afterMs`
 * when the provider said (Retry-After). `failed`: a permanent failure of this message (a
 * malformed request, rejected content) — dead-lettered with the reason. `unreachable`: the
 * recipient cannot receive (a hard bounce, an invalid number, an unregistered push token, a
 * recipient who opted out at the provider) — dead-lettered, and the address is suppressed.
 * `suspended`: the provider refused Herald, not the message (credentials rejected or expired,
 * an account suspended, a sender not verified) — every message would get the same answer, so
 * none is dead-lettered: it goes back unsent and the provider's circuit opens until an
 * operator fixes the account.
 */
export type DeliveryOutcome =
  | { kind: 'sent'; providerId: string | null }
  /**
   * Not sent this time; try again (after `afterMs` when the provider said). `throttled`: the
   * provider refused it for its own rate limit (a 429): nothing went, the attempt is not counted,
   * and nothing more is sent to the provider until the wait is over.
   */
  | { kind: 'retry'; reason: string; afterMs: number | null; throttled?: true }
  /**
   * `device`: the failure is the device's platform's, not the message's or the token's (FCM's
   * THIRD_PARTY_AUTH_ERROR: the project's APNs key or web push credentials are missing or
   * expired) — another device of the customer's, on another platform, may still take it.
   */
  | { kind: 'failed'; reason: string; device?: true }
  | { kind: 'unreachable'; reason: string }
  /**
   * The recipient told the provider they want no more marketing from the business on this
   * channel (WhatsApp 131050): the message fails, and so does the customer's marketing consent
   * on the channel — the number itself still takes other messages.
   */
  | { kind: 'opted-out'; reason: string }
  | { kind: 'suspended'; reason: string };

/** One provider for one channel; every adapter passes the same contract suite. */
export interface ChannelAdapter {
  /** `capture`, `smtp`, `sendgrid`, `twilio`, `whatsapp`, `fcm`. */
  readonly name: string;
  readonly channel: Channel;
  /**
   * Sends one message. Never throws for a provider's answer: every answer, timeout and
   * connection error becomes an outcome. Aborting `signal` abandons the attempt (`retry`).
   */
  send(delivery: Delivery, signal: AbortSignal): Promise<DeliveryOutcome>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

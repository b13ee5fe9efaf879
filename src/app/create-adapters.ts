import { readFileSync } from 'node:fs';
import { domainToASCII } from 'node:url';
import { createCaptureAdapter, createWebPublisher } from '../adapters/channels/capture.js';
import { createFcmAdapter } from '../adapters/channels/fcm.js';
import { createSendGridAdapter } from '../adapters/channels/sendgrid.js';
import { createSmtpAdapter } from '../adapters/channels/smtp.js';
import { createTwilioSmsAdapter } from '../adapters/channels/twilio-sms.js';
import { createWhatsAppAdapter } from '../adapters/channels/whatsapp.js';
import { AppError } from '../core/errors.js';
import type { ChannelAdapter } from '../ports/channel-adapter.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { Config } from './load-config.js';

/**
 * One adapter per channel, picked by what is configured: a provider when its credentials are
 * set, else the capture channel, so nothing leaves a machine that was not told where to send.
 */
export const createAdapters = (config: Config, store: Store, clock: Clock): ChannelAdapter[] => {
  const p = config.providers;
  const timeoutMs = config.deliverPolicy.timeoutSeconds * 1000;
  const publicUrl = config.messages.publicUrl.replace(/\/+$/, '');
  const messageIdDomain = messageIdDomainOf(config.messages.from);
  const email =
    p.smtpUrl !== ''
      ? createSmtpAdapter({
          url: p.smtpUrl,
          maxConnections: p.smtpPoolSize,
          timeoutMs,
          messageIdDomain,
        })
      : p.sendgridApiKey !== ''
        ? createSendGridAdapter({
            apiKey: p.sendgridApiKey,
            baseUrl: p.sendgridBaseUrl,
            timeoutMs,
            messageIdDomain,
          })
        : createCaptureAdapter('email', store, clock);
  const sms =
    p.twilioAccountSid !== ''
      ? createTwilioSmsAdapter({
          accountSid: p.twilioAccountSid,
          authToken: p.twilioAuthToken,
          ...(p.twilioFrom === '' ? {} : { from: p.twilioFrom }),
          ...(p.twilioMessagingServiceSid === ''
            ? {}
            : { messagingServiceSid: p.twilioMessagingServiceSid }),
          statusCallbackUrl: `${publicUrl}/webhooks/twilio/status`,
          baseUrl: p.twilioBaseUrl,
          timeoutMs,
        })
      : createCaptureAdapter('sms', store, clock);
  const whatsapp =
    p.whatsappAccessToken !== ''
      ? createWhatsAppAdapter({
          accessToken: p.whatsappAccessToken,
          phoneNumberId: p.whatsappPhoneNumberId,
          baseUrl: p.whatsappBaseUrl,
          timeoutMs,
        })
      : createCaptureAdapter('whatsapp', store, clock);
  const push =
    p.fcmServiceAccountFile !== ''
      ? createFcmAdapter({
          serviceAccount: readServiceAccount(p.fcmServiceAccountFile),
          baseUrl: p.fcmBaseUrl,
          timeoutMs,
        })
      : createCaptureAdapter('push', store, clock);
  return [email, sms, whatsapp, push, createWebPublisher()];
};

/** The domain of a From header (`Name <user@domain>` or `user@domain`), lower-cased. */
export const domainOf = (from: string): string | null => {
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  const at = address.lastIndexOf('@');
  return at < 0
    ? null
    : address
        .slice(at + 1)
        .trim()
        .toLowerCase();
};

/**
 * The domain of every email's Message-ID (`<message id@domain>`, whichever provider sends it):
 * the From address's, in ASCII (`bücher.de` is `xn--bcher-kva.de`, as the mail library writes
 * the From address itself: RFC 5322 takes no 8-bit text in a Message-ID), else `herald.invalid`.
 */
export const messageIdDomainOf = (from: string): string => {
  const domain = domainOf(from);
  return domain === null ? 'herald.invalid' : domainToASCII(domain) || 'herald.invalid';
};

const readServiceAccount = (file: string) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AppError(
      'invalid-config',
      `HERALD_FCM_SERVICE_ACCOUNT_FILE ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const account = parsed as Record<string, unknown>;
  const missing = ['project_id', 'client_email', 'private_key', 'token_uri'].filter(
    (k) => typeof account[k] !== 'string',
  );
  if (missing.length > 0)
    throw new AppError(
      'invalid-config',
      `HERALD_FCM_SERVICE_ACCOUNT_FILE ${file}: not a service-account key (missing ${missing.join(', ')})`,
    );
  return account as {
    project_id: string;
    client_email: string;
    private_key: string;
    token_uri: string;
  };
};

import { Type } from '@sinclair/typebox';
import { escapeHtml } from '../../core/html.js';
import { basicUserOf } from '../auth.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../app/create-services.js';
import { AppError } from '../../core/errors.js';
import { isAnonymousCustomerId, type CustomerId } from '../../core/ids.js';
import {
  mayHaveReachedCustomer,
  WEB_MAX_TTL_HOURS,
  type MessageRecord,
} from '../../core/message.js';
import { HOUR_MS } from '../../core/time.js';
import { isExplicitFact, optedOutOfSale, withdrewGrant } from '../../core/profile.js';
import { COUNTRY_CALLING_CODE, normalisePhone } from '../../core/recipient.js';
import {
  verifyMessageToken,
  verifyToken,
  verifyUserSignature,
  type LinkPurpose,
} from '../../core/signed-token.js';
import { heraldEvent } from '../../pipeline/deliver-messages.js';
import { checkAtHandOff, checkTimingAtHandOff } from '../../pipeline/guard/index.js';
import { rememberNumberStarts, rememberNumberStops } from '../../pipeline/erased-identities.js';
import {
  recordMessageResult,
  type MessageResult,
  type ReportedAttempt,
} from '../../pipeline/track-messages.js';
import { attemptNumberOf } from '../../core/attempt-number.js';
import { parseSendGridEvents } from '../webhooks/parse-sendgrid-events.js';
import {
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  verifySendGridSignature,
} from '../webhooks/verify-sendgrid.js';
import { verifyTwilioSignature } from '../webhooks/verify-twilio.js';
import { allowAnyOrigin, answerPreflight } from '../allow-any-origin.js';
import type { Membership } from '../../ports/decide-store.js';
import {
  WHATSAPP_SIGNATURE_HEADER,
  verifyWhatsAppSignature,
  whatsAppChallenge,
} from '../webhooks/verify-whatsapp.js';
import { parseWhatsAppStatuses, type WhatsAppStatus } from '../webhooks/parse-whatsapp-statuses.js';
import {
  twilioNeverSentCodes,
  twilioQueueFullWaitMs,
  twilioUnreachableCodes,
} from '../../core/twilio-codes.js';
import { whatsAppOptedOutCodes, whatsAppUnreachableCodes } from '../../core/whatsapp-codes.js';
import { endedByEvent } from '../../pipeline/decide/journeys/exit-reasons.js';

/**
 * The script a site embeds: fills every `[data-herald-slot]` element with the customer's live
 * content, and reports impressions and clicks as track events through the tracking API.
 * `Herald.personalize({ host, writeKey, anonymousId })`, or `{ …, userId, userSignature }` with
 * the signature the site's server computed (see `GET /v1/personalize`).
 */
const PERSONALIZE_SCRIPT = `(function () {
  function track(o, event, props) {
    return fetch(o.host + '/v1/track', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ writeKey: o.writeKey, userId: o.userId, anonymousId: o.anonymousId,
        event: event, properties: props, context: o.userId ? { userSignature: o.userSignature } : {},
        messageId: 'web-' + Date.now() + '-' + Math.random().toString(36).slice(2) }),
      keepalive: true,
    }).catch(function () {});
  }
  function personalize(o) {
    var slots = document.querySelectorAll('[data-herald-slot]');
    return Promise.all(Array.prototype.map.call(slots, function (el) {
      var slot = el.getAttribute('data-herald-slot');
      var q = 'slot=' + encodeURIComponent(slot) + '&writeKey=' + encodeURIComponent(o.writeKey) +
        (o.userId ? '&userId=' + encodeURIComponent(o.userId) + '&userSignature=' + encodeURIComponent(o.userSignature) : '&anonymousId=' + encodeURIComponent(o.anonymousId));
      return fetch(o.host + '/v1/personalize?' + q).then(function (r) { return r.json(); }).then(function (a) {
        if (!a.content) return;
        el.textContent = a.content.body;
        el.setAttribute('data-herald-message', a.content.messageId);
        var props = { slot: slot, messageId: a.content.messageId, template: a.content.template };
        track(o, 'Web Content Viewed', props);
        el.addEventListener('click', function () { track(o, 'Web Content Clicked', props); }, { once: true });
      });
    }));
  }
  window.Herald = { personalize: personalize };
})();
`;

/**
 * The id SendGrid answered the send with (`X-Message-Id`) from an event's `sg_message_id`,
 * which appends the filter that handled it (`<id>.filterdrecv-…`, `<id>.filter0001.…`).
 */
const providerIdOf = (sgMessageId: string | null): string | null =>
  sgMessageId === null ? null : sgMessageId.replace(/\.(?:filter|recvd).*$/s, '');

/** How long a click or an open waits for its recording before the customer is answered. */
const TRACKING_WAIT_MS = 250;

// A transparent 1×1 GIF.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const page = (reply: FastifyReply, status: number, title: string, body: string) =>
  reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">${body}</body></html>`,
    );

/** STOP, START and HELP as carriers and Twilio read them (case and spacing ignored). */
const STOP_WORDS = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'OPTOUT',
  'REVOKE',
]);
const START_WORDS = new Set(['START', 'YES', 'UNSTOP']);
const HELP_WORDS = new Set(['HELP', 'INFO']);

/** A reply's word as the keywords are read: its letters alone, in capitals (`Y.E.S` is YES). */
const keywordWordOf = (body: string): string =>
  body
    .trim()
    .toUpperCase()
    .replace(/[^A-Z]/g, '');

export const keywordOf = (body: string): 'stop' | 'start' | 'help' | null => {
  const word = keywordWordOf(body);
  return STOP_WORDS.has(word)
    ? 'stop'
    : START_WORDS.has(word)
      ? 'start'
      : HELP_WORDS.has(word)
        ? 'help'
        : null;
};

/**
 * The other forms a message's recipient may have for the E.164 number a reply came from: a
 * `phone` trait without `+` is kept as its bare digits (core/recipient.ts), so `(415) 555-0123`
 * was texted as `4155550123` and answers from `+14155550123`. Its international digits without
 * `+` always; its national digits, with and without the trunk `0`, only when the reply comes
 * from the country of Herald's number it was sent to (`To`): a number written without its
 * country code was dialled as a number of the sending number's own country, and the same
 * national digits in another country are another person's line (`0470 12 34 56` in Belgium,
 * `+61 470 123 456` in Australia). None for a number not in E.164 (a short code).
 */
const nationalFormsOf = (from: string, to: string): string[] => {
  if (!/^\+\d{4,15}$/.test(from)) return [];
  const international = from.slice(1);
  const code = COUNTRY_CALLING_CODE.exec(international)?.[0] ?? '';
  const ours = /^\+\d{4,15}$/.test(to) ? COUNTRY_CALLING_CODE.exec(to.slice(1))?.[0] : undefined;
  if (ours !== code) return [international];
  const national = international.slice(code.length);
  return [international, national, `0${national}`];
};

/** `+44 7911…` as a trait written `+44 (0)7911 …` is kept: the country code, then a trunk 0. */
const trunkZeroFormOf = (from: string): string[] => {
  if (!/^\+\d{4,15}$/.test(from)) return [];
  const code = COUNTRY_CALLING_CODE.exec(from.slice(1))?.[0] ?? '';
  return code === '' ? [] : [`+${code}0${from.slice(1 + code.length)}`];
};

const twiml = (reply: FastifyReply, message: string | null) =>
  reply
    .type('text/xml')
    .send(
      `<?xml version="1.0" encoding="UTF-8"?><Response>${message === null ? '' : `<Message>${escapeHtml(message)}</Message>`}</Response>`,
    );

/**
 * SendGrid posts its event webhook in batches of up to 768 KB (its docs: "within approximately
 * 30 seconds or when the batch size reaches 768 kilobytes"), above the ingest API's 500 KB: a
 * batch refused is retried for 24 hours and then dropped, with its bounces and unsubscribes.
 */
const WEBHOOK_BODY_LIMIT = 2 * 1024 * 1024; // Meta batches up to 1,000 statuses too.

/** A webhook's body as JSON, or a 400 quoting the parser. */
const jsonOf = (payload: string): unknown => {
  try {
    return JSON.parse(payload) as unknown;
  } catch (error) {
    throw new AppError('invalid-input', `the body is not valid JSON: ${(error as Error).message}`);
  }
};

/**
 * What a Cloud API status says of a WhatsApp message: Meta took it (`sent`), it reached the
 * phone (`delivered`, and `read`, which follows it — not counted as an open), or it failed: for
 * good for the number (131026, the number marked unreachable on WhatsApp), because the customer
 * stopped the business's marketing in WhatsApp (131050: `opted_out`, and no marketing goes there
 * until they opt in again), or
 * otherwise (the message failed, with Meta's words). A failure names the attempt by its `wamid`.
 */
/** The attempt a report names: by the provider's id of it and its number, either when known. */
const reportedAttempt = (
  provider: string,
  providerId: string | null,
  number: number | undefined,
): { attempt?: ReportedAttempt } =>
  providerId === null && number === undefined
    ? {}
    : { attempt: { provider, providerId, ...(number === undefined ? {} : { number }) } };

const whatsAppResults = (message: MessageRecord, status: WhatsAppStatus): MessageResult[] => {
  if (status.status === 'sent') return [{ kind: 'accepted', providerId: status.providerId }];
  if (status.status !== 'failed') return [{ kind: 'delivered', providerId: status.providerId }];
  const code = status.error?.code ?? null;
  const reason = `failed${status.error === null ? '' : ` ${status.error.detail}`}`;
  const attempt = reportedAttempt('whatsapp', status.providerId, status.attempt);
  const to = message.recipient ?? (status.recipientId === '' ? '' : `+${status.recipientId}`);
  if (code !== null && whatsAppUnreachableCodes.has(code) && to !== '')
    return [{ kind: 'undelivered', reason, permanent: { to }, ...attempt }];
  if (code !== null && whatsAppOptedOutCodes.has(code))
    return [
      { kind: 'undelivered', reason, ...attempt, code: 'opted_out' },
      { kind: 'marketing-stopped' },
    ];
  return [{ kind: 'undelivered', reason, ...attempt }];
};

const ONE_CLICK_HEADER =
  /^\s*content-disposition:\s*form-data;[^\r\n]*\bname="?List-Unsubscribe"?/i;

/**
 * Whether a multipart/form-data body holds the one-click field: a part whose headers name
 * `List-Unsubscribe` (a header folded onto the next line read as one), then a blank line, then
 * `One-Click` (in any case) on a line of its own. Read line by line: a pattern over the whole
 * body took time growing with the cube of its length (42 KB held the server 12 s, before
 * 2026-12-07).
 */
const hasOneClickPart = (body: string): boolean => {
  const lines: string[] = [];
  for (const line of body.split(/\r?\n/)) {
    const previous = lines.at(-1);
    if (/^[ \t]/.test(line) && previous !== undefined && previous !== '')
      lines[lines.length - 1] = previous + line;
    else lines.push(line);
  }
  for (let i = 0; i < lines.length; i += 1) {
    if (!ONE_CLICK_HEADER.test(lines[i] ?? '')) continue;
    // The part's other headers, up to the blank line; then its value.
    let j = i + 1;
    while (j < lines.length && lines[j] !== '') j += 1;
    if (lines[j + 1]?.toLowerCase() === 'one-click' && j + 2 < lines.length) return true;
  }
  return false;
};

/**
 * What customers and providers call back: the open pixel, signed click redirects, the
 * unsubscribe page and its one-click POST (RFC 8058), the SendGrid event webhook, Twilio's
 * status and inbound webhooks and the WhatsApp Cloud API's status webhook (signatures
 * verified), and web personalisation. Bodies here are
 * read raw: webhooks are verified on the bytes that were signed, and forms are not JSON.
 */
export const registerTrackingRoutes = (app: FastifyInstance, services: Services): void => {
  const { store, config } = services;
  // A link is checked against every secret it may have been signed with: the one signing now,
  // then the one Herald kept before a configured one replaced it (mail sent before still
  // unsubscribes: CAN-SPAM asks 30 days).
  const secrets = services.linkSecretsAccepted;
  const verified = <T>(check: (secret: string) => T | null): T | null => {
    for (const secret of secrets) {
      const found = check(secret);
      if (found !== null) return found;
    }
    return null;
  };
  const base = config.messages.publicUrl.replace(/\/+$/, '');
  const deps = services.track;
  const record = (
    message: MessageRecord,
    result: MessageResult,
    reportId: string | null = null,
  ) => {
    const nowMs = services.clock.nowMs();
    return recordMessageResult(deps, message, result, nowMs, nowMs, reportId);
  };
  /**
   * Records an open or a click without making the customer wait long for it or see it fail:
   * the pixel and the redirect answer once it is recorded or after `TRACKING_WAIT_MS`, whichever
   * comes first (a busy database), and whatever becomes of it (a database that is down); a
   * recording that fails is logged with the message it was for.
   */
  const recordBeside = async (what: string, work: () => Promise<unknown>) => {
    const recorded = work().catch((error: unknown) => {
      services.logger.error(
        { err: error, what },
        'a tracking call could not be recorded; the customer was answered anyway',
      );
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      recorded,
      new Promise((resolve) => (timer = setTimeout(resolve, TRACKING_WAIT_MS))),
    ]);
    clearTimeout(timer);
  };
  const messageOfToken = async (
    token: string,
    purpose: LinkPurpose,
  ): Promise<MessageRecord | undefined> => {
    const id = verified((secret) => verifyMessageToken(secret, purpose, token));
    return id === null ? undefined : store.getMessage(id);
  };

  void app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, next) => {
      next(null, body);
    });

    // Fastify answers a HEAD with the GET's handler. A HEAD is a look at the link without
    // following it (a mail gateway's or a link checker's): answered the same, recorded never.
    const isHead = (request: FastifyRequest) => request.method === 'HEAD';

    scope.get<{ Params: { token: string } }>('/t/o/:token', async (request, reply) => {
      if (!isHead(request))
        await recordBeside('open', async () => {
          const message = await messageOfToken(request.params.token.replace(/\.gif$/, ''), 'o');
          // Only mail that may have left is opened: a preview of one waiting (a review) is no open.
          if (message !== undefined && mayHaveReachedCustomer(message))
            await record(message, { kind: 'opened' });
        });
      return reply.type('image/gif').header('cache-control', 'no-store').send(PIXEL);
    });

    scope.get<{ Params: { token: string } }>('/t/c/:token', async (request, reply) => {
      const payload = verified((secret) => verifyToken(secret, request.params.token));
      let link: { m?: unknown; u?: unknown } | null = null;
      try {
        link = payload === null ? null : (JSON.parse(payload) as { m?: unknown; u?: unknown });
      } catch {
        link = null;
      }
      const url = typeof link?.u === 'string' ? link.u : null;
      // Only a link Herald signed redirects, and only to http(s): never an open redirect.
      if (url === null || !/^https?:\/\//i.test(url) || typeof link?.m !== 'string')
        return page(reply, 404, 'Link not valid', '<p>This link is not valid.</p>');
      const messageId = link.m;
      if (!isHead(request))
        await recordBeside(`click on ${messageId}`, async () => {
          const message = await store.getMessage(messageId);
          // Only a link of mail that may have left is followed by its customer: one in a copy that
          // never did (a reviewer's preview, a message still waiting) is no click.
          if (message !== undefined && mayHaveReachedCustomer(message))
            await record(message, { kind: 'clicked', url });
        });
      return reply.header('cache-control', 'no-store').redirect(url, 302);
    });

    const unsubscribed = (reply: FastifyReply) =>
      page(
        reply,
        200,
        'Unsubscribed',
        `<h1>You are unsubscribed</h1><p>You will receive no more marketing from ${escapeHtml(config.messages.brandName)} on this channel.</p>`,
      );
    // Only the links of a message that may have left unsubscribe: one never handed to a
    // provider (waiting, blocked, in review) was never the customer's, and its copy is what the
    // API and reviewers read.
    const sentMessageOfToken = async (token: string) => {
      const message = await messageOfToken(token, 'u');
      return message === undefined || !mayHaveReachedCustomer(message) ? undefined : message;
    };
    scope.get<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
      const message = await sentMessageOfToken(request.params.token);
      if (message === undefined)
        return page(reply, 404, 'Link not valid', '<p>This unsubscribe link is not valid.</p>');
      // A GET changes nothing (mail scanners follow links): the page asks to confirm.
      return page(
        reply,
        200,
        'Unsubscribe',
        `<h1>Unsubscribe</h1><p>Stop ${escapeHtml(config.messages.brandName)} marketing ${escapeHtml(message.channel === 'email' ? 'emails' : 'messages')}?</p><form method="post"><button type="submit" name="confirm" value="yes">Unsubscribe</button></form>`,
      );
    });
    scope.post<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
      const message = await sentMessageOfToken(request.params.token);
      if (message === undefined)
        return page(reply, 404, 'Link not valid', '<p>This unsubscribe link is not valid.</p>');
      const body = typeof request.body === 'string' ? request.body : '';
      // RFC 8058's POST: `List-Unsubscribe=One-Click`, urlencoded, or as a part of
      // multipart/form-data (what the RFC says a mail client SHOULD send).
      const oneClick =
        new URLSearchParams(body).get('List-Unsubscribe') === 'One-Click' || hasOneClickPart(body);
      await record(message, { kind: 'unsubscribed', source: oneClick ? 'one-click' : 'page' });
      return unsubscribed(reply);
    });

    scope.post('/webhooks/sendgrid', { bodyLimit: WEBHOOK_BODY_LIMIT }, async (request, reply) => {
      const key = config.providers.sendgridWebhookPublicKey;
      if (key === '')
        throw new AppError(
          'not-found',
          'the SendGrid webhook is off: set HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY',
        );
      const payload = typeof request.body === 'string' ? request.body : '';
      const signature = request.headers[SENDGRID_SIGNATURE_HEADER];
      const timestamp = request.headers[SENDGRID_TIMESTAMP_HEADER];
      if (
        typeof signature !== 'string' ||
        typeof timestamp !== 'string' ||
        !verifySendGridSignature({ publicKey: key, payload, signature, timestamp })
      )
        throw new AppError('unauthorized', 'the SendGrid event webhook signature does not verify');
      // A signed batch replayed later is refused: its events were recorded when it came.
      const ageSeconds = services.clock.nowMs() / 1000 - Number(timestamp);
      if (!Number.isFinite(ageSeconds) || Math.abs(ageSeconds) > 600)
        throw new AppError(
          'unauthorized',
          'the SendGrid event webhook timestamp is more than 10 minutes off',
        );
      const body = jsonOf(payload);
      const parsed = parseSendGridEvents(body);
      if (!parsed.ok) throw new AppError('invalid-input', 'the body is not a list of events');
      let recorded = 0;
      for (const e of parsed.value.events) {
        const message =
          (e.messageId === null ? undefined : await store.getMessage(e.messageId)) ??
          (e.providerMessageId === null
            ? undefined
            : await store.messageByProviderId(providerIdOf(e.providerMessageId) ?? ''));
        if (message === undefined) continue;
        // The attempt a failure is about, by the id SendGrid answered it with (each Mail Send
        // request gets its own): a bounce of an attempt that gave up waiting, whose retry went,
        // leaves the message as the retry's own reports make it.
        const providerId = providerIdOf(e.providerMessageId);
        const attempt = reportedAttempt('sendgrid', providerId, e.attempt);
        const result: MessageResult | null =
          e.kind === 'accepted'
            ? { kind: 'accepted', providerId }
            : e.kind === 'delivered'
              ? { kind: 'delivered', providerId }
              : e.kind === 'bounced-hard' || e.kind === 'bounced-soft'
                ? {
                    kind: 'bounced',
                    hard: e.kind === 'bounced-hard',
                    reason: e.reason ?? '',
                    ...attempt,
                  }
                : e.kind === 'dropped'
                  ? { kind: 'dropped', reason: e.reason ?? '', ...attempt }
                  : e.kind === 'complained'
                    ? { kind: 'complained' }
                    : e.kind === 'unsubscribed'
                      ? { kind: 'unsubscribed', source: 'sendgrid' }
                      : e.kind === 'opened'
                        ? { kind: 'opened' }
                        : { kind: 'clicked', url: e.url ?? '' };
        const nowMs = services.clock.nowMs();
        await recordMessageResult(deps, message, result, e.atMs, nowMs, e.eventId);
        recorded += 1;
      }
      return reply.send({ recorded, malformed: parsed.value.malformed });
    });

    const twilioParams = (request: {
      body: unknown;
      headers: Record<string, unknown>;
      url: string;
    }) => {
      const token = config.providers.twilioAuthToken;
      if (token === '')
        throw new AppError(
          'not-found',
          'the Twilio webhooks are off: set HERALD_TWILIO_AUTH_TOKEN',
        );
      const params = new URLSearchParams(typeof request.body === 'string' ? request.body : '');
      const signature = request.headers['x-twilio-signature'];
      // Twilio signs the URL it called: the public base and this path.
      if (
        typeof signature !== 'string' ||
        !verifyTwilioSignature({
          authToken: token,
          url: `${base}${request.url}`,
          params,
          signature,
        })
      )
        throw new AppError('unauthorized', 'X-Twilio-Signature does not verify');
      return params;
    };
    scope.post<{ Querystring: { message?: string; attempt?: string } }>(
      '/webhooks/twilio/status',
      async (request, reply) => {
        const params = twilioParams(request);
        const sid = params.get('MessageSid') ?? '';
        const status = params.get('MessageStatus') ?? '';
        // By the message the callback URL names (signed with it), else by Twilio's id.
        const named = request.query.message;
        const message =
          (named === undefined ? undefined : await store.getMessage(named)) ??
          (sid === '' ? undefined : await store.messageByProviderId(sid));
        if (message !== undefined) {
          // Twilio took it (a callback for each step): proof an attempt that seemed to fail
          // went through.
          if (['accepted', 'queued', 'sending', 'sent'].includes(status))
            await record(message, { kind: 'accepted', providerId: sid === '' ? null : sid });
          else if (status === 'delivered')
            await record(message, { kind: 'delivered', providerId: sid === '' ? null : sid });
          else if (status === 'undelivered' || status === 'failed')
            await record(message, {
              kind: 'undelivered',
              reason: `${status} ${params.get('ErrorCode') ?? ''}`.trim(),
              // Failed before it left Twilio (a Messaging Service's queue overflowed): back in
              // the outbox, as a full queue answered at once is.
              ...(twilioNeverSentCodes.has(Number(params.get('ErrorCode') ?? ''))
                ? { retryAtMs: services.clock.nowMs() + twilioQueueFullWaitMs }
                : {}),
              // Which attempt failed: the callback URL names it (and the message), and a retry
              // after one that gave up waiting is another Twilio message with its own sid.
              ...reportedAttempt(
                'twilio',
                sid === '' ? null : sid,
                attemptNumberOf(request.query.attempt),
              ),
              // The number itself cannot receive SMS (30005 unknown handset, 30006 a landline;
              // 21610 STOP, 21211 and 21614 as a Messaging Service reports them here, where
              // a direct send answers them at once).
              // Kept under the number as Herald texted it (a trait without `+1` is texted as
              // written, and Twilio's `To` is always E.164), which is what a send compares.
              ...(twilioUnreachableCodes.has(Number(params.get('ErrorCode') ?? '')) &&
              (message.recipient ?? params.get('To') ?? '') !== ''
                ? { permanent: { to: message.recipient ?? params.get('To') ?? '' } }
                : {}),
            });
        }
        return reply.status(204).send();
      },
    );
    // WhatsApp Cloud API: Meta's check of the callback URL, then its message status webhooks.
    scope.get<{ Querystring: Record<string, string | undefined> }>(
      '/webhooks/whatsapp',
      async (request, reply) => {
        const challenge = whatsAppChallenge(request.query, config.providers.whatsappVerifyToken);
        if (challenge === null)
          throw new AppError(
            'forbidden',
            'hub.mode must be subscribe and hub.verify_token HERALD_WHATSAPP_VERIFY_TOKEN',
          );
        return reply.type('text/plain').send(challenge);
      },
    );
    scope.post('/webhooks/whatsapp', { bodyLimit: WEBHOOK_BODY_LIMIT }, async (request, reply) => {
      const appSecret = config.providers.whatsappAppSecret;
      if (appSecret === '')
        throw new AppError(
          'not-found',
          'the WhatsApp webhook is off: set HERALD_WHATSAPP_APP_SECRET',
        );
      const payload = typeof request.body === 'string' ? request.body : '';
      const signature = request.headers[WHATSAPP_SIGNATURE_HEADER];
      if (
        typeof signature !== 'string' ||
        !verifyWhatsAppSignature({ appSecret, payload, signature })
      )
        throw new AppError(
          'unauthorized',
          'X-Hub-Signature-256 does not verify under HERALD_WHATSAPP_APP_SECRET',
        );
      const body = jsonOf(payload);
      const parsed = parseWhatsAppStatuses(body);
      if (parsed === null)
        throw new AppError(
          'invalid-input',
          'the body is not a WhatsApp Business Account webhook (object: whatsapp_business_account)',
        );
      let recorded = 0;
      const nowMs = services.clock.nowMs();
      for (const status of parsed.statuses) {
        // By the message id the send carried, else by the `wamid` its answer gave: a send
        // whose answer was lost (a timeout, a cut-off body) has no `wamid` stored.
        const message =
          (status.messageId === null ? undefined : await store.getMessage(status.messageId)) ??
          (await store.messageByProviderId(status.providerId));
        if (message?.channel !== 'whatsapp') continue;
        const results = whatsAppResults(message, status);
        // An opt-out is acted on once, by its message and status: Meta's requests carry no
        // signed time, and one replayed after the customer opted in again would undo that.
        const optOut = results.some((r) => r.kind === 'marketing-stopped');
        const reportId = `${status.providerId}:${status.status}`;
        if (optOut && (await store.transaction((tx) => tx.inboundSeen('whatsapp', reportId))))
          continue;
        for (const result of results)
          await recordMessageResult(deps, message, result, status.atMs, nowMs, reportId);
        // After what it recorded: a request that failed before is acted on when Meta retries.
        if (optOut)
          await store.transaction((tx) => tx.rememberInbound('whatsapp', reportId, nowMs));
        recorded += 1;
      }
      return reply.send({ recorded, malformed: parsed.malformed });
    });

    scope.post('/webhooks/twilio/inbound', async (request, reply) => {
      const params = twilioParams(request);
      // Twilio's Advanced Opt-Out says what it took the reply for (its keywords may be in other
      // languages: `ARRÊT`), and has acted on it itself; without it, the words Twilio knows.
      const optOutType = (params.get('OptOutType') ?? '').trim().toLowerCase();
      const keyword =
        optOutType === 'stop' || optOutType === 'start' || optOutType === 'help'
          ? optOutType
          : keywordOf(params.get('Body') ?? '');
      const from = params.get('From') ?? '';
      // Read as the keyword is: a `Y.E.S` that counts as START is a YES.
      const answersYes = keywordWordOf(params.get('Body') ?? '') === 'YES';
      // Twilio's Advanced Opt-Out answers HELP itself with the Messaging Service's own text, and
      // says so (`OptOutType`): a reply of Herald's too gave the customer two answers.
      if (keyword === 'help')
        return twiml(
          reply,
          optOutType === 'help'
            ? null
            : `${config.messages.brandName}: reply STOP to unsubscribe, START to resubscribe.`,
        );
      // Every customer Herald texted at this number: the phone's owner speaks for all of them
      // (a number entered on two accounts, a household's phone) — in its other forms too (a
      // trait in national format, texted from Herald's number in the reply's country).
      const forms =
        from === ''
          ? []
          : [
              from,
              ...nationalFormsOf(from, params.get('To') ?? ''),
              // A trait written `+44 (0)7911 …` keeps its trunk 0 after the country code,
              // and is texted so: a STOP reaches it too (erring toward the opt-out). Not a
              // START: in Italy the form with a 0 is another line (+39 0312…, a landline).
              ...(keyword === 'stop' ? trunkZeroFormOf(from) : []),
            ];
      const messages = (
        await Promise.all(forms.map((form) => store.latestMessagesTo(form, 'sms')))
      ).flat();
      const sid = params.get('MessageSid');
      // A STOP or START acted on before is not acted on again: Twilio's requests carry no time,
      // and one posted again (a retry, a captured request replayed) after the other would undo
      // it, dated at the replay (the events' own de-duplication, on SQLite, holds only a window
      // of them).
      const seen =
        (keyword === 'stop' || keyword === 'start') && sid !== null
          ? await store.transaction((tx) => tx.inboundSeen('twilio', sid))
          : false;
      if (keyword === 'stop' && !seen) {
        // The number's, on every record that has it, texted or not (a household's phone, a
        // guest checkout), and kept by number: a record whose phone changes back to it later
        // is not texted either, until the number texts START or the record opts in again.
        const stoppedAtMs = services.clock.nowMs();
        await store.transaction((tx) => rememberNumberStops(tx, forms, stoppedAtMs));
        // Erring toward an opt-out is safe, and missing one keeps texting a customer who said
        // stop (TCPA, CTIA).
        const customers = new Set<string>();
        for (const message of messages) {
          if (customers.has(message.customerId)) continue;
          customers.add(message.customerId);
          await record(message, { kind: 'unsubscribed', source: 'sms-reply' }, sid);
        }
      }
      // A national form was texted from the reply's country only if Herald texts from one number
      // (`HERALD_TWILIO_FROM`, not a Messaging Service's pool) and the reply came to it: then a
      // START may answer it; otherwise START keeps to the exact number (a stranger abroad with the
      // same national digits would opt a customer in).
      const ours = config.providers.twilioFrom;
      const repliedToOurs =
        config.providers.twilioMessagingServiceSid === '' &&
        ours !== '' &&
        normalisePhone(ours) === normalisePhone(params.get('To') ?? '');
      if (keyword === 'start' && from !== '' && !seen) {
        // Twilio lifts the number's STOP on START: so does Herald, for the records it never
        // texted at the number too — in a national form only as below.
        const startedAtMs = services.clock.nowMs();
        await store.transaction((tx) =>
          rememberNumberStarts(
            tx,
            [from, ...(repliedToOurs ? nationalFormsOf(from, params.get('To') ?? '') : [])],
            startedAtMs,
          ),
        );
      }
      if (keyword === 'start' && messages.length > 0 && !seen) {
        // Only for those whose phone this still is, in the form they were texted at: a number
        // changes hands, and a customer texted at it years ago must not be opted in by its new
        // owner. A national form was found only from the country of Herald's number the reply
        // came to, as the text went (docs/deliver.md). Once a customer.
        const profiles = await Promise.all(messages.map((m) => store.getProfile(m.customerId)));
        const nowMs = services.clock.nowMs();
        const answered = new Set<string>();
        const replying = normalisePhone(from);
        const events = messages.flatMap((message, i) => {
          const state = profiles[i]?.state;
          const phone = state?.traits['phone'];
          const texted = message.recipient === null ? null : normalisePhone(message.recipient);
          if (
            state === undefined ||
            typeof phone !== 'string' ||
            texted === null ||
            answered.has(message.customerId) ||
            normalisePhone(phone) !== texted ||
            (texted !== replying && !repliedToOurs)
          )
            return [];
          answered.add(message.customerId);
          const number = texted;
          // Marketing again for those who opted out of SMS marketing themselves (STOP, or a
          // preference centre's SMS switch): START or UNSTOP says so. "YES" answers many a
          // transactional text, and undoes only a STOP texted before. Neither is consent to
          // marketing from someone who never gave it, declined it in a form (traits), or
          // unsubscribed from every channel (an email's link). Otherwise, if Twilio had refused
          // the number (21610: it had texted STOP to Twilio alone), the number is open again
          // (Twilio lifts its opt-out on START): the number's own opt-in to the channel's
          // texts, which is what makes it reachable again (core/recipient.ts), and no consent
          // to marketing.
          // What the opt-out withdrew must have been a grant (`before`; a STOP recorded before
          // that was kept counts when traits had granted marketing): a STOP from someone who
          // never took marketing texts, or declined them, restores none.
          const held = state.consent.sms?.['marketing'];
          const purpose =
            held?.granted === false &&
            isExplicitFact(held) &&
            held.everyChannel !== true &&
            withdrewGrant(held) &&
            (!answersYes || held.source === 'sms-reply')
              ? 'marketing'
              : state.unreachable?.sms?.to === number
                ? 'transactional'
                : null;
          if (purpose === null) return [];
          return [
            heraldEvent(
              message.customerId,
              'Consent Updated',
              `sms-start:${sid ?? String(nowMs)}:${message.customerId}`,
              // The message it answers: recorded only while that exists (an erasure races it).
              {
                channel: 'sms',
                purpose,
                granted: true,
                source: 'sms-reply',
                messageId: message.id,
              },
              nowMs,
            ),
          ];
        });
        await services.recorder.record(events, nowMs);
      }
      // After what it recorded: a request that failed before is acted on when Twilio retries.
      if ((keyword === 'start' || keyword === 'stop') && !seen && sid !== null)
        await store.transaction((tx) => tx.rememberInbound('twilio', sid, services.clock.nowMs()));
      // Twilio's own opt-out handling answers STOP and START; Herald adds nothing.
      return twiml(reply, null);
    });

    /**
     * Whether the journey a published message came from was ended by an exit event since (a
     * purchase ending the welcome journey); one that ran its course, or ended at its own
     * `exit` step, leaves its content up until it expires.
     */
    const exitedJourneyOf = async (
      published: MessageRecord,
      memberships: () => Promise<Membership[]>,
    ): Promise<boolean> => {
      const journey = (await store.getDecision(published.id))?.journey;
      if (journey === undefined || journey === null) return false;
      const membership = (await memberships()).find((m) => m.journeyId === journey.id);
      if (membership === undefined) return false;
      // Entered again since it was published: the content was an earlier run's, which ended —
      // the new run shows its own when it reaches its web step.
      if (membership.enteredAtMs > published.createdAtMs) return true;
      // An exit event after the run had finished (its last step, then the order).
      if ((membership.exitEventAfterEndMs ?? -1) >= published.createdAtMs) return true;
      return (
        membership.status === 'exited' &&
        endedByEvent(membership.exitReason) &&
        membership.updatedAtMs >= published.createdAtMs
      );
    };
    answerPreflight(scope, '/v1/personalize', ['GET']);
    scope.get<{ Querystring: Record<string, string | undefined> }>(
      '/v1/personalize',
      {
        onSend: allowAnyOrigin,
        // Each named once: `?userId=u&userId=v` would reach the store as a list.
        schema: {
          querystring: Type.Object(
            {
              slot: Type.Optional(Type.String()),
              writeKey: Type.Optional(Type.String()),
              userId: Type.Optional(Type.String()),
              userSignature: Type.Optional(Type.String()),
              anonymousId: Type.Optional(Type.String()),
            },
            { additionalProperties: true },
          ),
        },
      },
      async (request, reply) => {
        const q = request.query;
        const key = q['writeKey'] ?? basicUserOf(request.headers.authorization);
        if (key === undefined || !config.writeKeys.has(key))
          throw new AppError(
            'unauthorized',
            'personalisation needs a write key (HTTP Basic or ?writeKey=)',
          );
        const slot = q['slot'];
        const problems = [
          ...(slot === undefined || slot === '' ? [{ path: '/slot', message: 'is required' }] : []),
          ...(q['userId'] === undefined && q['anonymousId'] === undefined
            ? [{ path: '/userId', message: 'userId or anonymousId is required' }]
            : []),
        ];
        if (problems.length > 0 || slot === undefined)
          throw new AppError('invalid-input', 'the personalisation request is incomplete', {
            problems,
          });
        // The write key is public (it is in the page): a user id must come with the site
        // server's signature of it, or anyone could read any customer's content.
        const userId = q['userId'];
        if (
          userId !== undefined &&
          !verifyUserSignature(services.linkSecret, userId, q['userSignature'])
        )
          throw new AppError(
            'unauthorized',
            'userId needs userSignature: hex HMAC-SHA-256 of "user:" and the userId with HERALD_LINK_SECRET, computed by your server (or send anonymousId)',
          );
        // A verified user is answered as that user. Their anonymous id stands in only while it
        // names no known user (their identify not recorded yet): on a shared computer it names
        // whoever identified on it first, whose content is not theirs to see.
        const byUser = userId === undefined ? undefined : await store.resolveUserId(userId);
        const byVisitor =
          byUser !== undefined || q['anonymousId'] === undefined
            ? undefined
            : await store.resolveAnonymousId(q['anonymousId']);
        // An anonymous id alone is answered as the known user it leads to only when the key's
        // source is verified: with a public key of an unverified source, anyone can link an id
        // of their own to any user id (an identify naming both) and read that user's content.
        const source = config.writeKeys.get(key);
        const linksVouched = source !== undefined && config.verifiedSources.has(source);
        const customerId =
          byUser ??
          ((userId !== undefined || !linksVouched) &&
          byVisitor !== undefined &&
          !isAnonymousCustomerId(byVisitor)
            ? undefined
            : byVisitor);
        const nowMs = services.clock.nowMs();
        const candidates =
          customerId === undefined
            ? []
            : (
                await store.webContent(customerId, slot, nowMs - WEB_MAX_TTL_HOURS * HOUR_MS)
              ).filter((m) => (m.web?.expiresAtMs ?? 0) > nowMs && m.content !== null);
        // Judged again each time it is shown, as a message is at hand-off: an unsubscribe from
        // web marketing or a do-not-sell request since it was published takes it down at once.
        const state =
          candidates.length === 0 || customerId === undefined
            ? undefined
            : (await store.getProfile(customerId))?.state;
        // An offer whose code expired, or copy citing a document that did, comes down too, and
        // so does a journey's content once an exit event ended the journey (a welcome banner
        // after the purchase). The newest that may still be shown is: one taken down leaves the
        // slot to older content that still stands.
        const mayShow = async (published: MessageRecord): Promise<boolean> =>
          !(
            checkAtHandOff(published, state, config.guardPolicy, nowMs) !== null ||
            (state !== undefined &&
              checkTimingAtHandOff(
                published,
                state,
                config.decidePolicy.quietHours,
                config.deliverPolicy.maxLatenessHours,
                nowMs,
              ) !== null) ||
            (published.class === 'marketing' && state !== undefined && optedOutOfSale(state)) ||
            // Last: it reads the store, the checks above the profile already in hand.
            (customerId !== undefined &&
              (await exitedJourneyOf(published, membershipsOf(customerId))))
          );
        // The customer's journeys, read once for all the slot's candidates, when one asks.
        let memberships: Promise<Membership[]> | undefined;
        const membershipsOf = (id: CustomerId) => () => (memberships ??= store.listMemberships(id));
        let live: MessageRecord | undefined;
        for (const candidate of candidates)
          if (await mayShow(candidate)) {
            live = candidate;
            break;
          }
        // Fresh for at most five minutes, and never past the content's own expiry.
        const ttlSeconds =
          live === undefined
            ? 60
            : Math.max(
                1,
                Math.min(
                  300,
                  Math.floor(
                    (Math.min(
                      live.web?.expiresAtMs ?? nowMs,
                      live.offerEndsMs ?? Infinity,
                      live.validUntilMs ?? Infinity,
                    ) -
                      nowMs) /
                      1000,
                  ),
                ),
              );
        void reply.header('cache-control', `private, max-age=${String(ttlSeconds)}`);
        return {
          slot,
          ttlSeconds,
          content:
            live === undefined
              ? null
              : { messageId: live.id, template: live.template, body: live.content?.body ?? '' },
        };
      },
    );
    scope.get('/v1/personalize.js', (_request, reply) =>
      reply
        .type('application/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
        .header('access-control-allow-origin', '*')
        .send(PERSONALIZE_SCRIPT),
    );
    done();
  });
};

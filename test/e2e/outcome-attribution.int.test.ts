// What a provider's report, a click or a relay's refusal is counted against: the attempt it is
// about, mail that may have reached its customer, the address at fault.
import { createSign, generateKeyPairSync } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { signMessageToken, signToken } from '../../src/core/signed-token.js';
import {
  formBodyOf,
  startFakeHttpProvider,
  type FakeHttpProvider,
} from '../support/fake-http-provider.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { postAsTwilio } from '../support/twilio.js';

// 18:00 UTC: out of quiet hours in every US zone (14:00 in New York, 08:00 in Honolulu), where
// a +1 number with no state may be.
const T0 = Date.UTC(2026, 5, 3, 18);
const PUBLIC = 'https://herald.example.com';
const twilioToken = 'twilio-auth-token-0001';
// SendGrid's Signed Event Webhook: an ECDSA P-256 key pair, the public half given to Herald.
const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const sendgridPublicKey = sendgridKeys.publicKey
  .export({ type: 'spki', format: 'der' })
  .toString('base64');

interface MessageView {
  status: string;
  reasonCode: string | null;
  attempts: number;
  sendAt: string;
  providerId: string | null;
}

/** The names of the events recorded on a customer. */
const eventNamesOf = async (herald: TestHerald, userId: string): Promise<string[]> =>
  (await herald.services.store.listEvents(toCustomerId(userId), 100)).map((e) => e.name ?? e.type);

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`what outcomes are counted against (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    /** Twilio and SendGrid at once: each message takes the channel's provider. */
    let provider: FakeHttpProvider;
    let smtpRcptReply: { code: number; words: string } | null;
    let smtp: SMTPServer;
    beforeEach(async () => {
      provider = await startFakeHttpProvider((_scenario, request) => {
        const n = String(provider.requests().length);
        return request.path.startsWith('/v3/mail/send')
          ? { status: 202, headers: { 'x-message-id': `sg-retry-${n}` } }
          : {
              status: 201,
              body: { sid: `SM-retry-${n}`, to: formBodyOf(request).get('To'), status: 'queued' },
            };
      });
      smtpRcptReply = null;
      smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        closeTimeout: 50,
        onRcptTo(_address, _session, callback) {
          if (smtpRcptReply === null) callback();
          else
            callback(
              Object.assign(new Error(smtpRcptReply.words), {
                responseCode: smtpRcptReply.code,
              }),
            );
        },
      });
      smtp.on('error', () => undefined);
      await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
      clock = createVirtualClock(T0);
    });
    afterEach(async () => {
      await herald.close();
      await provider.stop();
      await new Promise<void>((resolve) => {
        smtp.close(() => {
          resolve();
        });
      });
    });

    /** Herald with SMS through Twilio and email through SendGrid, or through the SMTP relay. */
    const start = async (email: 'sendgrid' | 'smtp') => {
      const address = smtp.server.address();
      const smtpPort = typeof address === 'object' && address !== null ? address.port : 0;
      herald = await startHerald(factory, {
        clock,
        configYaml: 'deliver:\n  timeoutSeconds: 0.5\n',
        env: {
          HERALD_PUBLIC_URL: PUBLIC,
          HERALD_TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
          HERALD_TWILIO_AUTH_TOKEN: twilioToken,
          HERALD_TWILIO_FROM: '+15005550006',
          HERALD_TWILIO_BASE_URL: provider.baseUrl,
          HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY: sendgridPublicKey,
          ...(email === 'sendgrid'
            ? { HERALD_SENDGRID_API_KEY: 'SG.test-key', HERALD_SENDGRID_BASE_URL: provider.baseUrl }
            : { HERALD_SMTP_URL: `smtp://127.0.0.1:${String(smtpPort)}` }),
        },
      });
    };
    const admin = (method: 'GET' | 'POST', url: string, body?: object) =>
      adminCall(herald, method, url, body);
    const send = async (userId: string, channel: 'sms' | 'email') =>
      (await admin('POST', '/v1/sends', { userId, channel, template: 'upsell', data: {} })).json<{
        decisionId: string;
        status: string;
        reasonCode: string | null;
      }>();
    const message = async (id: string) =>
      (await admin('GET', `/v1/messages/${id}`)).json<MessageView>();
    /**
     * A message whose first attempt gave up waiting (the provider took it all the same) and
     * whose retry went: sent, with the retry's provider id.
     */
    const sentOnRetry = async (userId: string, channel: 'sms' | 'email') => {
      const { decisionId } = await send(userId, channel);
      provider.setScenario('hang');
      await herald.services.dispatcher.runDue();
      const waiting = await message(decisionId);
      expect(waiting).toMatchObject({ status: 'queued', attempts: 1, providerId: null });
      provider.setScenario('accept');
      clock.set(Date.parse(waiting.sendAt));
      await herald.services.dispatcher.runDue();
      const sent = await message(decisionId);
      expect(sent).toMatchObject({ status: 'sent', attempts: 2 });
      return { decisionId, providerId: sent.providerId ?? '' };
    };
    const twilioStatus = (decisionId: string, fields: Record<string, string>) =>
      postAsTwilio(
        herald,
        { publicUrl: PUBLIC, token: twilioToken },
        `/webhooks/twilio/status?message=${encodeURIComponent(decisionId)}`,
        new URLSearchParams(fields),
      );
    const sendgridEvents = (events: object[]) => {
      const payload = JSON.stringify(events);
      const timestamp = String(Math.floor(clock.nowMs() / 1000));
      return herald.app.inject({
        method: 'POST',
        url: '/webhooks/sendgrid',
        headers: {
          'content-type': 'application/json',
          'x-twilio-email-event-webhook-timestamp': timestamp,
          'x-twilio-email-event-webhook-signature': createSign('sha256')
            .update(timestamp + payload)
            .sign(sendgridKeys.privateKey)
            .toString('base64'),
        },
        payload,
      });
    };

    describe('a failure report about an attempt a retry superseded', () => {
      it('keeps a text sent when Twilio reports the attempt that gave up waiting undelivered', async () => {
        await start('smtp');
        await ingestCall(herald, clock, 'identify', {
          userId: 'ann',
          traits: { phone: '+14155550142', consent: { sms: { marketing: true } } },
        });
        const sent = await sentOnRetry('ann', 'sms');
        const late = await twilioStatus(sent.decisionId, {
          MessageSid: 'SM-first-attempt',
          MessageStatus: 'undelivered',
          ErrorCode: '30003',
          To: '+14155550142',
        });
        expect(late.statusCode).toBe(204);
        await twilioStatus(sent.decisionId, {
          MessageSid: sent.providerId,
          MessageStatus: 'delivered',
          To: '+14155550142',
        });
        expect(await message(sent.decisionId)).toMatchObject({
          status: 'sent',
          providerId: sent.providerId,
        });
        const names = await eventNamesOf(herald, 'ann');
        expect(names).toContain('SMS Delivered');
        expect(names).not.toContain('SMS Undelivered');
      });

      it('does not mark the number unreachable from Twilio’s 30005 about that attempt', async () => {
        await start('smtp');
        await ingestCall(herald, clock, 'identify', {
          userId: 'bo',
          traits: { phone: '+14155550143', consent: { sms: { marketing: true } } },
        });
        const sent = await sentOnRetry('bo', 'sms');
        await twilioStatus(sent.decisionId, {
          MessageSid: 'SM-first-attempt',
          MessageStatus: 'undelivered',
          ErrorCode: '30005',
          To: '+14155550143',
        });
        expect((await message(sent.decisionId)).status).toBe('sent');
        clock.set(clock.nowMs() + 60_000);
        expect(await send('bo', 'sms')).toMatchObject({ status: 'queued', reasonCode: null });
        // Its audit entry says what came, and that it changed nothing.
        const results = (await herald.services.store.scanAudit(0, 1000))
          .filter((e) => e.kind === 'result')
          .map((e) => JSON.parse(e.data) as Record<string, unknown>)
          .filter((data) => data['decisionId'] === sent.decisionId);
        expect(results).toContainEqual(
          expect.objectContaining({ result: 'undelivered', reason: expect.any(String) }),
        );
        expect(results.some((data) => data['status'] === 'failed')).toBe(false);
      });

      it('still fails a text and marks its number when Twilio reports the recorded attempt undelivered', async () => {
        await start('smtp');
        await ingestCall(herald, clock, 'identify', {
          userId: 'cy',
          traits: { phone: '+14155550144', consent: { sms: { marketing: true } } },
        });
        const sent = await sentOnRetry('cy', 'sms');
        await twilioStatus(sent.decisionId, {
          MessageSid: sent.providerId,
          MessageStatus: 'undelivered',
          ErrorCode: '30005',
          To: '+14155550144',
        });
        expect((await message(sent.decisionId)).status).toBe('failed');
        expect(await send('cy', 'sms')).toMatchObject({
          status: 'blocked',
          reasonCode: 'no_recipient',
        });
      });

      it('keeps an email sent, counting no hard bounce, when SendGrid reports that attempt bounced', async () => {
        await start('sendgrid');
        await ingestCall(herald, clock, 'identify', {
          userId: 'di',
          traits: { email: 'di@example.com', consent: { email: { marketing: true } } },
        });
        const sent = await sentOnRetry('di', 'email');
        const bounce = (sgMessageId: string, eventId: string) => ({
          email: 'di@example.com',
          timestamp: Math.floor(clock.nowMs() / 1000),
          event: 'bounce',
          type: 'bounce',
          reason: '550 5.1.1 no such user',
          sg_event_id: eventId,
          // SendGrid appends the filter that handled it to the id it answered the send with.
          sg_message_id: `${sgMessageId}.filterdrecv-5645d9c87f-abcde-1-0`,
          herald_message_id: sent.decisionId,
        });
        const late = await sendgridEvents([bounce('sg-first-attempt', 'ev-1')]);
        expect(late.statusCode).toBe(200);
        expect(await message(sent.decisionId)).toMatchObject({ status: 'sent' });
        const profile = async () =>
          (await admin('GET', '/v1/profiles/di')).json<{ email?: { hardBounces?: number } }>();
        expect((await profile()).email?.hardBounces ?? 0).toBe(0);
        // The recorded attempt's own bounce is the message's.
        await sendgridEvents([bounce(sent.providerId, 'ev-2')]);
        expect(await message(sent.decisionId)).toMatchObject({ status: 'bounced' });
        expect((await profile()).email?.hardBounces).toBe(1);
      });
    });

    describe('a click', () => {
      it('takes the customer to the link of a message that never left, counting no click', async () => {
        await start('smtp');
        await ingestCall(herald, clock, 'identify', {
          userId: 'ed',
          traits: { email: 'ed@example.com', consent: { email: { marketing: true } } },
        });
        const { decisionId, status } = await send('ed', 'email');
        expect(status).toBe('queued');
        const secret = herald.services.linkSecret;
        const click = () =>
          herald.app.inject({
            url: `/t/c/${signToken(secret, JSON.stringify({ m: decisionId, u: 'https://shop.example.com/p/1' }))}`,
          });
        const waiting = await click();
        expect(waiting.statusCode).toBe(302);
        expect(waiting.headers.location).toBe('https://shop.example.com/p/1');
        const open = await herald.app.inject({
          url: `/t/o/${signMessageToken(secret, 'o', decisionId)}.gif`,
        });
        expect(open.statusCode).toBe(200);
        expect(await eventNamesOf(herald, 'ed')).not.toContain('Email Link Clicked');
        const unsent = await herald.services.store.getMessage(decisionId);
        expect(unsent?.status).toBe('queued');
        // Once it went, the same link counts.
        await herald.services.dispatcher.runDue();
        expect((await click()).statusCode).toBe(302);
        const names = await eventNamesOf(herald, 'ed');
        expect(names.filter((n) => n === 'Email Link Clicked')).toHaveLength(1);
      });
    });

    describe('a relay that refuses the sender at RCPT', () => {
      it.each([
        [
          'Postfix',
          553,
          '5.1.8 <marketing@example.com>: Sender address rejected: Domain not found',
        ],
        ['Microsoft 365', 550, '5.1.8 Access denied, bad outbound sender'],
      ])(
        'puts the message back unsent and counts no hard bounce against the recipient (%s)',
        async (_relay, code, words) => {
          await start('smtp');
          smtpRcptReply = { code, words };
          await ingestCall(herald, clock, 'identify', {
            userId: 'fay',
            traits: { email: 'fay@example.org', consent: { email: { marketing: true } } },
          });
          const { decisionId } = await send('fay', 'email');
          await herald.services.dispatcher.runDue();
          expect(await message(decisionId)).toMatchObject({
            status: 'queued',
            reasonCode: null,
            attempts: 0,
          });
          expect(await eventNamesOf(herald, 'fay')).not.toContain('Email Bounced');
        },
      );
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import {
  formBodyOf,
  startFakeHttpProvider,
  type FakeAnswer,
  type FakeHttpProvider,
} from '../support/fake-http-provider.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { postAsTwilio, TWILIO_ACCOUNT_SID, twilioEnv, TWILIO_TOKEN } from '../support/twilio.js';
import { receiptTemplate } from '../support/builders.js';

// 18:00 UTC: out of quiet hours in every US zone (14:00 in New York, 08:00 in Honolulu), where
// a +1 number with no state may be.
const T0 = Date.UTC(2026, 5, 3, 18);
const PUBLIC = 'https://herald.example.com';
const accountSid = TWILIO_ACCOUNT_SID;
const twilioToken = TWILIO_TOKEN;

const twilioError = (code: number, message: string): FakeAnswer => ({
  status: 400,
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status: 400 },
});

/** Twilio's Create Message answer for the message it was asked to create. */
const created = (sid: string, to: string | null): FakeAnswer => ({
  status: 201,
  body: { sid, account_sid: accountSid, to, status: 'queued', error_code: null },
});

interface MessageView {
  status: string;
  reasonCode: string | null;
  attempts: number;
  sendAt: string;
  providerId: string | null;
}

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`sending SMS through Twilio (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    let twilio: FakeHttpProvider;
    /** How Twilio answers the next Create Message requests; created (201) when null. */
    let refusal: FakeAnswer | null;
    /** Whether Twilio's 201 loses its body on the way (a reset after the status line). */
    let cutBody: boolean;
    beforeEach(async () => {
      refusal = null;
      cutBody = false;
      twilio = await startFakeHttpProvider((_scenario, request) => {
        if (refusal !== null) return refusal;
        const sid = `SM${String(twilio.requests().length).padStart(32, '0')}`;
        const answer = created(sid, formBodyOf(request).get('To'));
        return cutBody ? { ...answer, cutBody: true } : answer;
      });
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, {
        clock,
        templates: { receipt: receiptTemplate },
        env: {
          HERALD_PUBLIC_URL: PUBLIC,
          HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
          ...twilioEnv(twilio.baseUrl),
        },
      });
    });
    afterEach(async () => {
      await herald.close();
      await twilio.stop();
    });

    const admin = (method: 'GET' | 'POST', url: string, body?: object) =>
      adminCall(herald, method, url, body);
    const identify = (userId: string, traits: object) =>
      ingestCall(herald, clock, 'identify', { userId, traits });
    const send = async (userId: string, template: string) =>
      (await admin('POST', '/v1/sends', { userId, channel: 'sms', template, data: {} })).json<{
        decisionId: string;
        status: string;
        reasonCode: string | null;
      }>();
    const message = async (id: string) =>
      (await admin('GET', `/v1/messages/${id}`)).json<MessageView>();
    const sendsTo = (to: string) => twilio.requests().filter((r) => formBodyOf(r).get('To') === to);
    /** An inbound SMS, signed as Twilio signs it. */
    const textIn = (from: string, body: string, sid: string) =>
      postAsTwilio(
        herald,
        { publicUrl: PUBLIC, token: twilioToken },
        '/webhooks/twilio/inbound',
        new URLSearchParams({ From: from, Body: body, MessageSid: sid }),
      );

    it('tries a text again ten minutes after Twilio’s queue for the number was full (21611)', async () => {
      await identify('bo', { phone: '+14155550143', consent: { sms: { marketing: true } } });
      const { decisionId } = await send('bo', 'upsell');
      refusal = twilioError(
        21611,
        "This 'From' number has exceeded the maximum number of queued messages",
      );
      await herald.services.dispatcher.runDue();
      const waiting = await message(decisionId);
      expect(waiting).toMatchObject({ status: 'queued', attempts: 1 });
      expect(Date.parse(waiting.sendAt) - clock.nowMs()).toBeGreaterThanOrEqual(10 * 60_000);
      // The queue drains: the next attempt, once its wait is over, goes.
      refusal = null;
      clock.set(Date.parse(waiting.sendAt));
      await herald.services.dispatcher.runDue();
      expect(await message(decisionId)).toMatchObject({ status: 'sent', attempts: 2 });
      expect(sendsTo('+14155550143')).toHaveLength(2);
    });

    it('pauses SMS, dead-lettering nothing, when the account reached its daily limit (63038)', async () => {
      await identify('bea', { phone: '+14155550147', consent: { sms: { marketing: true } } });
      const { decisionId } = await send('bea', 'upsell');
      refusal = twilioError(63038, 'Account exceeded the daily messages limit');
      await herald.services.dispatcher.runDue();
      expect(await message(decisionId)).toMatchObject({ status: 'queued', attempts: 0 });
      expect(herald.services.dispatcher.circuits()).toMatchObject({ twilio: 'open' });
    });

    it('sends to a number Twilio had refused (21610) again once it texts START, granting no marketing', async () => {
      // Ann takes marketing texts; Ray gave his number for receipts alone.
      await identify('ann', { phone: '+14155550142', consent: { sms: { marketing: true } } });
      await identify('ray', { phone: '+14155550148' });
      refusal = twilioError(21610, 'Attempt to send to unsubscribed recipient');
      const refused = [await send('ann', 'upsell'), await send('ray', 'receipt')];
      await herald.services.dispatcher.runDue();
      for (const { decisionId } of refused)
        expect(await message(decisionId)).toMatchObject({
          status: 'failed',
          reasonCode: 'unreachable',
        });
      expect(await send('ann', 'upsell')).toMatchObject({ reasonCode: 'no_recipient' });
      expect(await send('ray', 'receipt')).toMatchObject({ reasonCode: 'no_recipient' });

      // Each texts START: Twilio takes the number off its opt-out list.
      refusal = null;
      clock.set(clock.nowMs() + 60_000);
      expect((await textIn('+14155550142', 'START', 'SM-start-ann')).statusCode).toBe(200);
      expect((await textIn('+14155550148', 'Start', 'SM-start-ray')).statusCode).toBe(200);
      clock.set(clock.nowMs() + 60_000);
      const again = [await send('ann', 'upsell'), await send('ray', 'receipt')];
      expect(again.map((s) => s.status)).toEqual(['queued', 'queued']);
      await herald.services.dispatcher.runDue();
      for (const { decisionId } of again)
        expect(await message(decisionId)).toMatchObject({ status: 'sent' });
      // Ray's START opened his number, and is no consent to marketing.
      expect(await send('ray', 'upsell')).toMatchObject({ reasonCode: 'no_consent' });
      const consent = (await admin('GET', '/v1/profiles/ray')).json<{
        consent: { sms?: Record<string, { granted: boolean; source: string }> };
      }>().consent;
      expect(consent.sms?.['marketing']).toBeUndefined();
    });

    it('takes a YES to a text as marketing again only from someone who had texted STOP', async () => {
      // Dee declined marketing texts at signup, Eli unsubscribed from every channel, Fay took
      // them and texted STOP. Each gets a receipt ("reply YES to confirm your slot").
      await identify('dee', { phone: '+14155550151', consent: { sms: { marketing: false } } });
      await identify('eli', { phone: '+14155550152' });
      await ingestCall(herald, clock, 'track', {
        userId: 'eli',
        event: 'Unsubscribed',
        properties: { channel: 'all' },
      });
      await identify('fay', { phone: '+14155550153', consent: { sms: { marketing: true } } });
      for (const userId of ['dee', 'eli', 'fay']) await send(userId, 'receipt');
      await herald.services.dispatcher.runDue();
      clock.set(clock.nowMs() + 60_000);
      await textIn('+14155550153', 'STOP', 'SM-stop-fay');
      clock.set(clock.nowMs() + 60_000);
      await textIn('+14155550151', 'Yes', 'SM-yes-dee');
      await textIn('+14155550152', 'YES', 'SM-yes-eli');
      await textIn('+14155550153', 'Yes', 'SM-yes-fay');
      clock.set(clock.nowMs() + 60_000);
      expect(await send('dee', 'upsell')).toMatchObject({ reasonCode: 'unsubscribed' });
      expect(await send('eli', 'upsell')).toMatchObject({ reasonCode: 'unsubscribed' });
      expect(await send('fay', 'upsell')).toMatchObject({ status: 'queued' });
      expect(await smsMarketing('dee')).toBe(false);
    });

    it('restores marketing on START only to someone whose STOP withdrew a grant', async () => {
      // Hal gave his number for receipts alone, Ida declined marketing texts at signup, Jo took
      // them. Each gets a receipt, texts STOP, then START.
      await identify('hal', { phone: '+14155550161' });
      await identify('ida', { phone: '+14155550162', consent: { sms: { marketing: false } } });
      await identify('jo', { phone: '+14155550163', consent: { sms: { marketing: true } } });
      for (const userId of ['hal', 'ida', 'jo']) await send(userId, 'receipt');
      await herald.services.dispatcher.runDue();
      const numbers = { hal: '+14155550161', ida: '+14155550162', jo: '+14155550163' };
      clock.set(clock.nowMs() + 60_000);
      for (const [who, number] of Object.entries(numbers))
        await textIn(number, 'STOP', `SM-stop-${who}`);
      clock.set(clock.nowMs() + 60_000);
      for (const [who, number] of Object.entries(numbers))
        await textIn(number, 'START', `SM-start-${who}`);
      clock.set(clock.nowMs() + 60_000);
      expect((await send('hal', 'upsell')).status).toBe('blocked');
      expect((await send('ida', 'upsell')).status).toBe('blocked');
      expect(await send('jo', 'upsell')).toMatchObject({ status: 'queued' });
      expect(await smsMarketing('hal')).toBe(false);
      expect(await smsMarketing('ida')).toBe(false);
    });

    it('reads a YES spelt with stops or spaces as the YES it is: it undoes no preference-centre opt-out', async () => {
      await identify('kit', { phone: '+14155550164', consent: { sms: { marketing: true } } });
      await send('kit', 'receipt');
      await herald.services.dispatcher.runDue();
      await ingestCall(herald, clock, 'track', {
        userId: 'kit',
        event: 'Unsubscribed',
        properties: { channel: 'sms' },
      });
      clock.set(clock.nowMs() + 60_000);
      await textIn('+14155550164', 'Y.E.S', 'SM-yes-kit');
      clock.set(clock.nowMs() + 60_000);
      expect(await send('kit', 'upsell')).toMatchObject({ reasonCode: 'unsubscribed' });
    });

    it('keeps a number reopened by START open when identify traits restate consent later', async () => {
      await identify('cam', { phone: '+14155550149', consent: { sms: { marketing: true } } });
      refusal = twilioError(21610, 'Attempt to send to unsubscribed recipient');
      await send('cam', 'upsell');
      await herald.services.dispatcher.runDue();
      // Cam turns SMS offers off in the preference centre, then texts START.
      await ingestCall(herald, clock, 'track', {
        userId: 'cam',
        event: 'Consent Updated',
        properties: { channel: 'sms', purpose: 'marketing', granted: false },
      });
      refusal = null;
      clock.set(clock.nowMs() + 60_000);
      await textIn('+14155550149', 'START', 'SM-start-cam');
      // The CRM's nightly sync sends every trait again, consent included: what consent holds
      // is now the traits' fact, and the number's START is kept beside it.
      clock.set(clock.nowMs() + 60_000);
      await identify('cam', { phone: '+14155550149', consent: { sms: { marketing: true } } });
      expect(await send('cam', 'receipt')).toMatchObject({ status: 'queued' });
    });

    const post = (path: string, params: Record<string, string>) =>
      postAsTwilio(
        herald,
        { publicUrl: PUBLIC, token: twilioToken },
        path,
        new URLSearchParams(params),
      );
    const smsMarketing = async (userId: string) =>
      (await admin('GET', `/v1/profiles/${userId}`)).json<{
        consent: { sms?: { marketing?: { granted: boolean } } };
      }>().consent.sms?.marketing?.granted;

    it('keeps a number Twilio reports unreachable as it was texted, a trait without its +1 too', async () => {
      await identify('al', { phone: '(415) 555-0123' });
      const { decisionId } = await send('al', 'receipt');
      await herald.services.dispatcher.runDue();
      expect(sendsTo('4155550123')).toHaveLength(1);
      clock.set(clock.nowMs() + 60_000);
      const reported = await post(`/webhooks/twilio/status?message=${decisionId}`, {
        MessageSid: (await message(decisionId)).providerId ?? '',
        MessageStatus: 'undelivered',
        ErrorCode: '30005',
        To: '+14155550123',
        From: '+15005550006',
      });
      expect(reported.statusCode).toBe(204);
      // Twilio's To is E.164; the number texted was the trait's digits (before: kept under the
      // E.164 form, which the next send never compared, so it was texted again).
      clock.set(clock.nowMs() + 60_000);
      expect(await send('al', 'receipt')).toMatchObject({ reasonCode: 'no_recipient' });
    });

    it('hears a STOP for a number written with its trunk 0, and one Twilio’s Advanced Opt-Out took', async () => {
      await identify('uk', { phone: '+44 (0)7911 123456', consent: { sms: { marketing: true } } });
      await identify('fr', { phone: '+14155550177', consent: { sms: { marketing: true } } });
      await send('uk', 'upsell');
      await send('fr', 'upsell');
      await herald.services.dispatcher.runDue();
      clock.set(clock.nowMs() + 60_000);
      // From the E.164 number, the trunk 0 gone.
      await post('/webhooks/twilio/inbound', {
        From: '+447911123456',
        To: '+15005550006',
        Body: 'STOP',
        MessageSid: 'SM-stop-uk',
      });
      // A keyword Twilio was told to take for STOP, in another language: it says so.
      await post('/webhooks/twilio/inbound', {
        From: '+14155550177',
        To: '+15005550006',
        Body: 'ARRÊT',
        OptOutType: 'STOP',
        MessageSid: 'SM-stop-fr',
      });
      clock.set(clock.nowMs() + 60_000);
      expect([await smsMarketing('uk'), await smsMarketing('fr')]).toEqual([false, false]);
    });

    it('answers HELP with how to stop, unless Twilio’s Advanced Opt-Out answered it', async () => {
      const help = async (fields: Record<string, string>) =>
        (
          await post('/webhooks/twilio/inbound', {
            From: '+14155550178',
            To: '+15005550006',
            MessageSid: `SM-help-${String(Object.keys(fields).length)}`,
            ...fields,
          })
        ).body;
      expect(await help({ Body: 'help' })).toContain(
        '<Message>Herald Store: reply STOP to unsubscribe, START to resubscribe.</Message>',
      );
      // Twilio sent the Messaging Service's help text: a second answer was Herald's.
      expect(await help({ Body: 'AIDE', OptOutType: 'HELP' })).toBe(
        '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
      );
    });

    it('sends a text once when Twilio’s 201 loses its body on the way', async () => {
      await identify('cy', { phone: '+14155550144', consent: { sms: { marketing: true } } });
      const { decisionId } = await send('cy', 'upsell');
      cutBody = true;
      await herald.services.dispatcher.runDue();
      expect(await message(decisionId)).toMatchObject({ status: 'sent', attempts: 1 });
      clock.set(clock.nowMs() + 3_600_000);
      await herald.services.dispatcher.runDue();
      expect(sendsTo('+14155550144')).toHaveLength(1);
    });
  });
}

import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import type { CustomerId } from '../../src/core/ids.js';
import {
  jsonBodyOf,
  startFakeHttpProvider,
  type CapturedRequest,
  type FakeAnswer,
  type FakeHttpProvider,
} from '../support/fake-http-provider.js';
import { ingestCall, startHerald, type TestHerald, adminCall } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);

/**
 * The templates this WhatsApp Business account has at Meta: name → language → the number of
 * body variables. Meta answers 132001 for a name or language it does not have and 132000 when
 * the variables do not match (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
 */
const atMeta: Record<string, Record<string, number>> = {
  order_shipped: { de: 2, en_US: 2 },
  spring_sale: { en_US: 1 },
};

/** A number whose owner stopped this business's marketing in WhatsApp: Meta answers 131050. */
const STOPPED_MARKETING = '+4915100000050';
const OPTED_OUT_WORDS =
  'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business';

const APP_SECRET = 'meta-app-secret-0123456789';
const VERIFY_TOKEN = 'herald-verify-7';

const graphError = (status: number, code: number, message: string): FakeAnswer => ({
  status,
  body: { error: { message, type: 'OAuthException', code, fbtrace_id: 'AbC' } },
});

/** While set, the Cloud API answers every send with its throughput limit (130429). */
let throttled = false;
/** While set, the connection drops after the answer's head: Meta took the message. */
let cutBody = false;

/** Answers a send as the Cloud API does, checking the template against `atMeta`. */
const meta = (_: unknown, request: CapturedRequest): FakeAnswer => {
  if (throttled) return graphError(429, 130429, '(#130429) Rate limit hit');
  const body = jsonBodyOf(request) as {
    to: string;
    template: {
      name: string;
      language: { code: string };
      components?: { type: string; parameters: { type: string; text: string }[] }[];
    };
  };
  if (body.to === STOPPED_MARKETING && body.template.name === 'spring_sale')
    return graphError(400, 131050, OPTED_OUT_WORDS);
  const expected = atMeta[body.template.name]?.[body.template.language.code];
  if (expected === undefined)
    return graphError(404, 132001, '(#132001) Template name does not exist in the translation');
  const given = body.template.components?.find((c) => c.type === 'body')?.parameters ?? [];
  if (given.length !== expected || given.some((p) => p.text.trim() === ''))
    return graphError(
      400,
      132000,
      '(#132000) Number of parameters does not match the expected number of params',
    );
  return {
    status: 200,
    ...(cutBody ? { cutBody: true as const } : {}),
    body: {
      messaging_product: 'whatsapp',
      contacts: [{ input: body.to, wa_id: body.to.slice(1) }],
      messages: [{ id: `wamid.${String(Date.now())}` }],
    },
  };
};

const shippedYaml = `class: transactional
topic: null
text: "Hallo {{ customer.firstName }}, Ihre Bestellung {{ details.orderId }} ist unterwegs."
whatsapp:
  name: order_shipped
  language: "{{ customer.traits.whatsappLanguage | default: 'en_US' }}"
  parameters:
    - "{{ customer.firstName }}"
    - "{{ details.orderId }}"
`;

const saleYaml = `class: marketing
topic: promotions
text: "Hi {{ customer.firstName }}, our spring sale is on."
whatsapp:
  name: spring_sale
  language: en_US
  parameters:
    - "{{ customer.firstName }}"
`;

// WhatsApp Business policy: an opt-in before any message, an order update too.
const optedIn = { consent: { whatsapp: { transactional: true } } };
const optedInToAll = { consent: { whatsapp: { transactional: true, marketing: true } } };

interface MessageView {
  id: string;
  status: string;
  reasonCode: string | null;
  provider: string | null;
  content: { body: string; whatsapp?: unknown } | null;
}

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`WhatsApp templates end to end (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    let provider: FakeHttpProvider;
    let dir: string;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      provider = await startFakeHttpProvider(meta);
      dir = mkdtempSync(join(tmpdir(), 'herald-wa-'));
      writeFileSync(join(dir, 'order-shipped.yaml'), shippedYaml);
      writeFileSync(join(dir, 'spring-sale.yaml'), saleYaml);
      herald = await startHerald(factory, {
        clock,
        env: {
          HERALD_TEMPLATES_DIR: dir,
          HERALD_WHATSAPP_ACCESS_TOKEN: 'EAAG-test-token',
          HERALD_WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
          HERALD_WHATSAPP_BASE_URL: provider.baseUrl,
          HERALD_WHATSAPP_APP_SECRET: APP_SECRET,
          HERALD_WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
        },
        configYaml: 'guard:\n  whatsappApprovedTemplates: [order_shipped, spring_sale]\n',
      });
    });
    afterEach(async () => {
      throttled = false;
      cutBody = false;
      await herald.close();
      await provider.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const admin = (method: 'GET' | 'POST', url: string, body?: object) =>
      adminCall(herald, method, url, body);
    const send = async (userId: string, data: object, template = 'order-shipped') =>
      (
        await admin('POST', '/v1/sends', {
          userId,
          channel: 'whatsapp',
          template,
          data,
        })
      ).json<{ decisionId: string; status: string; reasonCode: string | null }>();
    const message = async (id: string) =>
      (await admin('GET', `/v1/messages/${id}`)).json<MessageView>();

    it('sends the approved template by its name at Meta, in the customer’s language, with its variables', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'ada',
        traits: { phone: '+4915112345678', firstName: 'Ada', whatsappLanguage: 'de', ...optedIn },
      });
      const sent = await send('ada', { orderId: 'A-1001' });
      expect(sent.status).toBe('queued');
      expect(await herald.services.dispatcher.runDue()).toBe(1);
      expect(jsonBodyOf(provider.lastRequest())).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: '+4915112345678',
        type: 'template',
        template: {
          name: 'order_shipped',
          language: { code: 'de' },
          components: [
            {
              type: 'body',
              parameters: [
                { type: 'text', text: 'Ada' },
                { type: 'text', text: 'A-1001' },
              ],
            },
          ],
        },
        // The message and its attempt.
        biz_opaque_callback_data: `${sent.decisionId}#1`,
      });
      expect(await message(sent.decisionId)).toMatchObject({
        status: 'sent',
        provider: 'whatsapp',
      });
    });

    it('blocks, naming the variable, a message Meta would refuse for an empty one', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'bo',
        traits: { phone: '+4915112345679', ...optedIn },
      });
      const sent = await send('bo', { orderId: 'A-1002' });
      expect(sent).toMatchObject({ status: 'blocked', reasonCode: 'whatsapp_parameter_missing' });
      expect(await herald.services.dispatcher.runDue()).toBe(0);
      expect(provider.requests()).toHaveLength(0);
    });

    it('refuses a reviewer’s edit of a WhatsApp message, whose copy is Meta’s, and sends it approved as is', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'cy',
        traits: { phone: '+4915112345670', firstName: 'Cy', ...optedIn },
      });
      // A customer worth more than $5,000: every message to them waits for a person.
      await ingestCall(herald, clock, 'track', {
        userId: 'cy',
        event: 'Order Completed',
        properties: { order_id: 'o-1', revenue: 6000, currency: 'USD' },
      });
      const sent = await send('cy', { orderId: 'A-1003' });
      expect(sent.status).toBe('review');
      const edit = await admin('POST', `/v1/reviews/${sent.decisionId}/approve`, {
        reason: 'friendlier',
        edits: { body: 'Hi Cy! Your order is coming.' },
      });
      expect(edit.statusCode).toBe(400);
      expect(edit.body).toContain('WhatsApp');
      expect((await message(sent.decisionId)).status).toBe('review');
      const approved = await admin('POST', `/v1/reviews/${sent.decisionId}/approve`, {
        reason: 'fine',
      });
      expect(approved.statusCode).toBe(200);
      expect(await herald.services.dispatcher.runDue()).toBe(1);
      expect(jsonBodyOf(provider.lastRequest())).toMatchObject({
        template: { name: 'order_shipped', language: { code: 'en_US' } },
      });
    });

    const profileOf = async (userId: string) => {
      const view = (await admin('GET', `/v1/profiles/${userId}`)).json<{
        customerId: string;
        consent: Record<string, Record<string, { granted: boolean; source: string }>>;
        marketingStops?: Record<string, string>;
      }>();
      const stored = await herald.services.store.getProfile(view.customerId as CustomerId);
      return { ...view, unreachable: stored?.state.unreachable };
    };
    /** Sends `userId` a message and returns it as sent, with the `wamid` Meta answered. */
    const sentTo = async (userId: string, phone: string, template = 'order-shipped') => {
      await ingestCall(herald, clock, 'identify', {
        userId,
        traits: { phone, firstName: 'Kim', ...optedInToAll },
      });
      const sent = await send(userId, { orderId: 'A-2001' }, template);
      expect(sent.status).toBe('queued');
      expect(await herald.services.dispatcher.runDue()).toBe(1);
      const message = await herald.services.store.getMessage(sent.decisionId);
      expect(message).toMatchObject({ status: 'sent', provider: 'whatsapp' });
      return { id: sent.decisionId, wamid: message?.providerId ?? '' };
    };
    /** A status webhook as Meta posts it, signed with `secret`. */
    const postStatuses = (statuses: object[], secret = APP_SECRET) => {
      const payload = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '102290129340398',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: {
                    display_phone_number: '15550783881',
                    phone_number_id: '106540352242922',
                  },
                  statuses,
                },
              },
            ],
          },
        ],
      });
      const signature = `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;
      return herald.app.inject({
        method: 'POST',
        url: '/webhooks/whatsapp',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
        payload,
      });
    };
    const failed = (wamid: string, recipient: string, code: number, title: string) => ({
      id: wamid,
      status: 'failed',
      timestamp: String(Math.floor(clock.nowMs() / 1000)),
      recipient_id: recipient.slice(1),
      errors: [{ code, title, message: title, error_data: { details: title } }],
    });

    it("finds a message by the id its send carried when Meta's answer never arrived", async () => {
      const phone = '+4915112345678';
      await ingestCall(herald, clock, 'identify', {
        userId: 'kim',
        traits: { phone, firstName: 'Kim', ...optedIn },
      });
      cutBody = true;
      const sent = await send('kim', { orderId: 'A-2001' });
      await herald.services.dispatcher.runDue();
      // Taken by Meta, its `wamid` lost with the answer's body.
      expect(await herald.services.store.getMessage(sent.decisionId)).toMatchObject({
        status: 'sent',
        providerId: null,
      });
      const request = jsonBodyOf(provider.requests()[0]) as { biz_opaque_callback_data?: string };
      expect(request.biz_opaque_callback_data).toBe(`${sent.decisionId}#1`);
      // Meta's status names the `wamid` Herald never saw, and echoes the id the send carried.
      const answer = await postStatuses([
        {
          ...failed('wamid.never-seen', phone, 131026, 'Message undeliverable'),
          biz_opaque_callback_data: request.biz_opaque_callback_data,
        },
      ]);
      expect(answer.json()).toMatchObject({ recorded: 1 });
      expect(await message(sent.decisionId)).toMatchObject({ status: 'failed' });
      expect((await profileOf('kim')).unreachable).toHaveProperty('whatsapp');
    });

    it('stops WhatsApp marketing, and nothing else, for a number Meta says stopped it', async () => {
      // Opted in to marketing alone: on WhatsApp that opt-in lets order updates go too.
      await ingestCall(herald, clock, 'identify', {
        userId: 'eve',
        traits: {
          phone: STOPPED_MARKETING,
          firstName: 'Eve',
          consent: { whatsapp: { marketing: true } },
        },
      });
      const sale = await send('eve', {}, 'spring-sale');
      expect(sale.status).toBe('queued');
      // Tried, and not sent.
      expect(await herald.services.dispatcher.runDue()).toBe(0);
      expect(provider.requests()).toHaveLength(1);
      expect(await message(sale.decisionId)).toMatchObject({
        status: 'failed',
        reasonCode: 'opted_out',
      });
      const profile = await profileOf('eve');
      // Consent as the customer gave it: the stop is WhatsApp's setting, not an opt-out here.
      expect(profile.consent['whatsapp']?.['marketing']?.granted).toBe(true);
      expect(profile.unreachable).toBeUndefined();
      expect(profile.marketingStops).toEqual({ whatsapp: new Date(clock.nowMs()).toISOString() });
      // The next sale is not sent; the order update is.
      expect(await send('eve', {}, 'spring-sale')).toMatchObject({
        status: 'blocked',
        reasonCode: 'unsubscribed',
      });
      expect(await send('eve', { orderId: 'A-3001' })).toMatchObject({
        status: 'queued',
        reasonCode: null,
      });
      // Opted in again, explicitly, after the stop: marketing goes again.
      clock.advance(60_000);
      await ingestCall(herald, clock, 'track', {
        userId: 'eve',
        event: 'Consent Updated',
        properties: {
          channel: 'whatsapp',
          purpose: 'marketing',
          granted: true,
          source: 'preferences',
        },
      });
      expect((await send('eve', {}, 'spring-sale')).status).toBe('queued');
    });

    it('keeps an opt-out of every WhatsApp message over a marketing stop reported after it', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'flo',
        traits: { phone: STOPPED_MARKETING, firstName: 'Flo', ...optedInToAll },
      });
      expect((await send('flo', {}, 'spring-sale')).status).toBe('queued');
      await herald.services.dispatcher.runDue();
      // The customer's own opt-out of the channel arrives late, dated before Meta's report.
      await ingestCall(herald, clock, 'track', {
        userId: 'flo',
        event: 'Consent Updated',
        properties: {
          channel: 'whatsapp',
          purpose: 'marketing',
          granted: false,
          source: 'preferences',
        },
        timestamp: new Date(clock.nowMs() - 10 * 60_000).toISOString(),
      });
      // An opt-out of the channel covers order updates on WhatsApp, stop or no stop.
      expect(await send('flo', { orderId: 'A-3002' })).toMatchObject({
        status: 'blocked',
        reasonCode: 'unsubscribed',
      });
    });

    it("answers Meta's check of the callback URL with the configured verify token only", async () => {
      const check = (token: string) =>
        herald.app.inject({
          method: 'GET',
          url: `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444`,
        });
      const ok = await check(VERIFY_TOKEN);
      expect([ok.statusCode, ok.body]).toEqual([200, '1158201444']);
      expect((await check('guess')).statusCode).toBe(403);
    });

    it('refuses a status webhook not signed with the App Secret, and records nothing', async () => {
      const { id, wamid } = await sentTo('fay', '+4915112340001');
      const forged = await postStatuses(
        [failed(wamid, '+4915112340001', 131026, 'Message undeliverable')],
        'not-the-secret',
      );
      expect(forged.statusCode).toBe(401);
      expect((await message(id)).status).toBe('sent');
    });

    it('records delivery, and a number that cannot receive WhatsApp, from the status webhook', async () => {
      const delivered = await sentTo('gus', '+4915112340002');
      const lost = await sentTo('hal', '+4915112340003');
      const statuses = [
        {
          id: delivered.wamid,
          status: 'delivered',
          timestamp: String(Math.floor(clock.nowMs() / 1000)),
          recipient_id: '4915112340002',
        },
        failed(lost.wamid, '+4915112340003', 131026, 'Message undeliverable'),
      ];
      const answer = await postStatuses(statuses);
      expect(answer.json()).toEqual({ recorded: 2, malformed: 0 });
      // Meta posts again when it hears no 200 in time: counted once.
      expect((await postStatuses(statuses)).statusCode).toBe(200);
      expect((await message(delivered.id)).status).toBe('sent');
      expect(await message(lost.id)).toMatchObject({ status: 'failed' });
      expect((await profileOf('hal')).unreachable?.whatsapp?.to).toBe('+4915112340003');
      expect((await profileOf('gus')).unreachable).toBeUndefined();
      const events = (await admin('GET', '/v1/profiles/gus/events')).json<{
        events: { event: string | null }[];
      }>().events;
      expect(events.filter((e) => e.event === 'SMS Delivered')).toHaveLength(1);
      // The number no longer takes WhatsApp messages, until its owner opts in again.
      expect((await send('hal', { orderId: 'A-2002' })).status).toBe('blocked');
    });

    it('hears a marketing opt-out in a status once, even replayed after a new opt-in', async () => {
      const { id, wamid } = await sentTo('ivy', '+4915112340004', 'spring-sale');
      const stopped = [failed(wamid, '+4915112340004', 131050, OPTED_OUT_WORDS)];
      expect((await postStatuses(stopped)).json()).toEqual({ recorded: 1, malformed: 0 });
      expect(await message(id)).toMatchObject({ status: 'failed', reasonCode: 'opted_out' });
      expect((await send('ivy', {}, 'spring-sale')).status).toBe('blocked');
      clock.advance(60_000);
      // Opted in again, from the shop's preference centre.
      await ingestCall(herald, clock, 'track', {
        userId: 'ivy',
        event: 'Consent Updated',
        properties: {
          channel: 'whatsapp',
          purpose: 'marketing',
          granted: true,
          source: 'preferences',
        },
      });
      expect((await send('ivy', {}, 'spring-sale')).status).toBe('queued');
      clock.advance(60_000);
      expect((await postStatuses(stopped)).json()).toEqual({ recorded: 0, malformed: 0 });
      expect((await send('ivy', {}, 'spring-sale')).status).toBe('queued');
    });

    it('pauses WhatsApp at its rate limit without spending the messages’ attempts', async () => {
      for (const [i, userId] of ['ro', 'sy', 'ty'].entries())
        await ingestCall(herald, clock, 'identify', {
          userId,
          traits: { phone: `+491511234560${String(i)}`, firstName: 'Ro', ...optedIn },
        });
      const ids = [];
      for (const userId of ['ro', 'sy', 'ty'])
        ids.push((await send(userId, { orderId: `A-40${userId}` })).decisionId);
      throttled = true;
      expect(await herald.services.dispatcher.runDue()).toBe(0);
      const metLimit = provider.requests().length;
      // Refused for Meta's limit: nothing went, no attempt is spent (a burst of them must not
      // dead-letter a message), and nothing more is sent into the limit until the wait is over.
      for (const id of ids) {
        const stored = await herald.services.store.getMessage(id);
        expect(stored).toMatchObject({ status: 'queued', attempts: 0 });
      }
      clock.advance(10_000);
      expect(await herald.services.dispatcher.runDue()).toBe(0);
      expect(provider.requests()).toHaveLength(metLimit);
      throttled = false;
      // The wait over (the circuit's cooldown, Meta naming none), every message goes.
      clock.advance(31_000);
      let sent = 0;
      for (let round = 0; round < 5 && sent < 3; round += 1)
        sent += await herald.services.dispatcher.runDue();
      expect(sent).toBe(3);
      expect(provider.requests()).toHaveLength(metLimit + 3);
    });

    it('counts a rate-limited wait from when the message was due, not when it was made', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'vic',
        traits: { phone: '+4915112345691', firstName: 'Vic', ...optedIn },
      });
      const { decisionId } = await send('vic', { orderId: 'A-5002' });
      // Due three days after it was made (a send time chosen for it, a hold).
      const due = clock.nowMs() + 3 * 24 * 60 * 60_000;
      await herald.services.store.transaction((tx) =>
        tx.updateMessage(decisionId, { sendAtMs: due, dueAtMs: due }, clock.nowMs(), 'queued'),
      );
      clock.set(due);
      throttled = true;
      await herald.services.dispatcher.runDue();
      // Met the limit once, minutes into its wait: back in the outbox, not given up.
      expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
        status: 'queued',
        attempts: 0,
      });
    });

    it('dead-letters an order update held back by a rate limit for longer than a day', async () => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'uma',
        traits: { phone: '+4915112345690', firstName: 'Uma', ...optedIn },
      });
      const { decisionId } = await send('uma', { orderId: 'A-5001' });
      throttled = true;
      for (let hour = 0; hour <= 25; hour += 1) {
        await herald.services.dispatcher.runDue();
        clock.advance(60 * 60_000);
      }
      expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
        status: 'failed',
        reasonCode: 'retries_exhausted',
        attempts: 1,
      });
    });
  });
}

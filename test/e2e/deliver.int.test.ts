import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { HOUR_MS } from '../../src/core/time.js';
import { signToken } from '../../src/core/signed-token.js';
import { openPixelUrl } from '../../src/pipeline/render/track-links.js';
import type { MessageRecord } from '../../src/core/message.js';
import { createDispatcher } from '../../src/pipeline/deliver/index.js';
import { recordMessageResult } from '../../src/pipeline/track-messages.js';
import type { ChannelAdapter } from '../../src/ports/channel-adapter.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { Finished } from '../../src/pipeline/deliver/create-dispatcher.js';
import { aSentMessage } from '../support/builders.js';
import { startSmtpServer } from '../support/smtp-server.js';
import {
  adminToken,
  startHerald,
  writeKey,
  type TestHerald,
  ingestCall,
  adminCall,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { twilioSignature as signAsTwilio } from '../support/twilio.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const PUBLIC = 'https://herald.example.com';
const json = { 'content-type': 'application/json' };
const twilioToken = 'twilio-auth-token-0001';
// SendGrid's Signed Event Webhook: an ECDSA P-256 key pair, the public half given to Herald.
const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const sendgridPublicKey = sendgridKeys.publicKey
  .export({ type: 'spki', format: 'der' })
  .toString('base64');
const signSendGrid = (timestamp: string, payload: string) =>
  createSign('sha256')
    .update(timestamp + payload)
    .sign(sendgridKeys.privateKey)
    .toString('base64');
/** Header lines folded onto the next line (RFC 5322 §2.2.3) joined back. */
const unfold = (raw: string): string => raw.replace(/\r?\n[ \t]+/g, ' ');
/** The URL a received mail's List-Unsubscribe header names. */
const listUnsubscribeOf = (raw: string | undefined): string =>
  /^List-Unsubscribe: <([^>]+)>/m.exec(unfold(raw ?? ''))?.[1] ?? '';

interface MessageView {
  id: string;
  status: string;
  reasonCode: string | null;
  provider: string | null;
  recipient: string | null;
}

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`delivering and tracking (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      smtp = await startSmtpServer(5000);
      // Herald builds its own adapter from HERALD_SMTP_URL; the fake's is not used.
      await smtp.adapter.close();
      herald = await startHerald(factory, {
        clock,
        env: {
          HERALD_SMTP_URL: `smtp://127.0.0.1:${String(smtp.port)}`,
          HERALD_PUBLIC_URL: PUBLIC,
          HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
          HERALD_EMAIL_FROM: 'Herald Store <marketing@mail.example.com>',
          HERALD_TWILIO_AUTH_TOKEN: twilioToken,
          HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY: sendgridPublicKey,
        },
      });
    });
    afterEach(async () => {
      await herald.close();
      await smtp.stop();
    });

    const ingest = (route: string, body: object) => ingestCall(herald, clock, route, body);
    const admin = (method: 'GET' | 'POST', url: string, body?: object) =>
      adminCall(herald, method, url, body);
    const send = async (userId: string, template: string, channel = 'email', data = {}) =>
      (await admin('POST', '/v1/sends', { userId, channel, template, data })).json<{
        decisionId: string;
        status: string;
        reasonCode: string | null;
      }>();
    const message = async (id: string) =>
      (await admin('GET', `/v1/messages/${id}`)).json<MessageView>();
    /** The site server's signature of a user id, which the personalisation route asks for. */
    const signatureOf = (userId: string) =>
      createHmac('sha256', herald.services.linkSecret).update(`user:${userId}`).digest('hex');
    /** A page asking for a signed-in customer's home-hero content. */
    const askForContent = (userId: string) =>
      herald.app.inject({
        url: `/v1/personalize?userId=${userId}&userSignature=${signatureOf(userId)}&slot=home-hero&writeKey=${writeKey}`,
      });
    const contentOf = async (userId: string) =>
      (await askForContent(userId)).json<{ content: { body: string } | null }>().content;
    const path = (url: string) => url.slice(PUBLIC.length);
    /** A form posted to `url` (urlencoded unless another content type is given). */
    const formPost = (
      url: string,
      payload: string,
      contentType = 'application/x-www-form-urlencoded',
    ) =>
      herald.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });
    /** A mail client's one-click unsubscribe (RFC 8058) through a message's link. */
    const oneClick = (url: string) => formPost(url, 'List-Unsubscribe=One-Click');
    /** Twilio's signature of a webhook call to `url` on Herald's public URL. */
    const twilioSignature = (url: string, params: URLSearchParams) =>
      signAsTwilio(twilioToken, `${PUBLIC}${url}`, params);
    /** A Twilio webhook call, signed as Twilio signs it unless another signature is given. */
    const twilioPost = (
      url: string,
      params: URLSearchParams,
      signature = twilioSignature(url, params),
    ) =>
      herald.app.inject({
        method: 'POST',
        url,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signature,
        },
        payload: params.toString(),
      });

    it('delivers the approved cart-recovery email over SMTP with its headers, footer and signed links', async () => {
      await ingest('identify', {
        userId: 'ana',
        traits: { email: 'ana@example.com', firstName: 'Ana' },
      });
      await ingest('track', {
        userId: 'ana',
        event: 'Product Added',
        properties: { product_id: 'p1', name: 'Boots', price: 250, quantity: 1 },
      });
      clock.set(T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      const [item] = (await admin('GET', '/v1/reviews')).json<{ reviews: MessageView[] }>().reviews;
      expect(
        (await admin('POST', `/v1/reviews/${item?.id ?? ''}/approve`, { reason: 'ok' })).statusCode,
      ).toBe(200);
      expect(await herald.services.dispatcher.runDue()).toBe(1);
      const raw = unfold(smtp.messages[0] ?? '');
      expect(raw).toMatch(new RegExp(`^Message-ID: <${item?.id ?? ''}@mail\\.example\\.com>`, 'm'));
      expect(raw).toMatch(
        /^List-Unsubscribe: <https:\/\/herald\.example\.com\/u\/[\w-]+\.[\w-]+>/m,
      );
      expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m);
      expect(raw).toMatch(/^To: ana@example\.com/m);
      const body = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      expect(body).toMatch(/1 Main St, Springfield, IL 62701/);
      expect(body).toMatch(/CART20-[A-Z2-9]{12}/);
      const click = /https:\/\/herald\.example\.com\/t\/c\/[\w-]+\.[\w-]+/.exec(body)?.[0] ?? '';
      expect(click).not.toBe('');
      expect(await message(item?.id ?? '')).toMatchObject({
        status: 'sent',
        provider: 'smtp',
        recipient: 'ana@example.com',
      });
      const metrics = (await herald.app.inject({ url: '/metrics' })).body;
      expect(metrics).toMatch(
        /^herald_deliveries_total\{channel="email",provider="smtp",outcome="sent"\} 1$/m,
      );

      const followed = await herald.app.inject({ url: path(click) });
      expect(followed.statusCode).toBe(302);
      expect(followed.headers.location).toMatch(
        /^https:\/\/shop\.example\.com\/cart\?utm_source=herald&utm_medium=email&utm_campaign=cart-recovery/,
      );
      // The signature's last character changed to another.
      const last = path(click).slice(-1);
      const tampered = await herald.app.inject({
        url: `${path(click).slice(0, -1)}${last === 'A' ? 'B' : 'A'}`,
      });
      expect(tampered.statusCode).toBe(404);
      expect(tampered.headers.location).toBeUndefined();
      const events = (await admin('GET', '/v1/profiles/ana/events?limit=20')).json<{
        events: { event?: string }[];
      }>().events;
      expect(events.map((e) => e.event)).toContain('Email Link Clicked');

      // The order that follows is linked to the email that preceded it.
      clock.set(T0 + 5 * HOUR_MS);
      await ingest('track', {
        userId: 'ana',
        event: 'Order Completed',
        properties: { order_id: 'o-77', total: 212.5 },
      });
      const conversions = (await admin('GET', '/v1/conversions?userId=ana')).json<{
        conversions: { orderId: string; decisionId: string; revenue: number; touches: unknown[] }[];
      }>().conversions;
      expect(conversions).toEqual([
        expect.objectContaining({ orderId: 'o-77', decisionId: item?.id, revenue: 212.5 }),
      ]);
      // By the decision: its conversions; a decision that does not exist is a 404, not "none".
      const byDecision = await admin('GET', `/v1/conversions?decisionId=${item?.id ?? ''}`);
      expect(byDecision.json<{ conversions: unknown[] }>().conversions).toHaveLength(1);
      expect((await admin('GET', '/v1/conversions?decisionId=nope')).statusCode).toBe(404);
      const trail = (await admin('GET', '/v1/customers/ana/audit')).json<{
        audit: { kind: string; data: object }[];
      }>().audit;
      // The first click is noted (the second changes nothing), not where it led.
      await herald.app.inject({ url: path(click) });
      expect(trail.map((e) => e.kind)).toEqual([
        'decision',
        'review',
        'delivery',
        'result',
        'conversion',
      ]);
      expect(trail[3]?.data).toEqual({ decisionId: item?.id, channel: 'email', result: 'clicked' });
      // The order is named by the conversion row, which an erasure deletes, not in the log.
      expect(JSON.stringify(trail.at(-1)?.data)).not.toContain('o-77');
    });

    it("notes in the audit trail a hold at hand-off, a message's first delivery report and open, and each soft bounce", async () => {
      await ingest('identify', {
        userId: 'bo',
        traits: {
          email: 'bo@example.com',
          address: { country: 'GB' },
          timezone: 'Europe/London',
          consent: { email: { marketing: true } },
        },
      });
      const queued = await send('bo', 'welcome-1');
      // The dispatcher first comes to it at 22:00 in London: held until 08:00.
      clock.set(T0 + 9 * HOUR_MS);
      await herald.services.dispatcher.runDue();
      expect(await message(queued.decisionId)).toMatchObject({
        status: 'queued',
        reasonCode: 'quiet_hours',
      });
      // Still held an hour later: noted once.
      clock.set(T0 + 10 * HOUR_MS);
      await herald.services.dispatcher.runDue();
      clock.set(T0 + 19 * HOUR_MS + 1000);
      await herald.services.dispatcher.runDue();
      const sent = await herald.services.store.getMessage(queued.decisionId);
      expect(sent?.status).toBe('sent');
      const deps = herald.services.track;
      const at = clock.nowMs();
      for (const result of [
        { kind: 'delivered' },
        { kind: 'delivered' },
        { kind: 'opened' },
        { kind: 'opened' },
        { kind: 'bounced', hard: false, reason: 'mailbox full' },
      ] as const)
        await recordMessageResult(deps, sent as MessageRecord, result, at, at);
      const trail = (await admin('GET', '/v1/customers/bo/audit'))
        .json<{ audit: { kind: string; data: Record<string, unknown> }[] }>()
        .audit.map(({ kind, data }) => ({ kind, status: data['status'] ?? data['result'], data }));
      expect(trail.map((e) => `${e.kind}:${String(e.status)}`)).toEqual([
        'decision:queued',
        'delivery:held',
        'delivery:sent',
        'result:delivered',
        'result:opened',
        'result:bounced',
      ]);
      expect(trail[1]?.data).toMatchObject({
        code: 'quiet_hours',
        until: new Date(T0 + 19 * HOUR_MS).toISOString(),
      });
      expect(trail[5]?.data).toMatchObject({ bounce: 'soft' });
    });

    it('takes the customer where the link goes even when the click cannot be recorded', async () => {
      await ingest('identify', { userId: 'bea', traits: { email: 'bea@example.com' } });
      await send('bea', 'welcome-1');
      await herald.services.dispatcher.runDue();
      const body = unfold(smtp.messages[0] ?? '').replace(/=\r?\n/g, '');
      const click = /https:\/\/herald\.example\.com(\/t\/c\/[\w-]+\.[\w-]+)/.exec(body)?.[1] ?? '';
      // The database fails under the request (here: the table it reads is gone).
      await herald.raw('ALTER TABLE messages RENAME TO messages_away');
      const followed = await herald.app.inject({ url: click });
      expect(followed.statusCode).toBe(302);
      expect(followed.headers.location).toMatch(/^https:\/\/shop\.example\.com\//);
      await herald.raw('ALTER TABLE messages_away RENAME TO messages');
    });

    it('records no open or click for a HEAD request, as a link checker sends', async () => {
      await ingest('identify', { userId: 'hal', traits: { email: 'hal@example.com' } });
      const sent = await send('hal', 'welcome-1');
      await herald.services.dispatcher.runDue();
      const body = unfold(smtp.messages[0] ?? '').replace(/=\r?\n/g, '');
      const click = /https:\/\/herald\.example\.com(\/t\/c\/[\w-]+\.[\w-]+)/.exec(body)?.[1] ?? '';
      const pixel = openPixelUrl({
        messageId: sent.decisionId,
        medium: 'email',
        campaign: 'welcome',
        content: 'welcome-1',
        base: '',
        linkSecret: herald.services.linkSecret,
      });
      const events = async () =>
        (await admin('GET', '/v1/profiles/hal/events?limit=20'))
          .json<{ events: { event?: string }[] }>()
          .events.map((e) => e.event)
          .filter((name) => name === 'Email Opened' || name === 'Email Link Clicked');
      const looked = await herald.app.inject({ method: 'HEAD', url: click });
      expect(looked.statusCode).toBe(302);
      expect((await herald.app.inject({ method: 'HEAD', url: pixel })).statusCode).toBe(200);
      expect(await events()).toEqual([]);
      // Followed and shown: both are recorded.
      expect((await herald.app.inject({ url: click })).statusCode).toBe(302);
      expect((await herald.app.inject({ url: pixel })).statusCode).toBe(200);
      expect((await events()).sort()).toEqual(['Email Link Clicked', 'Email Opened']);
      // The pixel fetched again (a replay, an image proxy): the message was opened once.
      for (let i = 0; i < 3; i += 1)
        expect((await herald.app.inject({ url: pixel })).statusCode).toBe(200);
      expect((await events()).sort()).toEqual(['Email Link Clicked', 'Email Opened']);
    });

    it('does not send a cart offer approved after the customer ordered', async () => {
      await ingest('identify', { userId: 'ola', traits: { email: 'ola@example.com' } });
      await ingest('track', {
        userId: 'ola',
        event: 'Product Added',
        properties: { product_id: 'p1', name: 'Boots', price: 250, quantity: 1 },
      });
      clock.set(T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      const [item] = (await admin('GET', '/v1/reviews')).json<{ reviews: MessageView[] }>().reviews;
      // The offer waits for a reviewer; meanwhile the customer buys.
      clock.set(T0 + 3 * HOUR_MS);
      await ingest('track', {
        userId: 'ola',
        event: 'Order Completed',
        properties: { order_id: 'o-ola', total: 250 },
      });
      // The reviewer is told at once, not left to find it blocked after delivery.
      const approved = await admin('POST', `/v1/reviews/${item?.id ?? ''}/approve`, {
        reason: 'ok',
      });
      expect(approved.json<MessageView>()).toMatchObject({
        status: 'blocked',
        reasonCode: 'superseded',
      });
      expect(await herald.services.dispatcher.runDue()).toBe(0);
      expect(smtp.messages).toHaveLength(0);
      expect(await message(item?.id ?? '')).toMatchObject({
        status: 'blocked',
        reasonCode: 'superseded',
      });
    });

    it('sends a cart offer whose cart was only looked at while it waited, not one whose cart changed', async () => {
      const boots = { product_id: 'p1', name: 'Boots', price: 250, quantity: 1 };
      const waiting = async (userId: string) => {
        await ingest('identify', { userId, traits: { email: `${userId}@example.com` } });
        await ingest('track', { userId, event: 'Product Added', properties: boots });
      };
      await waiting('vic');
      await waiting('val');
      clock.set(T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      const reviews = (await admin('GET', '/v1/reviews')).json<{ reviews: MessageView[] }>()
        .reviews;
      const offerTo = (userId: string) =>
        (reviews as (MessageView & { customerId: string })[]).find((r) => r.customerId === userId)
          ?.id ?? '';
      // While the offers wait for a reviewer, one customer looks at the cart (the same boots),
      // the other adds a coat: that offer's products and band were for another cart.
      clock.set(T0 + 3 * HOUR_MS);
      await ingest('track', {
        userId: 'vic',
        event: 'Cart Viewed',
        properties: { products: [boots] },
      });
      await ingest('track', {
        userId: 'val',
        event: 'Product Added',
        properties: { product_id: 'p2', name: 'Coat', price: 400, quantity: 1 },
      });
      const approve = async (id: string) =>
        (await admin('POST', `/v1/reviews/${id}/approve`, { reason: 'ok' })).json<MessageView>();
      expect(await approve(offerTo('vic'))).toMatchObject({ status: 'queued' });
      expect(await approve(offerTo('val'))).toMatchObject({
        status: 'blocked',
        reasonCode: 'superseded',
      });
    });

    it('does not send a cart offer after a late order stamped before the offer was made', async () => {
      await ingest('identify', { userId: 'lou', traits: { email: 'lou@example.com' } });
      await ingest('track', {
        userId: 'lou',
        event: 'Product Added',
        properties: { product_id: 'p1', name: 'Boots', price: 250, quantity: 1 },
      });
      clock.set(T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      const [item] = (await admin('GET', '/v1/reviews')).json<{ reviews: MessageView[] }>().reviews;
      // Bought five minutes before the offer was made, from a phone that sent it ten minutes
      // later: the order's time is before the offer's, yet the cart it was for is gone.
      clock.set(T0 + 2 * HOUR_MS + 10 * 60_000);
      await ingest('track', {
        userId: 'lou',
        event: 'Order Completed',
        timestamp: new Date(T0 + 2 * HOUR_MS - 5 * 60_000).toISOString(),
        properties: { order_id: 'o-lou', total: 250 },
      });
      const approved = await admin('POST', `/v1/reviews/${item?.id ?? ''}/approve`, {
        reason: 'ok',
      });
      expect(approved.json<MessageView>()).toMatchObject({
        status: 'blocked',
        reasonCode: 'superseded',
      });
      expect(smtp.messages).toHaveLength(0);
    });

    it('does not send the cart reminder after the cart was emptied while it waited', async () => {
      // In Tokyo the reminder, made at 23:01 there, waits for the morning.
      await ingest('identify', {
        userId: 'kai',
        traits: { email: 'kai@example.com', timezone: 'Asia/Tokyo' },
      });
      const boots = { product_id: 'p1', name: 'Boots', price: 250, quantity: 1 };
      await ingest('track', { userId: 'kai', event: 'Product Added', properties: boots });
      clock.set(T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      const [offer] = (await admin('GET', '/v1/reviews')).json<{ reviews: MessageView[] }>()
        .reviews;
      await admin('POST', `/v1/reviews/${offer?.id ?? ''}/reject`, { reason: 'not this one' });
      clock.set(T0 + 26 * HOUR_MS + 60_000);
      await herald.services.worker.runDue();
      const messages = (await admin('GET', '/v1/messages?userId=kai')).json<{
        messages: (MessageView & { template: string; sendAt: string })[];
      }>().messages;
      const reminder = messages.find((m) => m.template === 'cart-reminder');
      expect(reminder).toMatchObject({ status: 'queued' });
      // While it waits for its hour, the customer empties the cart without ordering.
      clock.set(T0 + 27 * HOUR_MS);
      await ingest('track', { userId: 'kai', event: 'Product Removed', properties: boots });
      await herald.services.worker.runDue();
      clock.set(Date.parse(reminder?.sendAt ?? '') + 60_000);
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
      expect(smtp.messages).toHaveLength(0);
      expect(await message(reminder?.id ?? '')).toMatchObject({
        status: 'blocked',
        reasonCode: 'superseded',
      });
    });

    it('does not send a cart offer whose code expired while it waited in the outbox', async () => {
      await ingest('identify', { userId: 'oz', traits: { email: 'oz@example.com' } });
      await ingest('track', {
        userId: 'oz',
        event: 'Product Added',
        properties: { product_id: 'p1', name: 'Boots', price: 250, quantity: 1 },
      });
      clock.set(T0 + 2 * HOUR_MS);
      await herald.services.worker.runDue();
      const [item] = (await admin('GET', '/v1/reviews')).json<{ reviews: MessageView[] }>().reviews;
      // Approved late, yet in time; then nothing is dispatched for ten hours (an outage): the
      // message is not stale, but the code it carries has run out.
      clock.set(T0 + 40 * HOUR_MS);
      const approved = await admin('POST', `/v1/reviews/${item?.id ?? ''}/approve`, {
        reason: 'ok',
      });
      const offerEnds = approved.json<MessageView & { offerEnds: string }>().offerEnds;
      expect(approved.json<MessageView>().status).toBe('queued');
      expect(Date.parse(offerEnds)).toBe(T0 + 50 * HOUR_MS);
      clock.set(Date.parse(offerEnds));
      expect(await herald.services.dispatcher.runDue()).toBe(0);
      expect(smtp.messages).toHaveLength(0);
      expect(await message(item?.id ?? '')).toMatchObject({
        status: 'blocked',
        reasonCode: 'offer_expired',
      });
    });

    it('stops mail after the one-click unsubscribe: the queued message is refused at hand-off and the next send blocked', async () => {
      await ingest('identify', { userId: 'bo', traits: { email: 'bo@example.com' } });
      const first = await send('bo', 'welcome-1');
      await herald.services.dispatcher.runDue();
      const queued = await send('bo', 'upsell');
      expect(queued.status).toBe('queued');
      const unsubscribe = listUnsubscribeOf(smtp.messages[0]);
      const page = await herald.app.inject({ url: path(unsubscribe) });
      expect(page.statusCode).toBe(200);
      expect(page.body).toMatch(/<form method="post">/);
      expect((await oneClick(path(unsubscribe))).statusCode).toBe(200);
      await herald.services.dispatcher.runDue();
      expect(await message(queued.decisionId)).toMatchObject({
        status: 'blocked',
        reasonCode: 'unsubscribed',
      });
      expect(smtp.messages).toHaveLength(1);
      expect((await send('bo', 'upsell')).reasonCode).toBe('unsubscribed');
      expect(first.status).toBe('queued');
      // Subscribed again (a preference centre), then the same link once more: heard again.
      clock.set(T0 + 60_000);
      await ingest('track', {
        userId: 'bo',
        event: 'Consent Updated',
        properties: { channel: 'email', purpose: 'marketing', granted: true },
      });
      expect((await send('bo', 'upsell')).status).toBe('queued');
      clock.set(T0 + 120_000);
      const again = await oneClick(path(unsubscribe));
      expect(again.statusCode).toBe(200);
      expect((await send('bo', 'upsell')).reasonCode).toBe('unsubscribed');
    });

    it('records a one-click unsubscribe sent as multipart/form-data as one-click, a page button as the page', async () => {
      const sourcesAfter = async (userId: string, post: (url: string) => Promise<unknown>) => {
        await ingest('identify', { userId, traits: { email: `${userId}@example.com` } });
        await send(userId, 'welcome-1');
        await herald.services.dispatcher.runDue();
        await post(path(listUnsubscribeOf(smtp.messages.at(-1))));
        return (await admin('GET', `/v1/profiles/${userId}/events?limit=20`))
          .json<{ events: { event?: string; properties?: { source?: string } }[] }>()
          .events.filter((e) => e.event === 'Unsubscribed')
          .map((e) => e.properties?.source);
      };
      const boundary = '----herald-test';
      const multipart = (url: string) =>
        formPost(
          url,
          `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
          `multipart/form-data; boundary=${boundary}`,
        );
      expect(await sourcesAfter('mp', multipart)).toEqual(['one-click']);
      expect(await sourcesAfter('pg', (url) => formPost(url, 'confirm=yes'))).toEqual(['page']);
      // A body of the header's words over and over, never a part: the pattern that read it took
      // 12 s at 42 KB; now it is read line by line (not timed here), a page unsubscribe.
      const repeated = `R${'CONTENT-DISPOSITION:FORM-DATA;NAME=LIST-UNSUBSCRIBEE'.repeat(8_000)}`;
      expect(
        await sourcesAfter('rp', (url) =>
          formPost(url, repeated, 'multipart/form-data; boundary=x'),
        ),
      ).toEqual(['page']);
      // A header folded onto the next line, and the value in another case.
      expect(
        await sourcesAfter('fo', (url) =>
          formPost(
            url,
            `--${boundary}\r\nContent-Disposition:\r\n form-data; name="List-Unsubscribe"\r\n\r\none-click\r\n--${boundary}--\r\n`,
            `multipart/form-data; boundary=${boundary}`,
          ),
        ),
      ).toEqual(['one-click']);
      // A one-click part after other headers of its own, then the blank line.
      expect(
        await sourcesAfter('hd', (url) =>
          formPost(
            url,
            `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\nContent-Type: text/plain\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
            `multipart/form-data; boundary=${boundary}`,
          ),
        ),
      ).toEqual(['one-click']);
    });

    it('holds every record of an address to its unsubscribe, until one of them opts in again', async () => {
      // A guest checkout and an account, one mailbox.
      await ingest('identify', { userId: 'guest-7', traits: { email: 'Pat@Example.com' } });
      await ingest('identify', { userId: 'acct-42', traits: { email: 'pat@example.com' } });
      await send('guest-7', 'welcome-1');
      await herald.services.dispatcher.runDue();
      const queued = await send('acct-42', 'upsell');
      expect(queued.status).toBe('queued');
      const unsubscribe = listUnsubscribeOf(smtp.messages[0]);
      expect((await oneClick(path(unsubscribe))).statusCode).toBe(200);
      // The account's message queued before it is refused as it leaves; the next is not made.
      await herald.services.dispatcher.runDue();
      expect(await message(queued.decisionId)).toMatchObject({
        status: 'blocked',
        reasonCode: 'unsubscribed',
      });
      expect(smtp.messages).toHaveLength(1);
      expect(await send('acct-42', 'upsell')).toMatchObject({
        status: 'blocked',
        reasonCode: 'unsubscribed',
      });
      // The account opts in again, explicitly, after: its marketing goes; the guest's does not.
      clock.set(T0 + 60_000);
      await ingest('track', {
        userId: 'acct-42',
        event: 'Consent Updated',
        properties: { channel: 'email', purpose: 'marketing', granted: true },
      });
      expect((await send('acct-42', 'upsell')).status).toBe('queued');
      expect((await send('guest-7', 'upsell')).reasonCode).toBe('unsubscribed');
    });

    it('refuses marketing held past the day a GDPR consent runs out, as it leaves', async () => {
      // Judged at 23:00 in Berlin, its consent two hours short of three years old; held by
      // quiet hours until 08:00, when it is older.
      const granted = Date.UTC(2026, 5, 3, 23);
      const judged = granted + 1095 * 24 * HOUR_MS - 2 * HOUR_MS;
      clock.set(granted);
      await ingest('identify', {
        userId: 'de-1',
        traits: {
          email: 'de-1@example.com',
          country: 'DE',
          consent: { email: { marketing: true } },
        },
      });
      clock.set(judged);
      const held = await send('de-1', 'upsell');
      expect(held.status).toBe('queued');
      clock.set(judged + 9 * HOUR_MS + 60_000);
      await herald.services.dispatcher.runDue();
      expect(await message(held.decisionId)).toMatchObject({
        status: 'blocked',
        reasonCode: 'gdpr_consent_expired',
      });
      expect(smtp.messages).toHaveLength(0);
    });

    it('unsubscribes only with the link of mail that left, never with its open pixel', async () => {
      await ingest('identify', { userId: 'di', traits: { email: 'di@example.com' } });
      const post = (url: string) =>
        herald.app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'List-Unsubscribe=One-Click',
        });
      const consented = async () =>
        (await admin('GET', '/v1/profiles/di')).json<{
          consent: { email?: { marketing?: { granted: boolean } } };
        }>().consent.email?.marketing?.granted;
      // A message still waiting: its copy (and link) is what the API and reviewers read.
      clock.set(T0 + 60_000);
      const waiting = await send('di', 'welcome-1');
      const view = await admin('GET', `/v1/messages/${waiting.decisionId}`);
      const link = view.json<{ content: { unsubscribeUrl: string } }>().content.unsubscribeUrl;
      expect(link).toContain('/u/');
      expect((await post(path(link))).statusCode).toBe(404);
      expect(await consented()).toBeUndefined();
      await herald.services.dispatcher.runDue();
      // Sent now: the open pixel's token is another than the unsubscribe link's.
      const pixel = openPixelUrl({
        messageId: waiting.decisionId,
        medium: 'email',
        campaign: 'welcome',
        content: 'welcome-1',
        base: '',
        linkSecret: herald.services.linkSecret,
      });
      const pixelToken = pixel.slice('/t/o/'.length);
      expect(link.endsWith(pixelToken)).toBe(false);
      expect((await post(`/u/${pixelToken}`)).statusCode).toBe(404);
      expect(await consented()).toBeUndefined();
      // A link signed before links had a purpose (the bare id) still unsubscribes.
      const legacy = signToken(herald.services.linkSecret, waiting.decisionId);
      expect((await post(`/u/${legacy}`)).statusCode).toBe(200);
      expect(await consented()).toBe(false);
    });

    it('retries a transient refusal with backoff, dead-letters after the last attempt, and suppresses a hard bounce', async () => {
      await ingest('identify', { userId: 'ed', traits: { email: 'ed@example.com' } });
      await ingest('identify', { userId: 'flo', traits: { email: 'flo@example.com' } });
      smtp.setScenario('server-error');
      const retried = await send('ed', 'welcome-1');
      await herald.services.dispatcher.runDue();
      const after = (await admin('GET', `/v1/messages/${retried.decisionId}`)).json<{
        status: string;
        attempts: number;
        sendAt: string;
        lastError: string;
      }>();
      expect(after).toMatchObject({ status: 'queued', attempts: 1 });
      expect(after.lastError).toMatch(/451/);
      // Backoff: the first retry waits between 15 and 30 s.
      const waitMs = Date.parse(after.sendAt) - clock.nowMs();
      expect(waitMs).toBeGreaterThanOrEqual(15_000);
      expect(waitMs).toBeLessThanOrEqual(30_000);
      for (let attempt = 2; attempt <= 8; attempt += 1) {
        clock.set(clock.nowMs() + 3_600_000);
        await herald.services.dispatcher.runDue();
      }
      expect(await message(retried.decisionId)).toMatchObject({
        status: 'failed',
        reasonCode: 'retries_exhausted',
      });
      // Each attempt is on the record: the ones tried again, then the last.
      const attempts = (await admin('GET', '/v1/customers/ed/audit'))
        .json<{ audit: { kind: string; data: { status?: string; attempt?: number } }[] }>()
        .audit.filter((e) => e.kind === 'delivery')
        .map((e) => `${String(e.data.attempt)}:${String(e.data.status)}`);
      expect(attempts).toEqual(
        attempts.map((_, i) => `${i + 1}:${i === attempts.length - 1 ? 'failed' : 'retry'}`),
      );
      expect(attempts.length).toBeGreaterThan(2);

      smtp.setScenario('bad-recipient');
      const bounced = await send('flo', 'welcome-1');
      await herald.services.dispatcher.runDue();
      // Refused at RCPT: a hard bounce, and the sending domain's bounce rate counts it.
      expect(await message(bounced.decisionId)).toMatchObject({
        status: 'bounced',
        reasonCode: 'unreachable',
      });
      const stats = await herald.services.store.transaction((tx) =>
        tx.domainStats('mail.example.com', 0),
      );
      expect(stats).toMatchObject({ bounced: 1 });
      const profile = (await admin('GET', '/v1/profiles/flo')).json<{
        email: { hardBounces: number };
      }>();
      expect(profile.email.hardBounces).toBe(1);
      // Erased, flo leaves nothing of theirs; the bounce stays in the domain's rate.
      expect((await admin('POST', '/v1/customers/flo/erase', { reason: 'asked' })).statusCode).toBe(
        200,
      );
      expect(
        await herald.services.store.transaction((tx) => tx.domainStats('mail.example.com', 0)),
      ).toEqual(stats);
    });

    it('does not send again what the relay took after the attempt gave up, once it is seen', async () => {
      // A relay that takes 1.5 s to accept, an attempt that gives up after 0.5 s: the message
      // goes back to the outbox for a retry, though the relay has it and delivers it.
      const slow = await startSmtpServer(5000, 1500);
      await slow.adapter.close();
      const other = await startHerald(factory, {
        clock,
        env: {
          HERALD_SMTP_URL: `smtp://127.0.0.1:${String(slow.port)}`,
          HERALD_PUBLIC_URL: PUBLIC,
          HERALD_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701',
        },
        configYaml: 'deliver:\n  timeoutSeconds: 0.5\n',
      });
      try {
        await ingestCall(other, clock, 'identify', {
          userId: 'gil',
          traits: { email: 'gil@example.com', firstName: 'Gil' },
        });
        const sent = (
          await other.app.inject({
            method: 'POST',
            url: '/v1/sends',
            headers: { ...json, authorization: `Bearer ${adminToken}` },
            payload: JSON.stringify({ userId: 'gil', channel: 'email', template: 'welcome-1' }),
          })
        ).json<{ decisionId: string }>();
        await other.services.dispatcher.runDue();
        const view = async () =>
          (
            await other.app.inject({
              method: 'GET',
              url: `/v1/messages/${sent.decisionId}`,
              headers: { authorization: `Bearer ${adminToken}` },
            })
          ).json<MessageView & { attempts: number }>();
        expect(await view()).toMatchObject({ status: 'queued', attempts: 1 });
        for (let i = 0; i < 50 && slow.messages.length === 0; i += 1)
          await new Promise((resolve) => setTimeout(resolve, 100));
        expect(slow.messages).toHaveLength(1);
        // Its unsubscribe link works, though the message's row does not know it left yet.
        const unsubscribe = listUnsubscribeOf(slow.messages[0]);
        const unsubscribed = await other.app.inject({
          method: 'POST',
          url: path(unsubscribe),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'List-Unsubscribe=One-Click',
        });
        expect(unsubscribed.statusCode).toBe(200);
        // The customer follows a link in the copy that arrived: it went after all.
        const body = unfold(slow.messages[0] ?? '').replace(/=\r?\n/g, '');
        const link = /https:\/\/herald\.example\.com(\/t\/c\/[\w.-]+)/.exec(body)?.[1] ?? '';
        expect((await other.app.inject({ method: 'GET', url: link })).statusCode).toBe(302);
        expect(await view()).toMatchObject({ status: 'sent', attempts: 1 });
        clock.set(clock.nowMs() + HOUR_MS);
        expect(await other.services.dispatcher.runDue()).toBe(0);
        expect(slow.messages).toHaveLength(1);
      } finally {
        await other.close();
        await slow.stop();
      }
    });

    it('takes a signed SendGrid bounce and complaint, and refuses an unsigned or stale batch', async () => {
      await ingest('identify', { userId: 'gia', traits: { email: 'gia@example.com' } });
      const sent = await send('gia', 'welcome-1');
      await herald.services.dispatcher.runDue();
      const events = JSON.stringify([
        {
          email: 'gia@example.com',
          timestamp: T0 / 1000,
          event: 'bounce',
          type: 'bounce',
          reason: '550 no such user',
          sg_event_id: 'ev-1',
          sg_message_id: 'sg-1',
          herald_message_id: sent.decisionId,
        },
        {
          email: 'gia@example.com',
          timestamp: T0 / 1000,
          event: 'bounce',
          type: 'bounce',
          reason: '550 no such user',
          sg_event_id: 'ev-1',
          sg_message_id: 'sg-1',
          herald_message_id: sent.decisionId,
        },
      ]);
      const post = (payload: string, timestamp: string, signature: string) =>
        herald.app.inject({
          method: 'POST',
          url: '/webhooks/sendgrid',
          headers: {
            'content-type': 'application/json',
            'x-twilio-email-event-webhook-timestamp': timestamp,
            'x-twilio-email-event-webhook-signature': signature,
          },
          payload,
        });
      const now = String(T0 / 1000);
      expect((await post(events, now, signSendGrid(now, `${events} `))).statusCode).toBe(401);
      const stale = String(T0 / 1000 - 3600);
      expect((await post(events, stale, signSendGrid(stale, events))).statusCode).toBe(401);
      const ok = await post(events, now, signSendGrid(now, events));
      expect(ok.statusCode).toBe(200);
      expect(await message(sent.decisionId)).toMatchObject({ status: 'bounced' });
      const profile = (await admin('GET', '/v1/profiles/gia')).json<{
        email: { hardBounces: number };
      }>();
      // The same report twice is one bounce.
      expect(profile.email.hardBounces).toBe(1);
    });

    it('reads the profile a claimed message has come to since: its customer merged into another', async () => {
      await ingest('identify', { userId: 'old-u', traits: { email: 'old@example.com' } });
      await ingest('identify', { userId: 'new-u', traits: { email: 'new@example.com' } });
      const sent = await send('old-u', 'welcome-1');
      const { store, dispatchIo: io } = herald.services;
      const [claimed] = await io.claim('email', T0, 10, T0 + 60_000);
      if (claimed === undefined) throw new Error('nothing was claimed');
      expect(claimed.message.id).toBe(sent.decisionId);
      // While the batch is in flight, old-u is merged into new-u: the message goes with them.
      await ingest('alias', { previousId: 'old-u', userId: 'new-u' });
      expect(await store.getMessage(sent.decisionId)).toMatchObject({ customerId: 'new-u' });
      const fresh = await io.recheck(claimed.message);
      expect(fresh?.state?.customerId).toBe('new-u');
    });

    it("keeps the last attempt's recipient on a message put back unsent", async () => {
      await ingest('identify', { userId: 'ray', traits: { email: 'ray@example.com' } });
      const sent = await send('ray', 'welcome-1');
      const { store, dispatchIo: io } = herald.services;
      // The first attempt times out (the provider may have taken it); the retry is put back
      // unsent (a rate limit, quiet hours, a circuit that opened).
      const attempt = async (nowMs: number, finish: (m: MessageRecord) => Finished) => {
        const [claimed] = await io.claim('email', nowMs, 10, nowMs + 60_000);
        if (claimed === undefined) throw new Error('nothing was claimed');
        await io.finish([finish(claimed.message)], nowMs, nowMs + 60_000);
      };
      await attempt(T0, (message) => ({
        message,
        kind: 'outcome',
        provider: 'capture',
        to: 'ray@example.com',
        outcome: { kind: 'retry', reason: 'timed out', afterMs: 1000 },
      }));
      const later = T0 + HOUR_MS;
      await attempt(later, (message) => ({ message, kind: 'released', untilMs: later + 1000 }));
      expect(await store.getMessage(sent.decisionId)).toMatchObject({
        status: 'queued',
        attempts: 1,
        recipient: 'ray@example.com',
        provider: 'capture',
      });
    });

    for (const who of ['acct-42', 'guest-7'] as const)
      it(`refuses acct-42's queued marketing when ${who} (one address, two records) unsubscribes mid-batch`, async () => {
        await ingest('identify', { userId: 'guest-7', traits: { email: 'pat@example.com' } });
        await ingest('identify', { userId: 'acct-42', traits: { email: 'pat@example.com' } });
        await ingest('identify', { userId: 'zed', traits: { email: 'zed@example.com' } });
        await send(who, 'welcome-1');
        await herald.services.dispatcher.runDue();
        const unsubscribe = listUnsubscribeOf(smtp.messages[0]).slice(PUBLIC.length);
        expect(unsubscribe).not.toBe('');
        clock.set(T0 + 1000);
        await send('zed', 'upsell');
        clock.set(T0 + 2000);
        const queued = await send('acct-42', 'upsell');
        expect(queued.status).toBe('queued');
        const went: string[] = [];
        const relay: ChannelAdapter = {
          name: 'smtp',
          channel: 'email',
          async send(d) {
            went.push(d.to);
            // While the batch's first message is with the relay, the address unsubscribes
            // through the link of the mail it got earlier.
            if (went.length === 1)
              expect(
                (
                  await herald.app.inject({
                    method: 'POST',
                    url: unsubscribe,
                    headers: { 'content-type': 'application/x-www-form-urlencoded' },
                    payload: 'List-Unsubscribe=One-Click',
                  })
                ).statusCode,
              ).toBe(200);
            return { kind: 'sent', providerId: null };
          },
          close: () => Promise.resolve(),
        };
        clock.set(T0 + 3000);
        const { config, dispatchIo } = herald.services;
        // One at a time, every attempt checked again before it starts.
        const policy = { ...config.deliverPolicy, recheckAfterSeconds: 0, concurrency: 1 };
        await createDispatcher([relay], dispatchIo, policy, clock, silentLogger).runDue();
        expect(went).toEqual(['zed@example.com']);
        expect(await message(queued.decisionId)).toMatchObject({
          status: 'blocked',
          reasonCode: 'unsubscribed',
        });
      });

    it('sends once a message a report showed accepted while its attempt was still waiting', async () => {
      await ingest('identify', { userId: 'fay', traits: { email: 'fay@example.com' } });
      const sent = await send('fay', 'welcome-1');
      const { config, store } = herald.services;
      const io = herald.services.dispatchIo;
      let attempts = 0;
      const slow: ChannelAdapter = {
        name: 'slow',
        channel: 'email',
        async send(delivery) {
          attempts += 1;
          if (attempts > 1) return { kind: 'sent', providerId: 'p-2' };
          // The provider took it; its report comes while the answer is still on its way, and
          // the attempt then gives up.
          const message = await store.getMessage(delivery.messageId);
          if (message === undefined) throw new Error('the message is gone');
          const nowMs = clock.nowMs();
          await recordMessageResult(
            herald.services.track,
            message,
            { kind: 'accepted', providerId: 'p-1' },
            nowMs,
            nowMs,
          );
          return { kind: 'retry', reason: 'timed out', afterMs: 1000 };
        },
        close: () => Promise.resolve(),
      };
      const dispatcher = createDispatcher([slow], io, config.deliverPolicy, clock, silentLogger);
      await dispatcher.runDue();
      clock.set(clock.nowMs() + HOUR_MS);
      await dispatcher.runDue();
      expect(attempts).toBe(1);
      expect(await store.getMessage(sent.decisionId)).toMatchObject({
        status: 'sent',
        attempts: 1,
        providerId: 'p-1',
        recipient: 'fay@example.com',
      });
      const delivery = (await store.scanAudit(0, 1000))
        .filter((e) => e.kind === 'delivery')
        .map((e) => JSON.parse(e.data) as { decisionId: string; status: string });
      expect(delivery).toEqual([
        expect.objectContaining({ decisionId: sent.decisionId, status: 'sent' }),
      ]);
    });

    /** An SMS to a customer who opted in, every attempt but the last already made. */
    const smsOnItsLastAttempt = async (userId: string, phone: string) => {
      await ingest('identify', {
        userId,
        traits: { timezone: 'America/New_York', phone, consent: { sms: { marketing: true } } },
      });
      const { decisionId } = await send(userId, 'upsell', 'sms');
      await herald.raw(
        `UPDATE messages SET attempts = ${String(herald.services.config.deliverPolicy.maxAttempts - 1)} WHERE id = '${decisionId}'`,
      );
      return decisionId;
    };

    it('files as sent, not failed, a last attempt that gave up after a report showed it went', async () => {
      const decisionId = await smsOnItsLastAttempt('gus', '+14155550144');
      const { config, store } = herald.services;
      const slow: ChannelAdapter = {
        name: 'twilio',
        channel: 'sms',
        async send(delivery) {
          // Twilio took it and says so before its slow answer; the attempt then gives up.
          const report = new URLSearchParams({ MessageSid: 'SM-8', MessageStatus: 'sent' });
          await twilioPost(`/webhooks/twilio/status?message=${delivery.messageId}`, report);
          return { kind: 'retry', reason: 'timed out', afterMs: null };
        },
        close: () => Promise.resolve(),
      };
      const io = herald.services.dispatchIo;
      await createDispatcher([slow], io, config.deliverPolicy, clock, silentLogger).runDue();
      expect(await store.getMessage(decisionId)).toMatchObject({
        status: 'sent',
        providerId: 'SM-8',
        recipient: '+14155550144',
        reasonCode: null,
      });
      // The customer answers the text they were sent.
      const stop = new URLSearchParams({ From: '+14155550144', Body: 'STOP', MessageSid: 'SM9' });
      expect((await twilioPost('/webhooks/twilio/inbound', stop)).statusCode).toBe(200);
      expect((await send('gus', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
    });

    it('turns a message given up on into sent when a report that it went comes after', async () => {
      const decisionId = await smsOnItsLastAttempt('hal', '+14155550155');
      const { config, store } = herald.services;
      const silent: ChannelAdapter = {
        name: 'twilio',
        channel: 'sms',
        send: () => Promise.resolve({ kind: 'retry', reason: 'timed out', afterMs: null }),
        close: () => Promise.resolve(),
      };
      const io = herald.services.dispatchIo;
      await createDispatcher([silent], io, config.deliverPolicy, clock, silentLogger).runDue();
      expect(await store.getMessage(decisionId)).toMatchObject({
        status: 'failed',
        reasonCode: 'retries_exhausted',
      });
      // A STOP from the number it was tried at is heard before any report comes.
      const stop = new URLSearchParams({ From: '+14155550155', Body: 'STOP', MessageSid: 'SM10' });
      expect((await twilioPost('/webhooks/twilio/inbound', stop)).statusCode).toBe(200);
      expect((await send('hal', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
      clock.set(clock.nowMs() + 10_000);
      const report = new URLSearchParams({ MessageSid: 'SM-hal', MessageStatus: 'delivered' });
      await twilioPost(`/webhooks/twilio/status?message=${decisionId}`, report);
      expect(await store.getMessage(decisionId)).toMatchObject({
        status: 'sent',
        providerId: 'SM-hal',
        reasonCode: null,
        lastError: null,
      });
    });

    it('sends nothing twice when a report showed it taken before its dispatcher died', async () => {
      await ingest('identify', {
        userId: 'ivy',
        traits: {
          timezone: 'America/New_York',
          phone: '+14155550166',
          consent: { sms: { marketing: true } },
        },
      });
      const { decisionId } = await send('ivy', 'upsell', 'sms');
      const { config, store } = herald.services;
      const io = herald.services.dispatchIo;
      const leaseMs = config.deliverPolicy.leaseSeconds * 1000;
      // A dispatcher claims it, hands it to Twilio and dies before writing back.
      const start = clock.nowMs();
      expect((await io.claim('sms', start, 10, start + leaseMs)).map((c) => c.message.id)).toEqual([
        decisionId,
      ]);
      // Twilio's callbacks come seconds later, while the dead dispatcher's lease still runs.
      clock.set(start + 5000);
      for (const status of ['queued', 'sent', 'delivered']) {
        const report = new URLSearchParams({ MessageSid: 'SM-ivy', MessageStatus: status });
        await twilioPost(`/webhooks/twilio/status?message=${decisionId}`, report);
      }
      expect((await store.getMessage(decisionId))?.status).toBe('sending');
      // The lease runs out; the restarted dispatcher runs.
      clock.set(start + leaseMs + 1000);
      const sends: string[] = [];
      const twilio: ChannelAdapter = {
        name: 'twilio',
        channel: 'sms',
        send(delivery) {
          sends.push(delivery.to);
          return Promise.resolve({ kind: 'sent', providerId: 'SM-again' });
        },
        close: () => Promise.resolve(),
      };
      await createDispatcher([twilio], io, config.deliverPolicy, clock, silentLogger).runDue();
      expect(sends).toEqual([]);
      expect(await store.getMessage(decisionId)).toMatchObject({
        status: 'sent',
        providerId: 'SM-ivy',
        recipient: '+14155550166',
        sentAtMs: start + 5000,
      });
      const delivery = (await store.scanAudit(0, 1000))
        .filter((e) => e.kind === 'delivery')
        .map((e) => JSON.parse(e.data) as { decisionId: string; status: string });
      expect(delivery).toEqual([expect.objectContaining({ decisionId, status: 'sent' })]);
    });

    it('counts an unsubscribe through a message as proof it went, not a reason to block its retry', async () => {
      await ingest('identify', { userId: 'jo', traits: { email: 'jo@example.com' } });
      const { decisionId } = await send('jo', 'welcome-1');
      const { store } = herald.services;
      const io = herald.services.dispatchIo;
      const start = clock.nowMs();
      const [claimed] = await io.claim('email', start, 10, start + 300_000);
      if (claimed === undefined) throw new Error('nothing claimed');
      // The attempt gave up waiting for the relay, which delivered it all the same.
      await io.finish(
        [
          {
            message: claimed.message,
            kind: 'outcome',
            provider: 'smtp',
            to: 'jo@example.com',
            outcome: { kind: 'retry', reason: 'timed out waiting for the relay', afterMs: null },
          },
        ],
        start,
        start + 300_000,
      );
      const queued = await store.getMessage(decisionId);
      expect(queued).toMatchObject({ status: 'queued', attempts: 1 });
      // The customer presses their mail client's one-click unsubscribe.
      const answer = await oneClick(path(queued?.content?.unsubscribeUrl ?? ''));
      expect(answer.statusCode).toBe(200);
      expect(await store.getMessage(decisionId)).toMatchObject({
        status: 'sent',
        recipient: 'jo@example.com',
      });
      clock.set(start + HOUR_MS);
      await herald.services.dispatcher.runDue();
      expect((await store.getMessage(decisionId))?.status).toBe('sent');
    });

    it('learns from a SendGrid drop what put the address on its suppression list', async () => {
      const { store } = herald.services;
      const reasons = {
        una: 'Unsubscribed Address',
        spa: 'Spam Reporting Address',
        bou: 'Bounced Address',
        inv: 'Invalid',
      };
      for (const [userId, reason] of Object.entries(reasons)) {
        await ingest('identify', {
          userId,
          traits: { email: `${userId}@example.com`, consent: { email: { marketing: true } } },
        });
        const sent = await send(userId, 'welcome-1');
        const message = await store.getMessage(sent.decisionId);
        if (message === undefined) throw new Error('the message was not recorded');
        const nowMs = clock.nowMs();
        await recordMessageResult(
          herald.services.track,
          message,
          { kind: 'dropped', reason },
          nowMs,
          nowMs,
        );
        expect(await store.getMessage(sent.decisionId)).toMatchObject({ status: 'failed' });
      }
      const profile = async (userId: string) =>
        (await admin('GET', `/v1/profiles/${userId}`)).json<{
          consent: Record<string, Record<string, { granted: boolean; source: string }>>;
          email: { hardBounces: number; complaints: number };
        }>();
      expect((await profile('una')).consent['email']?.['marketing']).toMatchObject({
        granted: false,
        source: 'sendgrid-suppression',
      });
      expect((await profile('spa')).consent['email']?.['marketing']).toMatchObject({
        granted: false,
      });
      expect((await profile('spa')).email.complaints).toBe(1);
      expect((await profile('bou')).email.hardBounces).toBe(1);
      expect((await profile('inv')).consent['email']?.['marketing']).toMatchObject({
        granted: true,
      });
      expect((await profile('inv')).email).toMatchObject({ hardBounces: 0, complaints: 0 });
      // The unsubscribe or the complaint is the address's: another record of it gets no marketing.
      for (const userId of ['una', 'spa', 'inv']) {
        await ingest('identify', {
          userId: `${userId}-account`,
          traits: { email: `${userId}@example.com`, consent: { email: { marketing: true } } },
        });
        const other = await send(`${userId}-account`, 'upsell');
        expect({ userId, status: other.status }).toEqual({
          userId,
          status: userId === 'inv' ? 'queued' : 'blocked',
        });
      }
    });

    it('takes a SendGrid batch of the 768 KB SendGrid sends, above the ingest limit', async () => {
      await ingest('identify', { userId: 'gus', traits: { email: 'gus@example.com' } });
      const sent = await send('gus', 'welcome-1');
      await herald.services.dispatcher.runDue();
      // Reports about messages of another system, as a shared SendGrid account sends them.
      const others = Array.from({ length: 2200 }, (_, i) => ({
        email: `someone-${i}@example.com`,
        timestamp: T0 / 1000,
        event: 'delivered',
        response: '250 OK',
        sg_event_id: `ev-other-${i}-0000000000000000000000`,
        sg_message_id: `sg-other-${i}.recvd-5f54b5d587-pczjm-1-67BADEEA-6.0`,
        'smtp-id': `<14c5d75ce93.dfd.${i}@ismtpd-555>`,
        category: ['newsletter'],
      }));
      const payload = JSON.stringify([
        ...others,
        {
          email: 'gus@example.com',
          timestamp: T0 / 1000,
          event: 'unsubscribe',
          sg_event_id: 'ev-unsub',
          herald_message_id: sent.decisionId,
        },
      ]);
      expect(payload.length).toBeGreaterThan(600 * 1024);
      expect(payload.length).toBeLessThan(768 * 1000);
      const now = String(T0 / 1000);
      const answer = await herald.app.inject({
        method: 'POST',
        url: '/webhooks/sendgrid',
        headers: {
          'content-type': 'application/json',
          'x-twilio-email-event-webhook-timestamp': now,
          'x-twilio-email-event-webhook-signature': signSendGrid(now, payload),
        },
        payload,
      });
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ recorded: 1 });
      const profile = (await admin('GET', '/v1/profiles/gus')).json<{
        consent: Record<string, Record<string, { granted: boolean }>>;
      }>();
      expect(profile.consent['email']?.['marketing']).toMatchObject({ granted: false });
    });

    it('honours an SMS STOP reply signed by Twilio, and refuses an unsigned one', async () => {
      // The same phone on two accounts: both were texted, STOP speaks for both.
      for (const who of ['cy', 'cy-work'])
        await ingest('identify', {
          userId: who,
          traits: {
            timezone: 'America/New_York',
            phone: '+14155550123',
            consent: { sms: { marketing: true } },
          },
        });
      const first = await send('cy', 'upsell', 'sms');
      expect(first.status).toBe('queued');
      expect((await send('cy-work', 'upsell', 'sms')).status).toBe('queued');
      await herald.services.dispatcher.runDue();
      expect(await message(first.decisionId)).toMatchObject({
        status: 'sent',
        provider: 'capture',
      });
      const params = new URLSearchParams({
        From: '+14155550123',
        Body: ' stop ',
        MessageSid: 'SM1',
      });
      const inbound = '/webhooks/twilio/inbound';
      expect((await twilioPost(inbound, params, 'bad')).statusCode).toBe(401);
      expect((await send('cy', 'upsell', 'sms')).status).toBe('queued');
      const answer = await twilioPost(inbound, params);
      expect(answer.statusCode).toBe(200);
      expect(answer.body).toMatch(/<Response><\/Response>/);
      expect((await send('cy', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
      expect((await send('cy-work', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
      // START from the same phone opts both in again.
      clock.set(clock.nowMs() + 60_000);
      const start = new URLSearchParams({ From: '+14155550123', Body: 'START', MessageSid: 'SM2' });
      expect((await twilioPost(inbound, start)).statusCode).toBe(200);
      // (cy has had the two marketing texts a week allows.)
      expect((await send('cy', 'upsell', 'sms')).reasonCode).toBe('frequency_capped');
      expect((await send('cy-work', 'upsell', 'sms')).status).toBe('queued');
      // cy-work moves to another number, which stops; the old one, passed on, says START:
      // the new owner's opt-in is not cy-work's.
      await ingest('identify', {
        userId: 'cy-work',
        traits: { timezone: 'America/New_York', phone: '+14155550999' },
      });
      clock.set(clock.nowMs() + 60_000);
      await twilioPost(
        inbound,
        new URLSearchParams({ From: '+14155550123', Body: 'STOP', MessageSid: 'SM3' }),
      );
      clock.set(clock.nowMs() + 60_000);
      await twilioPost(
        inbound,
        new URLSearchParams({ From: '+14155550123', Body: 'START', MessageSid: 'SM4' }),
      );
      expect((await send('cy-work', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
    });

    it('takes a YES to a transactional text for no opt-in to marketing from one who never gave it', async () => {
      await ingest('identify', {
        userId: 'yan',
        traits: { timezone: 'America/New_York', phone: '+14155550177' },
      });
      expect((await send('yan', 'upsell', 'sms')).reasonCode).toBe('no_consent');
      // A transactional text ("Reply YES to confirm your delivery slot") reached them.
      await herald.services.store.transaction((tx) =>
        tx.insertMessages([
          aSentMessage('m-yan', 'yan', clock.nowMs(), {
            channel: 'sms',
            class: 'transactional',
            recipient: '+14155550177',
          }),
        ]),
      );
      clock.set(clock.nowMs() + 60_000);
      const yes = new URLSearchParams({ From: '+14155550177', Body: 'Yes!', MessageSid: 'SM9' });
      expect((await twilioPost('/webhooks/twilio/inbound', yes)).statusCode).toBe(200);
      expect((await send('yan', 'upsell', 'sms')).reasonCode).toBe('no_consent');
    });

    it('takes a Twilio status for the message its signed callback URL names, before its id is known', async () => {
      await ingest('identify', {
        userId: 'di',
        traits: {
          timezone: 'America/New_York',
          phone: '+14155550199',
          consent: { sms: { marketing: true } },
        },
      });
      const sent = await send('di', 'upsell', 'sms');
      // Twilio calls back before the send's answer is written: no message has its SID yet.
      const path = `/webhooks/twilio/status?message=${sent.decisionId}`;
      const params = new URLSearchParams({
        MessageSid: 'SM-not-yet-known',
        MessageStatus: 'undelivered',
        ErrorCode: '30003',
      });
      // The message named is part of what Twilio signed: another one cannot be put in its place.
      const other = (await send('di', 'upsell', 'sms')).decisionId;
      const swapped = `/webhooks/twilio/status?message=${other}`;
      expect((await twilioPost(swapped, params, twilioSignature(path, params))).statusCode).toBe(
        401,
      );
      expect((await twilioPost(path, params)).statusCode).toBe(204);
      const events = (await admin('GET', '/v1/profiles/di/events')).json<{
        events: { event: string | null; properties: { messageId?: string } }[];
      }>().events;
      expect(events).toContainEqual(
        expect.objectContaining({
          event: 'SMS Undelivered',
          properties: expect.objectContaining({ messageId: sent.decisionId }),
        }),
      );
    });

    it('takes Twilio’s "sent" for a message back in the outbox after an attempt gave up: no second send', async () => {
      await ingest('identify', {
        userId: 'fay',
        traits: {
          timezone: 'America/New_York',
          phone: '+14155550123',
          consent: { sms: { marketing: true } },
        },
      });
      const sent = await send('fay', 'upsell', 'sms');
      // As an attempt that timed out leaves it: queued again, one attempt counted, no SID.
      await herald.raw(`UPDATE messages SET attempts = 1 WHERE id = '${sent.decisionId}'`);
      const path = `/webhooks/twilio/status?message=${sent.decisionId}`;
      const params = new URLSearchParams({ MessageSid: 'SM-fay', MessageStatus: 'sent' });
      expect((await twilioPost(path, params)).statusCode).toBe(204);
      expect(await message(sent.decisionId)).toMatchObject({ status: 'sent' });
      expect(await herald.services.store.messageByProviderId('SM-fay')).toMatchObject({
        id: sent.decisionId,
      });
      expect(await herald.services.dispatcher.runDue()).toBe(0);
      // A message not yet attempted is the dispatcher's to send, whatever a report says.
      const fresh = await send('fay', 'upsell', 'sms');
      const early = new URLSearchParams({ MessageSid: 'SM-fay-2', MessageStatus: 'queued' });
      await twilioPost(`/webhooks/twilio/status?message=${fresh.decisionId}`, early);
      expect(await message(fresh.decisionId)).toMatchObject({ status: 'queued' });
      // Claimed by a dispatcher: alive (its lease runs), the send is its to finish; dead (the
      // lease ran out before it wrote back), the report settles it.
      const claimed = async (leaseUntilMs: number) => {
        const id = (await send('fay', 'welcome-1', 'sms')).decisionId;
        await herald.raw(
          `UPDATE messages SET status = 'sending', lease_until_ms = ${String(leaseUntilMs)} WHERE id = '${id}'`,
        );
        const report = new URLSearchParams({ MessageSid: `SM-${id}`, MessageStatus: 'sent' });
        await twilioPost(`/webhooks/twilio/status?message=${id}`, report);
        return (await message(id)).status;
      };
      expect(await claimed(clock.nowMs() + 60_000)).toBe('sending');
      expect(await claimed(clock.nowMs() - 1)).toBe('sent');
    });

    it('keeps the number of a message a report settles after its dispatcher died, for a STOP from it', async () => {
      await ingest('identify', {
        userId: 'gus',
        traits: {
          timezone: 'America/New_York',
          phone: '+14155550144',
          consent: { sms: { marketing: true } },
        },
      });
      const { decisionId } = await send('gus', 'upsell', 'sms');
      // Claimed by a dispatcher that died before it wrote back (its lease ran out).
      await herald.raw(
        `UPDATE messages SET status = 'sending', lease_until_ms = ${String(clock.nowMs() - 1)} WHERE id = '${decisionId}'`,
      );
      const report = new URLSearchParams({ MessageSid: 'SM-gus', MessageStatus: 'delivered' });
      await twilioPost(`/webhooks/twilio/status?message=${decisionId}`, report);
      expect(await herald.services.store.getMessage(decisionId)).toMatchObject({
        status: 'sent',
        recipient: '+14155550144',
      });
      // The only text gus was sent went to that number: a STOP from it is theirs.
      const stop = new URLSearchParams({ From: '+14155550144', Body: 'STOP', MessageSid: 'SM5' });
      expect((await twilioPost('/webhooks/twilio/inbound', stop)).statusCode).toBe(200);
      expect((await send('gus', 'upsell', 'sms')).reasonCode).toBe('unsubscribed');
    });

    it('sends no more SMS to a number Twilio reports cannot receive, until the phone changes', async () => {
      await ingest('identify', {
        userId: 'ed',
        traits: {
          timezone: 'America/New_York',
          phone: '+14155550177',
          consent: { sms: { marketing: true } },
        },
      });
      const sent = await send('ed', 'upsell', 'sms');
      const path = `/webhooks/twilio/status?message=${sent.decisionId}`;
      const params = new URLSearchParams({
        MessageSid: 'SM-ed',
        MessageStatus: 'undelivered',
        ErrorCode: '30005',
        To: '+14155550177',
      });
      expect((await twilioPost(path, params)).statusCode).toBe(204);
      expect(await send('ed', 'upsell', 'sms')).toMatchObject({
        status: 'blocked',
        reasonCode: 'no_recipient',
      });
      await ingest('identify', {
        userId: 'ed',
        traits: { timezone: 'America/New_York', phone: '+14155550178' },
      });
      expect((await send('ed', 'upsell', 'sms')).status).toBe('queued');
    });

    it('takes published web content down when its customer opts out of it or of sale', async () => {
      const expiresAt = new Date(T0 + 2 * HOUR_MS).toISOString();
      for (const userId of ['dk', 'dl']) {
        await ingest('identify', { userId, traits: { firstName: 'D' } });
        const web = await send(userId, 'welcome-banner', 'web', { slot: 'home-hero', expiresAt });
        expect(web.status).toBe('queued');
      }
      await herald.services.dispatcher.runDue();
      expect(await contentOf('dk')).not.toBeNull();
      expect(await contentOf('dl')).not.toBeNull();
      await ingest('track', {
        userId: 'dk',
        event: 'Consent Updated',
        properties: { channel: 'web', granted: false },
      });
      expect(
        (await admin('POST', '/v1/customers/dl/do-not-sell', { doNotSell: true })).statusCode,
      ).toBe(200);
      expect(await contentOf('dk')).toBeNull();
      expect(await contentOf('dl')).toBeNull();
    });

    it('takes published web content down when a GDPR consent runs out while it is shown', async () => {
      const granted = clock.nowMs();
      await ingest('identify', {
        userId: 'de-web',
        traits: { firstName: 'D', country: 'DE', consent: { web: { marketing: true } } },
      });
      // Published two hours before the consent is three years old, for a day.
      clock.set(granted + 1095 * 24 * HOUR_MS - 2 * HOUR_MS);
      const expiresAt = new Date(clock.nowMs() + 24 * HOUR_MS).toISOString();
      const web = await send('de-web', 'welcome-banner', 'web', { slot: 'home-hero', expiresAt });
      expect(web.status).toBe('queued');
      await herald.services.dispatcher.runDue();
      expect(await contentOf('de-web')).not.toBeNull();
      clock.set(clock.nowMs() + 3 * HOUR_MS);
      expect(await contentOf('de-web')).toBeNull();
    });

    it("never answers a user signed in on a shared computer with another user's content", async () => {
      // Ann identified on the family computer once (its anonymous id): a banner is hers.
      await ingest('identify', {
        userId: 'ann',
        anonymousId: 'family-pc',
        traits: { firstName: 'Ann' },
      });
      const expiresAt = new Date(T0 + 2 * HOUR_MS).toISOString();
      await send('ann', 'welcome-banner', 'web', { slot: 'home-hero', expiresAt });
      await herald.services.dispatcher.runDue();
      // Ben signs in on it (his server signs his id), and the page sends both ids.
      const asBen = (anonymousId: string) =>
        herald.app.inject({
          url: `/v1/personalize?userId=ben&userSignature=${signatureOf('ben')}&anonymousId=${anonymousId}&slot=home-hero&writeKey=${writeKey}`,
        });
      expect((await asBen('family-pc')).json<{ content: unknown }>().content).toBeNull();
    });

    it('serves published web content to the site, with a TTL, until it expires', async () => {
      await ingest('identify', { userId: 'di', traits: { firstName: 'Di' } });
      const expiresAt = new Date(T0 + 2 * HOUR_MS).toISOString();
      const web = await send('di', 'welcome-banner', 'web', { slot: 'home-hero', expiresAt });
      expect(web.status).toBe('queued');
      await herald.services.dispatcher.runDue();
      const signature = signatureOf('di');
      const ask = () => askForContent('di');
      // The write key is public: a user id without the server's signature reads nothing.
      const unsigned = await herald.app.inject({
        url: `/v1/personalize?userId=di&slot=home-hero&writeKey=${writeKey}`,
      });
      expect(unsigned.statusCode).toBe(401);
      const answer = (await ask()).json<{ ttlSeconds: number; content: { body: string } | null }>();
      expect(answer.content?.body).toBe('Welcome to Herald Store, Di!');
      expect(answer.ttlSeconds).toBe(300);
      // Content carrying an offer comes down when the offer's code expires, not only the slot.
      await herald.raw(
        `UPDATE messages SET body = replace(body, '"web":', '"offerEndsMs":${String(T0 + 90_000)},"web":') WHERE id = '${web.decisionId}'`,
      );
      const offered = (await ask()).json<{ ttlSeconds: number; content: unknown }>();
      expect(offered.ttlSeconds).toBe(90);
      clock.set(T0 + 90_000);
      expect((await ask()).json<{ content: unknown }>().content).toBeNull();
      await herald.raw(
        `UPDATE messages SET body = replace(body, '"offerEndsMs":${String(T0 + 90_000)},', '') WHERE id = '${web.decisionId}'`,
      );
      expect(
        (await herald.app.inject({ url: '/v1/personalize?userId=di&slot=home-hero' })).statusCode,
      ).toBe(401);
      const script = await herald.app.inject({ url: '/v1/personalize.js' });
      expect(script.body).toMatch(/data-herald-slot/);
      // The script on a page, signed in as di: it fills the slot and reports the impression
      // with the signature, which a verified source needs (docs/api.md, "Verified sources").
      const tracked: { context?: { userSignature?: string } }[] = [];
      const inflight: Promise<unknown>[] = [];
      const slot = {
        textContent: '',
        getAttribute: () => 'home-hero',
        setAttribute: () => undefined,
        addEventListener: () => undefined,
      };
      const page = {
        window: {} as { Herald?: { personalize(o: object): Promise<unknown> } },
        document: { querySelectorAll: () => [slot] },
        fetch: async (url: string, init?: { method?: string; body?: string }) => {
          const path = url.slice('http://herald.test'.length);
          if (init?.body !== undefined) tracked.push(JSON.parse(init.body) as never);
          const answering = herald.app.inject({
            method: init?.method === 'POST' ? 'POST' : 'GET',
            url: path,
            ...(init?.body === undefined
              ? {}
              : { payload: init.body, headers: { 'content-type': 'application/json' } }),
          });
          inflight.push(answering);
          const answer = await answering;
          return { json: () => Promise.resolve(answer.json()) };
        },
      };
      runInNewContext(script.body, page);
      await page.window.Herald?.personalize({
        host: 'http://herald.test',
        writeKey,
        userId: 'di',
        userSignature: signature,
      });
      expect(slot.textContent).toBe('Welcome to Herald Store, Di!');
      await Promise.all(inflight);
      expect(tracked).toMatchObject([
        { event: 'Web Content Viewed', context: { userSignature: signature } },
      ]);
      clock.set(T0 + 3 * HOUR_MS);
      expect((await ask()).json<{ content: unknown }>().content).toBeNull();
    });
  });
}

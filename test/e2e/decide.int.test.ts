import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/core/time.js';
import { summariseSegments } from '../../src/pipeline/decide/index.js';
import { deriveComputed } from '../../src/pipeline/profile/index.js';
import {
  adminGet,
  adminToken,
  basicAuth,
  startHerald,
  type TestHerald,
  ingestCall,
  writeKey,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

// Wednesday 2026-06-03 12:00 UTC: well outside the default quiet hours (21:00–08:00 UTC).
const T0 = Date.UTC(2026, 5, 3, 12);
interface DecisionView {
  id: string;
  agent: string;
  action: string;
  status: string;
  template: string;
  scheduledFor: string;
  reasons: string[];
  incentive: { percent: number; code: string; expiresAt: string } | null;
  journey: { id: string; stepId: string } | null;
  channels: string[];
  alternatives: { agent: string; reason: string }[];
  scores?: { churnRisk: { value: number; source: string; modelVersion: number | null } };
}
// The admin API's answers: each call fills the fields of its own route.
interface AdminBody {
  decisions: DecisionView[];
  work: { key: string; status: string; note: string; trigger: { kind: string } }[];
  journeys: { journeyId: string; status: string; exitReason: string }[];
  computed: { lifecycleStage: string };
}
const json = { 'content-type': 'application/json' };
let messages = 0;

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(
    `deciding over HTTP on virtual time (${factory.name})`,
    () => {
      let herald: TestHerald;
      let clock: VirtualClock;
      beforeEach(async () => {
        clock = createVirtualClock(T0);
        herald = await startHerald(factory, { clock });
      });
      afterEach(async () => {
        await herald.close();
      });

      const track = async (userId: string, event: string, properties: object = {}) => {
        messages += 1;
        const response = await herald.app.inject({
          method: 'POST',
          url: '/v1/track',
          headers: { ...json, authorization: basicAuth() },
          payload: JSON.stringify({
            userId,
            event,
            properties,
            messageId: `m-${messages}`,
            timestamp: new Date(clock.nowMs()).toISOString(),
          }),
        });
        expect(response.statusCode).toBe(200);
      };
      const identify = async (userId: string, traits: object) => {
        messages += 1;
        const response = await herald.app.inject({
          method: 'POST',
          url: '/v1/identify',
          headers: { ...json, authorization: basicAuth() },
          payload: JSON.stringify({
            userId,
            traits,
            messageId: `m-${messages}`,
            timestamp: new Date(clock.nowMs()).toISOString(),
          }),
        });
        expect(response.statusCode).toBe(200);
      };
      /** Any call of the tracking API (a visitor's, an alias), at the clock's time. */
      const call = (type: string, body: object) =>
        herald.app.inject({
          method: 'POST',
          url: `/v1/${type}`,
          headers: { ...json, authorization: basicAuth() },
          payload: JSON.stringify({
            ...body,
            messageId: `m-${String((messages += 1))}`,
            timestamp: new Date(clock.nowMs()).toISOString(),
          }),
        });
      const admin = (url: string) => adminGet<AdminBody>(herald, url);
      const decisionsOf = async (userId: string) =>
        (await admin(`/v1/decisions?customerId=${userId}`)).decisions;
      const runAt = async (atMs: number) => {
        clock.set(atMs);
        return herald.services.worker.runDue();
      };

      it('recovers a $250 cart idle for 2 h with a 20 % code valid 48 h', async () => {
        await identify('cart-1', { email: 'cart-1@example.com' });
        await track('cart-1', 'Product Added', {
          product_id: 'p1',
          name: 'Boots',
          price: 180,
          quantity: 1,
        });
        await track('cart-1', 'Product Added', {
          product_id: 'p2',
          name: 'Socks',
          price: 70,
          quantity: 1,
        });
        expect(await runAt(T0 + 2 * HOUR_MS - MINUTE_MS)).toEqual([]);
        await runAt(T0 + 2 * HOUR_MS);
        const [decision, ...others] = await decisionsOf('cart-1');
        expect(others).toEqual([]);
        expect(decision?.agent).toBe('cart');
        expect(decision?.status).toBe('scheduled');
        expect(decision?.scheduledFor).toBe(new Date(T0 + 2 * HOUR_MS).toISOString());
        expect(decision?.incentive?.percent).toBe(20);
        expect(decision?.incentive?.expiresAt).toBe(new Date(T0 + 50 * HOUR_MS).toISOString());
        expect(decision?.incentive?.code).toMatch(/^CART20-[A-Z2-9]{12}$/);
        expect(decision?.journey).toMatchObject({ id: 'cart-recovery', stepId: 'offer' });
        expect(decision?.channels[0]).toBe('email');
        expect(decision?.reasons.join(' ')).toMatch(/cart of \$250\.00 idle for 2 h/);
        // No churn model is trained here: the decision says its churn risk came from the rules.
        expect(decision?.scores).toEqual({
          churnRisk: { value: expect.any(Number), source: 'rules', modelVersion: null },
        });
      });

      it('recovers the merged cart of a visitor who signs in, from the newer cart’s timer', async () => {
        await identify('cart-m', { email: 'cart-m@example.com' });
        await track('cart-m', 'Product Added', { product_id: 'p1', price: 50, quantity: 1 });
        clock.set(T0 + 30 * MINUTE_MS);
        await call('track', {
          anonymousId: 'v-m',
          event: 'Product Added',
          properties: { product_id: 'p2', price: 80, quantity: 1 },
        });
        await runAt(T0 + 105 * MINUTE_MS);
        // The visitor signs in: one cart of $130, last changed at 00:30.
        await call('identify', { anonymousId: 'v-m', userId: 'cart-m', traits: {} });
        await runAt(T0 + 2 * HOUR_MS);
        await runAt(T0 + 2 * HOUR_MS + 30 * MINUTE_MS);
        const offers = (await decisionsOf('cart-m')).filter((d) => d.agent === 'cart');
        expect(offers).toHaveLength(1);
        expect(offers[0]?.scheduledFor).toBe(
          new Date(T0 + 2 * HOUR_MS + 30 * MINUTE_MS).toISOString(),
        );
        expect(offers[0]?.reasons.join(' ')).toMatch(/cart of \$130\.00/);
      });

      it('numbers a guest’s order among the orders of the customer they sign in as', async () => {
        await identify('ord-u', { email: 'ord-u@example.com' });
        for (let i = 1; i <= 4; i += 1) {
          clock.set(T0 + i * DAY_MS);
          await track('ord-u', 'Order Completed', { order_id: `ou-${String(i)}`, total: 30 });
          await runAt(T0 + i * DAY_MS + MINUTE_MS);
        }
        // A guest checkout on another device, then a sign-in before the worker's next round.
        clock.set(T0 + 10 * DAY_MS);
        await call('track', {
          anonymousId: 'ord-g',
          event: 'Order Completed',
          properties: { order_id: 'ou-5', total: 30 },
        });
        await call('identify', { anonymousId: 'ord-g', userId: 'ord-u', traits: {} });
        await runAt(T0 + 10 * DAY_MS + MINUTE_MS);
        const reasons = (await decisionsOf('ord-u'))
          .filter((d) => d.agent === 'milestone')
          .map((d) => d.reasons[0]);
        expect(reasons).toContain('order number 5 is a milestone');
        expect(reasons.filter((r) => r === 'order number 1 is a milestone')).toHaveLength(1);
      });

      it('goes on deciding for everyone after a createdAt in nanoseconds, and shows its profile', async () => {
        // Go's time.Now().UnixNano(): taken for epoch milliseconds, a time beyond any calendar.
        await identify('nano', { email: 'nano@example.com', createdAt: 1_780_488_000_000_000_000 });
        // A profile that took such a number before it was refused.
        await identify('stored-nano', { email: 'stored-nano@example.com' });
        const stored = toCustomerId('stored-nano');
        await herald.services.store.transaction(async (tx) => {
          const before = (await tx.loadProfiles([stored])).get(stored);
          if (before === undefined) throw new Error('no profile stored');
          const state = { ...before, signedUpAtMs: 1_780_488_000_000_000_000 };
          const computed = deriveComputed(state, T0, herald.services.config.profilePolicy);
          await tx.saveProfiles([{ customerId: stored, state, computed }]);
        });
        await identify('cart-3', { email: 'cart-3@example.com' });
        await track('cart-3', 'Product Added', { product_id: 'p1', price: 250, quantity: 1 });
        // The day's sweep looks at every customer, then the cart's timer runs.
        await runAt(T0 + 2 * HOUR_MS);
        expect((await decisionsOf('cart-3')).map((d) => d.action)).toEqual(['cart-recovery']);
        for (const userId of ['nano', 'stored-nano']) {
          const response = await herald.app.inject({
            url: `/v1/profiles/${userId}`,
            headers: { authorization: `Bearer ${adminToken}` },
          });
          expect(response.statusCode, userId).toBe(200);
          expect(response.json(), userId).toMatchObject({ userId, signedUpAt: null });
        }
      });

      it('cancels the cart recovery when an order comes before the 2 h', async () => {
        await identify('cart-2', { email: 'cart-2@example.com' });
        await track('cart-2', 'Product Added', { product_id: 'p1', price: 250, quantity: 1 });
        clock.set(T0 + HOUR_MS);
        await track('cart-2', 'Order Completed', { order_id: 'o-1', total: 250 });
        await runAt(T0 + HOUR_MS);
        await runAt(T0 + 3 * HOUR_MS);
        const decisions = await decisionsOf('cart-2');
        expect(decisions.filter((d) => d.agent === 'cart')).toEqual([]);
        const work = (await admin('/v1/customers/cart-2/work')).work;
        expect(work.find((w) => w.key === 'cart-2|cart')).toMatchObject({
          status: 'cancelled',
          note: 'order placed',
        });
      });

      it('runs the welcome journey on days 1 and 3 and exits it on a purchase on day 5', async () => {
        await identify('new-1', { email: 'new-1@example.com' });
        await track('new-1', 'Signed Up');
        await runAt(T0);
        let decisions = await decisionsOf('new-1');
        expect(decisions.map((d) => `${d.journey?.id}/${d.journey?.stepId}`).sort()).toEqual([
          'welcome/day-1-banner',
          'welcome/day-1-email',
        ]);
        await runAt(T0 + 2 * DAY_MS);
        decisions = await decisionsOf('new-1');
        expect(decisions[0]?.journey?.stepId).toBe('day-3-email');
        expect(decisions[0]?.scheduledFor).toBe(new Date(T0 + 2 * DAY_MS).toISOString());

        clock.set(T0 + 4 * DAY_MS);
        await track('new-1', 'Order Completed', { order_id: 'o-new-1', total: 40 });
        await runAt(T0 + 4 * DAY_MS);
        await runAt(T0 + 8 * DAY_MS);
        decisions = await decisionsOf('new-1');
        expect(decisions.some((d) => d.journey?.stepId === 'day-7-email')).toBe(false);
        // The day-3 email was due before the order but is still in the outbox (no dispatcher
        // runs here): it goes with the journey, and its message with it.
        const day3 = decisions.find((d) => d.journey?.stepId === 'day-3-email');
        expect(day3).toMatchObject({ status: 'cancelled' });
        expect(day3?.reasons.at(-1)).toBe('cancelled: event Order Completed');
        const outbox = await adminGet<{ messages: { id: string; status: string }[] }>(
          herald,
          '/v1/messages?userId=new-1',
        );
        expect(outbox.messages.find((m) => m.id === day3?.id)?.status).toBe('cancelled');
        const journeys = (await admin('/v1/customers/new-1/journeys')).journeys;
        expect(journeys.find((j) => j.journeyId === 'welcome')).toMatchObject({
          status: 'exited',
          exitReason: 'event Order Completed',
        });
        const profile = await admin('/v1/profiles/new-1');
        expect(profile.computed.lifecycleStage).toBe('active');
        // The stage change is an event in the customer's history.
        const changes = (await admin('/v1/customers/new-1/work')).work.filter((w) =>
          w.key.includes('|stage-changed|'),
        );
        expect(changes).toMatchObject([
          { status: 'done', trigger: { kind: 'stage-changed', from: 'new', to: 'active' } },
        ]);
        // The first order is a milestone; the stage change's upsell lost arbitration to it.
        const thanks = decisions.find((d) => d.action === 'first-order-thanks');
        expect(thanks?.alternatives.map((a) => a.agent)).toContain('lifecycle');
      });

      it('refuses at hand-off a journey message back for a retry when the journey has exited', async () => {
        await identify('new-2', { email: 'new-2@example.com' });
        await track('new-2', 'Signed Up');
        await runAt(T0);
        await runAt(T0 + 2 * DAY_MS);
        const day3 = (await decisionsOf('new-2')).find((d) => d.journey?.stepId === 'day-3-email');
        // A dispatcher tried it and the provider timed out: back in the outbox for a retry, as
        // the dispatcher leaves it. The provider may have it; its report is still to come.
        await herald.raw(
          `UPDATE messages SET attempts = 1, send_at_ms = ${String(T0 + 4 * DAY_MS + HOUR_MS)} WHERE id = '${day3?.id ?? ''}'`,
        );
        clock.set(T0 + 4 * DAY_MS);
        await track('new-2', 'Order Completed', { order_id: 'o-new-2', total: 40 });
        await runAt(T0 + 4 * DAY_MS);
        const messageOf = async () =>
          (
            await adminGet<{
              messages: { id: string; status: string; reasonCode: string | null }[];
            }>(herald, '/v1/messages?userId=new-2')
          ).messages.find((m) => m.id === day3?.id);
        // The decision is over; the message is not taken back (it may have gone once)...
        expect((await decisionsOf('new-2')).find((d) => d.id === day3?.id)).toMatchObject({
          status: 'cancelled',
          reasons: expect.arrayContaining(['cancelled: event Order Completed']) as string[],
        });
        expect((await messageOf())?.status).toBe('queued');
        // ...but its retry does not go after the exit: before, the day-3 email went beside the
        // order's thanks.
        clock.set(T0 + 4 * DAY_MS + 2 * HOUR_MS);
        await herald.services.dispatcher.runDue();
        expect(await messageOf()).toMatchObject({
          status: 'blocked',
          reasonCode: 'decision_cancelled',
        });
        expect(await herald.services.store.capturedMessage(day3?.id ?? '')).toBeUndefined();
      });

      it('raises a stage change made before the worker first looked, over two batches', async () => {
        // The day's sweep runs first, with nobody yet: the customer comes after it, without a
        // signup, and orders twice before the worker looks at them.
        await runAt(T0);
        await identify('late-1', { email: 'late-1@example.com' });
        await track('late-1', 'Order Completed', { order_id: 'l1', total: 100 });
        await track('late-1', 'Order Completed', { order_id: 'l2', total: 600 });
        await runAt(T0 + 60_000);
        const changes = (await admin('/v1/customers/late-1/work')).work.filter((w) =>
          w.key.includes('|stage-changed|'),
        );
        expect(changes).toMatchObject([
          { status: 'done', trigger: { kind: 'stage-changed', from: 'new', to: 'active' } },
        ]);
      });

      it('raises the stage change a visitor made before identifying, at the first look', async () => {
        await runAt(T0);
        const visit = (body: object) => call('track', { anonymousId: 'v-late', ...body });
        expect((await visit({ event: 'Product Viewed', properties: {} })).statusCode).toBe(200);
        expect(
          (await visit({ event: 'Order Completed', properties: { order_id: 'v1', total: 80 } }))
            .statusCode,
        ).toBe(200);
        // Identified before the worker looked: the visitor's marks go with them.
        expect(
          (await call('identify', { userId: 'late-2', anonymousId: 'v-late', traits: {} }))
            .statusCode,
        ).toBe(200);
        await runAt(T0 + 60_000);
        const changes = (await admin('/v1/customers/late-2/work')).work.filter((w) =>
          w.key.includes('|stage-changed|'),
        );
        expect(changes).toMatchObject([
          { status: 'done', trigger: { kind: 'stage-changed', from: 'new', to: 'active' } },
        ]);
      });

      it('goes on with the welcome journey of a visitor who signed up before identifying', async () => {
        const post = (route: string, body: object) => ingestCall(herald, clock, route, body);
        await post('track', { anonymousId: 'visitor-1', event: 'Signed Up' });
        await runAt(T0);
        clock.set(T0 + HOUR_MS);
        await post('identify', {
          userId: 'ann',
          anonymousId: 'visitor-1',
          traits: { email: 'ann@example.com' },
        });
        expect((await admin('/v1/customers/ann/journeys')).journeys).toMatchObject([
          { journeyId: 'welcome', status: 'active' },
        ]);
        const steps = (await admin('/v1/customers/ann/work')).work.filter((w) =>
          w.key.startsWith('ann|journey|'),
        );
        expect(steps).toMatchObject([{ key: 'ann|journey|welcome', status: 'pending' }]);
        await runAt(T0 + 2 * DAY_MS);
        const decisions = await decisionsOf('ann');
        expect(decisions.map((d) => d.journey?.stepId)).toContain('day-3-email');
      });

      it('shows a visitor the banner queued before they identified, and erases it with them', async () => {
        const post = (route: string, body: object) => ingestCall(herald, clock, route, body);
        await post('track', { anonymousId: 'visitor-3', event: 'Signed Up' });
        await runAt(T0);
        clock.set(T0 + HOUR_MS);
        await post('identify', {
          userId: 'dee',
          anonymousId: 'visitor-3',
          traits: { email: 'dee@example.com' },
        });
        await herald.services.dispatcher.runDue();
        // Asked for as dee, by the site's server's signature of the id (the anonymous id alone
        // leads to a known user: an unverified key cannot show whose content that is).
        const signature = createHmac('sha256', herald.services.linkSecret)
          .update('user:dee')
          .digest('hex');
        const banner = await herald.app.inject({
          url: `/v1/personalize?userId=dee&userSignature=${signature}&slot=homepage-hero&writeKey=${writeKey}`,
        });
        expect(banner.json<{ content: { template: string } | null }>().content).toMatchObject({
          template: 'welcome-banner',
        });
        const exported = (
          await herald.app.inject({
            url: '/v1/customers/dee/export',
            headers: { authorization: `Bearer ${adminToken}` },
          })
        ).json<{
          computed: { lifecycleStage: string; churnRisk: number } | null;
          decisions: { journey: { stepId: string } | null }[];
          messages: { id: string; template: string; status: string }[];
          journeys: { journeyId: string }[];
          conversions: unknown[];
          audit: { kind: string; data: { decisionId?: string } }[];
        }>();
        expect(exported.decisions.map((d) => d.journey?.stepId)).toContain('day-1-banner');
        // What Herald works out about them, and where they stand in journeys and experiments.
        expect(exported.computed).toMatchObject({ lifecycleStage: 'new' });
        expect(exported.computed?.churnRisk).toBeGreaterThanOrEqual(0);
        expect(exported.journeys).toMatchObject([{ journeyId: 'welcome' }]);
        expect(exported.conversions).toEqual([]);
        expect(exported.messages).toContainEqual(
          expect.objectContaining({ template: 'welcome-banner', status: 'sent' }),
        );
        // The visitor's decisions were audited under the visitor's pseudonym, which dee holds.
        const audited = new Set(exported.audit.map((e) => e.data.decisionId));
        for (const message of exported.messages) expect(audited).toContain(message.id);
        const erased = await herald.app.inject({
          method: 'POST',
          url: '/v1/customers/dee/erase',
          headers: { ...json, authorization: `Bearer ${adminToken}` },
          payload: JSON.stringify({ reason: 'customer request' }),
        });
        expect(erased.statusCode).toBe(200);
        const store = herald.services.store;
        for (const id of ['dee', 'anon:visitor-3'].map(toCustomerId)) {
          expect(await store.listMessages({ customerId: id, limit: 10 })).toEqual([]);
          expect(await store.listDecisions({ customerId: id, limit: 10 })).toEqual([]);
          expect(await store.pseudonymsOfCustomer(id)).toEqual([]);
        }
      });

      it('sends a one-off campaign to a segment, once per customer', async () => {
        await identify('camp-new', { email: 'camp-new@example.com' });
        await identify('camp-vip', { email: 'camp-vip@example.com' });
        await track('camp-vip', 'Order Completed', { order_id: 'o-camp-1', total: 400 });
        await track('camp-vip', 'Order Completed', { order_id: 'o-camp-2', total: 300 });
        await runAt(T0);
        const send = (body: object) =>
          herald.app.inject({
            method: 'POST',
            url: '/v1/campaigns',
            headers: { ...json, authorization: `Bearer ${adminToken}` },
            payload: JSON.stringify(body),
          });
        const bad = await send({ id: 'summer', template: 't', channels: ['fax'], segment: 'Nope' });
        expect(bad.statusCode).toBe(400);
        // The field, once, with the values it may take (the validator stops at the first field).
        expect(bad.json<{ error: { problems: unknown[] } }>().error.problems).toEqual([
          {
            path: '/channels/0',
            message: 'must be one of "email", "sms", "whatsapp", "push", "web"',
          },
        ]);
        const extra = await send({ id: 'x', template: 'upsell', channels: ['email'], when: 1 });
        expect(extra.json()).toMatchObject({
          error: { problems: [{ path: '/when', message: 'is not a field this request takes' }] },
        });
        // An offer valid for longer than a year is refused: past JavaScript's last date, its
        // expiry once failed every worker round that wrote it.
        const forever = await send({
          id: 'forever',
          template: 'upsell',
          channels: ['email'],
          incentive: { percent: 10, validHours: 9007199254740991 },
        });
        expect(forever.json()).toMatchObject({
          error: { problems: [{ path: '/incentive/validHours', message: 'must be at most 8784' }] },
        });
        const status = await herald.app.inject({
          method: 'GET',
          url: '/v1/decisions?status=foo',
          headers: { authorization: `Bearer ${adminToken}` },
        });
        expect(status.statusCode).toBe(400);
        expect(status.json()).toMatchObject({
          error: {
            message:
              '/querystring/status must be one of "scheduled", "skipped", "escalated", "cancelled"',
          },
        });
        const unknown = await send({ id: 'summer', template: 'summer-sale', channels: ['email'] });
        expect(unknown.statusCode).toBe(400);
        expect(unknown.json()).toMatchObject({
          error: { problems: [{ path: '/template', message: 'no template named "summer-sale"' }] },
        });
        // An offer through a template that never prints its code: a discount no message names.
        const unnamed = await send({
          id: 'summer',
          template: 'upsell',
          channels: ['email'],
          incentive: { percent: 15, validHours: 72 },
        });
        expect(unnamed.statusCode).toBe(400);
        expect(unnamed.json()).toMatchObject({
          error: {
            problems: [
              {
                path: '/incentive',
                message: expect.stringContaining(
                  'template "upsell" does not print the code (incentive.code) on email',
                ),
              },
            ],
          },
        });
        const body = {
          id: 'summer',
          template: 'upsell',
          channels: ['email'],
          segment: 'High-Value Recent',
        };
        expect((await send(body)).statusCode).toBe(202);
        expect((await send(body)).statusCode).toBe(202);
        await runAt(T0 + HOUR_MS);
        const toVip = (await decisionsOf('camp-vip')).filter((d) => d.agent === 'campaign');
        expect(toVip).toMatchObject([
          { action: 'campaign:summer', template: 'upsell', status: 'scheduled' },
        ]);
        expect((await decisionsOf('camp-new')).filter((d) => d.agent === 'campaign')).toEqual([]);
        // A visitor who only browsed is no customer of a segment, nor of a cluster; a guest who
        // ordered is one, an order cancelled since included (as the KPIs count customers).
        await ingestCall(herald, clock, 'page', { anonymousId: 'anon-1', name: 'Home' });
        for (const event of ['Order Completed', 'Order Cancelled'])
          await ingestCall(herald, clock, 'track', {
            anonymousId: 'guest-1',
            event,
            properties: { order_id: 'g1', total: 20 },
          });
        const summary = await summariseSegments(
          herald.services.store,
          herald.services.decide,
          clock.nowMs(),
          { k: 2 },
        );
        expect(summary).toMatchObject({
          customers: 3,
          anonymousVisitors: 1,
          bySegment: { New: 2, 'High-Value Recent': 1 },
        });
        expect(summary.clusters?.map((c) => c.size)).toEqual([2, 1]);
        // camp-new was never active (an identify is not activity): seen today, not a year ago.
        const recencies = summary.clusters?.map((c) => c.centroid.recencyDays) ?? [];
        expect(Math.max(...recencies)).toBeLessThan(1);
      });

      it('picks the win-back tier by LTV once a customer has been dormant for 90 days', async () => {
        for (const [userId, total] of [
          ['wb-200', 200],
          ['wb-600', 600],
          ['wb-1500', 1500],
        ] as const) {
          await identify(userId, { email: `${userId}@example.com`, phone: '+15555550100' });
          await track(userId, 'Order Completed', { order_id: `o-${userId}`, total });
        }
        await runAt(T0);
        await runAt(T0 + 91 * DAY_MS);
        const first = async (userId: string) =>
          (await decisionsOf(userId)).find((d) => d.agent === 'win-back');
        expect(await first('wb-200')).toMatchObject({
          action: 'win-back-email',
          template: 'win-back-generic',
          status: 'scheduled',
        });
        expect((await first('wb-200'))?.incentive?.percent).toBe(10);
        expect(await first('wb-600')).toMatchObject({
          template: 'win-back-new-products',
          status: 'scheduled',
        });
        expect((await first('wb-600'))?.incentive?.percent).toBe(20);
        expect(await first('wb-1500')).toMatchObject({
          action: 'concierge-outreach',
          status: 'escalated',
          incentive: null,
        });
      });
    },
  );
}

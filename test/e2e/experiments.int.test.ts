import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { toCustomerId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import { isInCampaignHoldout, isInGlobalHoldout } from '../../src/pipeline/experiment/index.js';
import { globalHoldoutExperimentId } from '../../src/pipeline/guard-and-record.js';
import { defaultGuardrails, type Guardrail } from '../../src/pipeline/guard/index.js';
import { openPixelUrl } from '../../src/pipeline/render/track-links.js';
import { recordMessageResult } from '../../src/pipeline/track-messages.js';
import { reallocateBandits } from '../../src/pipeline/experiment-results.js';
import {
  adminToken,
  basicAuth,
  batchCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

// Wednesday 2026-06-03 12:00 UTC: outside the default quiet hours.
const T0 = Date.UTC(2026, 5, 3, 12);
const json = { 'content-type': 'application/json' };
let seq = 0;

interface ArmView {
  arm: string;
  units: number;
  exposed: number;
  converted: number;
  revenue: number;
}
interface Results {
  arms: ArmView[];
  holdout: {
    analysis: {
      arms: { name: string; n: number }[];
      sampleRatio: { p: number; alarm: boolean };
      metrics: {
        name: string;
        comparisons: { absoluteLift: { estimate: number }; alwaysValidHolmP: number }[];
      }[];
    };
    incrementalRevenue: {
      estimate: number;
      lower: number | null;
      upper: number | null;
      note?: string;
    };
  };
  segments: { segment: string; holdout: { units: number }[] }[];
}

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(`experiments, holdouts and KPIs (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, { clock });
    });
    afterEach(async () => {
      await herald.close();
    });
    const batch = async (events: object[]) => {
      await batchCall(
        herald,
        events.map((e) => {
          seq += 1;
          return {
            messageId: `x-${seq}`,
            timestamp: new Date(clock.nowMs()).toISOString(),
            ...e,
          };
        }),
      );
    };
    const order = (userId: string, orderId: string, total: number) => ({
      type: 'track',
      userId,
      event: 'Order Completed',
      properties: { order_id: orderId, total },
    });
    /** An admin's POST. */
    const admin = (url: string, body: object) =>
      herald.app.inject({
        method: 'POST',
        url,
        headers: { ...json, authorization: `Bearer ${adminToken}` },
        payload: JSON.stringify(body),
      });
    const get = (url: string) =>
      herald.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${adminToken}` } });

    it('measures a campaign against its holdout: assigned when decided, exposed when sent, orders in the window', async () => {
      const ids = Array.from({ length: 80 }, (_, i) => `h${i}`);
      await batch(
        ids.map((id) => ({ type: 'identify', userId: id, traits: { email: `${id}@example.com` } })),
      );
      const created = await herald.app.inject({
        method: 'POST',
        url: '/v1/campaigns',
        headers: { ...json, authorization: `Bearer ${adminToken}` },
        payload: JSON.stringify({
          id: 'spring',
          template: 'upsell',
          channels: ['email'],
          holdoutPercent: 25,
        }),
      });
      expect(created.statusCode).toBe(202);
      // Launched again with another holdout: refused, as its messages would be assigned by one
      // share and analysed by the other.
      const relaunched = await herald.app.inject({
        method: 'POST',
        url: '/v1/campaigns',
        headers: { ...json, authorization: `Bearer ${adminToken}` },
        payload: JSON.stringify({
          id: 'spring',
          template: 'upsell',
          channels: ['email'],
          holdoutPercent: 10,
        }),
      });
      expect(relaunched.statusCode).toBe(409);
      expect(relaunched.body).toContain('25 % holdout');
      // Or to another segment: the design, and any copy written for it, name the first.
      const elsewhere = await herald.app.inject({
        method: 'POST',
        url: '/v1/campaigns',
        headers: { ...json, authorization: `Bearer ${adminToken}` },
        payload: JSON.stringify({
          id: 'spring',
          template: 'upsell',
          channels: ['email'],
          segment: 'At-Risk',
          holdoutPercent: 25,
        }),
      });
      expect(elsewhere.statusCode).toBe(409);
      expect(elsewhere.body).toContain('launched to everyone on email');
      await herald.services.worker.runDue();
      const held = new Set(
        ids.filter((id) =>
          isInCampaignHoldout(toCustomerId(id), {
            salt: 'campaign',
            campaignId: 'spring',
            percent: 25,
          }),
        ),
      );
      expect(held.size).toBeGreaterThan(5);
      const beforeResponse = await get('/v1/experiments/spring/results');
      expect(beforeResponse.statusCode, beforeResponse.body).toBe(200);
      const before = beforeResponse.json<Results>();
      const arm = (r: Results, name: string) => r.arms.find((a) => a.arm === name);
      expect(arm(before, 'holdout')).toMatchObject({ units: held.size, exposed: 0 });
      // Assigned when decided, exposed only once sent.
      expect(arm(before, 'treatment')).toMatchObject({ units: 80 - held.size, exposed: 0 });
      await herald.services.dispatcher.runDue();
      const sent = (await get('/v1/experiments/spring/results')).json<Results>();
      expect(arm(sent, 'treatment')).toMatchObject({
        units: 80 - held.size,
        exposed: 80 - held.size,
      });
      expect(arm(sent, 'holdout')?.exposed).toBe(0);

      // Every third customer orders $30 an hour later; the same order again counts once; an
      // order 8 days later is past the 7-day window.
      clock.set(T0 + HOUR_MS);
      const buyers = ids.filter((_, i) => i % 3 === 0);
      await batch(buyers.map((id) => order(id, `o-${id}`, 30)));
      await batch([order(buyers[0] ?? '', `o-${buyers[0] ?? ''}`, 30)]);
      clock.set(T0 + 8 * DAY_MS);
      await batch([order('h1', 'late-1', 500)]);

      const results = (await get('/v1/experiments/spring/results')).json<Results>();
      const treatedBuyers = buyers.filter((id) => !held.has(id)).length;
      const heldBuyers = buyers.filter((id) => held.has(id)).length;
      expect(arm(results, 'treatment')).toMatchObject({
        converted: treatedBuyers,
        revenue: treatedBuyers * 30,
      });
      expect(arm(results, 'holdout')).toMatchObject({
        converted: heldBuyers,
        revenue: heldBuyers * 30,
      });
      const nT = 80 - held.size;
      const nH = held.size;
      const lift = treatedBuyers / nT - heldBuyers / nH;
      expect(
        results.holdout.analysis.metrics[0]?.comparisons[0]?.absoluteLift.estimate,
      ).toBeCloseTo(lift, 12);
      expect(results.holdout.analysis.arms).toEqual([
        { name: 'holdout', n: nH, share: nH / 80, designedShare: 0.25 },
        { name: 'treatment', n: nT, share: nT / 80, designedShare: 0.75 },
      ]);
      expect(results.holdout.incrementalRevenue.estimate).toBeCloseTo(
        ((treatedBuyers * 30) / nT - (heldBuyers * 30) / nH) * nT,
        9,
      );
      // Twenty held out expect a handful of buyers, far from the 100 an interval needs: it is
      // unbounded (infinite ends print as null), and the note says why.
      expect(results.holdout.incrementalRevenue).toMatchObject({ lower: null, upper: null });
      expect(results.holdout.incrementalRevenue.note).toMatch(/fewer than the 100/);
      // Per segment: every unit is counted under the segment it was in when assigned.
      expect(results.segments.reduce((n, s) => n + (s.holdout[0]?.units ?? 0), 0)).toBe(nT);

      const listed = (await get('/v1/experiments')).json<{
        experiments: { id: string; units: number; exposed: number }[];
      }>();
      expect(listed.experiments).toEqual([
        expect.objectContaining({ id: 'spring', units: 80, exposed: nT }),
      ]);
      const timeline = (await get('/v1/experiments/spring/timeline')).json<{
        days: {
          day: string;
          lifts: { treatment: string; absoluteLift: { estimate: number } }[];
          alwaysValidPath: Record<string, number>;
        }[];
      }>();
      // Everyone was assigned on one day: that day's cumulative figures are the results'.
      expect(timeline.days.map((d) => d.day)).toEqual(['2026-06-03']);
      expect(timeline.days[0]?.lifts[0]?.absoluteLift.estimate).toBeCloseTo(lift, 12);
      expect(timeline.days[0]?.alwaysValidPath['treatment']).toBe(
        results.holdout.analysis.metrics[0]?.comparisons[0]?.alwaysValidHolmP,
      );
      expect((await get('/v1/experiments/autumn/results')).statusCode).toBe(404);
    });

    it('credits a unit with the orders of the record it was merged into, in the arm it was drawn', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `m${i}`);
      await batch(
        ids.map((id) => ({ type: 'identify', userId: id, traits: { email: `${id}@example.com` } })),
      );
      const created = await admin('/v1/campaigns', {
        id: 'merged',
        template: 'upsell',
        channels: ['email'],
        holdoutPercent: 25,
      });
      expect(created.statusCode).toBe(202);
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
      const drawn = ids.find(
        (id) =>
          !isInCampaignHoldout(toCustomerId(id), {
            salt: 'campaign',
            campaignId: 'merged',
            percent: 25,
          }),
      );
      // An hour later the treated customer signs up anew and links the old id to the new one.
      clock.set(T0 + HOUR_MS);
      await batch([
        { type: 'identify', userId: 'new-account', traits: { email: 'new@example.com' } },
        { type: 'alias', userId: 'new-account', previousId: drawn },
      ]);
      await herald.services.worker.runDue();
      clock.set(T0 + 2 * HOUR_MS);
      await batch([order('new-account', 'o-merged', 30)]);
      await herald.services.worker.runDue();
      const results = (await get('/v1/experiments/merged/results')).json<Results>();
      expect(results.arms.find((a) => a.arm === 'treatment')).toMatchObject({
        converted: 1,
        revenue: 30,
      });
      // One unit a person: the merged record's moved, not copied.
      expect(results.arms.reduce((n, a) => n + a.units, 0)).toBe(ids.length);
    });

    it('keeps one unit of a person both of whose records were in the test', async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `p${i}`);
      await batch(
        ids.map((id) => ({ type: 'identify', userId: id, traits: { email: `${id}@example.com` } })),
      );
      expect(
        (
          await admin('/v1/campaigns', {
            id: 'twice',
            template: 'upsell',
            channels: ['email'],
            holdoutPercent: 50,
          })
        ).statusCode,
      ).toBe(202);
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
      const heldOut = (id: string) =>
        isInCampaignHoldout(toCustomerId(id), {
          salt: 'campaign',
          campaignId: 'twice',
          percent: 50,
        });
      const treated = ids.filter((id) => !heldOut(id));
      const held = ids.filter(heldOut);
      const [a = '', b = '', c = ''] = treated;
      const [d = ''] = held;
      // a buys before the merge, credited to a's unit; then a turns out to be b, and d to be c.
      clock.set(T0 + HOUR_MS);
      await batch([order(a, 'o-a', 30), order(d, 'o-d', 50)]);
      await herald.services.worker.runDue();
      clock.set(T0 + 2 * HOUR_MS);
      await batch([
        { type: 'alias', userId: b, previousId: a },
        { type: 'alias', userId: c, previousId: d },
      ]);
      await herald.services.worker.runDue();
      clock.set(T0 + 3 * HOUR_MS);
      await batch([order(c, 'o-c', 20)]);
      await herald.services.worker.runDue();
      const results = (await get('/v1/experiments/twice/results')).json<Results>();
      const arm = (name: string) => results.arms.find((x) => x.arm === name);
      // Two people fewer. a's order stays with the treated person it was; d's, bought in the
      // holdout by a person now measured as treated (c's arm, which their messages follow),
      // counts nowhere; c's own order counts for treatment.
      expect(arm('treatment')).toMatchObject({
        units: treated.length - 1,
        converted: 2,
        revenue: 50,
      });
      expect(arm('holdout')).toMatchObject({ units: held.length - 1, converted: 0, revenue: 0 });
    });

    it('reports the KPIs of a period from what was sent, opened and bought', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `k${i}`);
      await batch(
        ids.map((id) => ({ type: 'identify', userId: id, traits: { email: `${id}@example.com` } })),
      );
      await herald.app.inject({
        method: 'POST',
        url: '/v1/campaigns',
        headers: { ...json, authorization: `Bearer ${adminToken}` },
        payload: JSON.stringify({ id: 'kpi', template: 'upsell', channels: ['email'] }),
      });
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
      const messages = (await get('/v1/messages?limit=100')).json<{
        messages: { id: string; customerId: string; status: string }[];
      }>().messages;
      expect(messages.filter((m) => m.status === 'sent')).toHaveLength(20);
      // Two opens of one message count once; one other message opened.
      const pixel = (messageId: string) =>
        openPixelUrl({
          messageId,
          medium: 'email',
          campaign: 'kpi',
          content: 'upsell',
          base: '',
          linkSecret: herald.services.linkSecret,
        });
      for (const id of [messages[0]?.id, messages[0]?.id, messages[1]?.id])
        expect((await herald.app.inject({ method: 'GET', url: pixel(id ?? '') })).statusCode).toBe(
          200,
        );
      clock.set(T0 + 2 * HOUR_MS);
      await batch([order('k0', 'a', 40), order('k1', 'b', 60), order('k1', 'c', 20)]);
      const from = new Date(T0 - DAY_MS).toISOString();
      const to = new Date(T0 + DAY_MS).toISOString();
      const kpis = (await get(`/v1/kpis?from=${from}&to=${to}`)).json<{
        sent: { total: number; byChannel: Record<string, number> };
        revenuePerTouch: number;
        attributedRevenue: number;
        conversion: { numerator: number; denominator: number; rate: number; lower: number };
        open: { numerator: number; denominator: number };
        orders: number;
        averageOrderValue: number;
        cancelledOrders: number;
        complianceViolationsPer100k: number;
        prevented: { blocked: number };
        cartRecovery: { denominator: number };
        recoveredCartRevenue: number;
      }>();
      expect(kpis.sent).toEqual({ total: 20, byChannel: { email: 20 } });
      // Campaign messages only: no cart message, so no cart recovered.
      expect(kpis.cartRecovery.denominator).toBe(0);
      expect(kpis.recoveredCartRevenue).toBe(0);
      expect(kpis.attributedRevenue).toBe(120);
      expect(kpis.revenuePerTouch).toBe(6);
      expect(kpis.conversion).toMatchObject({ numerator: 2, denominator: 20, rate: 0.1 });
      expect(kpis.conversion.lower).toBeGreaterThan(0);
      expect(kpis.open).toMatchObject({ numerator: 2, denominator: 20 });
      expect(kpis.orders).toBe(3);
      expect(kpis.averageOrderValue).toBe(40);
      expect(kpis.cancelledOrders).toBe(0);
      expect(kpis.complianceViolationsPer100k).toBe(0);
      // A window outside the years a date may take, or at the edge of what JavaScript dates
      // allow, is a 400 naming the field.
      const early = await get('/v1/kpis?to=0001-01-01T00:00:00Z');
      expect(early.statusCode).toBe(400);
      expect(early.json()).toMatchObject({
        error: { message: 'to: "0001-01-01T00:00:00Z" is outside the years 1900 to 9999' },
      });
      const edge = await get('/v1/kpis?to=-271821-04-20T00:00:00Z');
      expect(edge.statusCode).toBe(400);
      expect(edge.json()).toMatchObject({
        error: {
          message: 'to: "-271821-04-20T00:00:00Z" is not a date (use ISO-8601, e.g. 2026-01-31)',
        },
      });
      // Cancellations: k1's own order c goes out of the figures; k2 cannot cancel k0's order a;
      // k3's order d, whose cancellation came first, never counts.
      const cancel = (userId: string, orderId: string) => ({
        type: 'track',
        userId,
        event: 'Order Cancelled',
        properties: { order_id: orderId },
      });
      await batch([cancel('k1', 'c'), cancel('k2', 'a'), cancel('k3', 'd')]);
      await batch([order('k3', 'd', 500), cancel('k1', 'c')]);
      const net = (await get(`/v1/kpis?from=${from}&to=${to}`)).json<typeof kpis>();
      expect(net.orders).toBe(2);
      expect(net.averageOrderValue).toBe(50);
      expect(net.cancelledOrders).toBe(2);
      expect(net.attributedRevenue).toBe(100);
      expect(net.conversion).toMatchObject({ numerator: 2, denominator: 20 });
      // A merge makes an order cancelled before it the customer's own; one batch may cancel
      // more orders than a profile lists (200).
      await batch([
        {
          type: 'track',
          anonymousId: 'a9',
          event: 'Order Completed',
          properties: { order_id: 'o9', total: 10 },
        },
      ]);
      await batch([cancel('k5', 'o9')]);
      await batch([{ type: 'identify', userId: 'k5', anonymousId: 'a9' }]);
      const many = Array.from({ length: 201 }, (_, i) => `m${String(i)}`);
      await batch([...many.map((id) => order('k6', id, 1)), ...many.map((id) => cancel('k6', id))]);
      const later = (await get(`/v1/kpis?from=${from}&to=${to}`)).json<typeof kpis>();
      expect(later.orders).toBe(2);
      expect(later.cancelledOrders).toBe(2 + 1 + 201);
      // Another period: nothing in it.
      const empty = (
        await get(`/v1/kpis?from=${to}&to=${new Date(T0 + 2 * DAY_MS).toISOString()}`)
      ).json<{
        sent: { total: number };
        revenuePerTouch: number | null;
      }>();
      expect(empty).toMatchObject({ sent: { total: 0 }, revenuePerTouch: null });
      // Churn counts known customers: anonymous visitors who only browsed are not among them.
      const churnBase = async () =>
        (await get(`/v1/kpis?from=${from}&to=${to}`)).json<{ churn: { denominator: number } }>()
          .churn.denominator;
      const known = await churnBase();
      expect(known).toBeGreaterThan(0);
      await batch(
        ['v1', 'v2', 'v3'].map((anonymousId) => ({ type: 'page', anonymousId, name: 'Home' })),
      );
      expect(await churnBase()).toBe(known);
      // A guest who ordered is a customer, even once the order was refunded in full.
      await batch([
        {
          type: 'track',
          anonymousId: 'g1',
          event: 'Order Completed',
          properties: { order_id: 'g-o', total: 40 },
        },
        {
          type: 'track',
          anonymousId: 'g1',
          event: 'Order Refunded',
          properties: { order_id: 'g-o', total: 40 },
        },
      ]);
      expect(await churnBase()).toBe(known + 1);
      const bad = await get('/v1/kpis?from=yesterday');
      expect(bad.statusCode).toBe(400);
      expect(bad.json<{ error: { message: string } }>().error.message).toBe(
        'from: "yesterday" is not a date (use ISO-8601, e.g. 2026-01-31)',
      );
      // Named at its parameter, as every other error of a query is.
      expect(bad.json<{ error: { problems: unknown[] } }>().error.problems).toEqual([
        {
          path: '/querystring/from',
          message: '"yesterday" is not a date (use ISO-8601, e.g. 2026-01-31)',
        },
      ]);
      const backwards = await get(`/v1/kpis?from=${to}&to=${from}`);
      expect(backwards.statusCode).toBe(400);
      expect(backwards.json<{ error: { message: string } }>().error.message).toMatch(
        /^from \(.*\) must be before to/,
      );
      expect(
        backwards
          .json<{ error: { problems: { path: string }[] } }>()
          .error.problems.map((p) => p.path),
      ).toEqual(['/querystring/from', '/querystring/to']);
    });

    it('credits the message an order names (utm_id from the click) over the last touch', async () => {
      await batch([{ type: 'identify', userId: 'ut', traits: { email: 'ut@example.com' } }]);
      const launch = async (id: string) => {
        await herald.app.inject({
          method: 'POST',
          url: '/v1/campaigns',
          headers: { ...json, authorization: `Bearer ${adminToken}` },
          payload: JSON.stringify({ id, template: 'upsell', channels: ['email'] }),
        });
        await herald.services.worker.runDue();
        await herald.services.dispatcher.runDue();
      };
      await launch('first');
      clock.set(T0 + HOUR_MS);
      await launch('second');
      const messages = (await get('/v1/messages?limit=10')).json<{
        messages: { id: string; campaignId: string; status: string }[];
      }>().messages;
      const first = messages.find((m) => m.campaignId === 'first');
      const second = messages.find((m) => m.campaignId === 'second');
      expect(first?.status).toBe('sent');
      expect(second?.status).toBe('sent');
      clock.set(T0 + 2 * HOUR_MS);
      // The shop's page carried the first message's utm_id into the order's campaign context.
      await batch([
        { ...order('ut', 'u-1', 70), context: { campaign: { source: 'herald', id: first?.id } } },
        order('ut', 'u-2', 30),
      ]);
      // An order whose cancellation came first is no order: nothing is credited for it.
      await batch([
        {
          type: 'track',
          userId: 'ut',
          event: 'Order Cancelled',
          properties: { order_id: 'u-3', total: 50 },
        },
      ]);
      await batch([order('ut', 'u-3', 50)]);
      const conversions = (await get('/v1/conversions?userId=ut')).json<{
        conversions: { orderId: string; decisionId: string }[];
      }>().conversions;
      expect(Object.fromEntries(conversions.map((c) => [c.orderId, c.decisionId]))).toEqual({
        'u-1': first?.id,
        'u-2': second?.id,
      });

      // u-2 cancelled a day later: its conversion is withdrawn, once, with an audit entry on the
      // decision that had the credit; a cancellation of an order never placed takes nothing.
      clock.set(T0 + DAY_MS);
      const cancel = (orderId: string) => ({
        type: 'track',
        userId: 'ut',
        event: 'Order Cancelled',
        properties: { order_id: orderId, total: 30 },
      });
      await batch([cancel('u-2')]);
      await batch([cancel('u-2'), cancel('never-placed')]);
      const after = (await get('/v1/conversions?userId=ut')).json<{
        conversions: { orderId: string }[];
      }>().conversions;
      expect(after.map((c) => c.orderId)).toEqual(['u-1']);
      const { store } = herald.services;
      const trail = await store.auditOf(await store.pseudonymsOfCustomer(toCustomerId('ut')));
      expect(
        trail
          .filter((e) => e.kind === 'conversion-cancelled')
          .map((e) => JSON.parse(e.data) as unknown),
      ).toEqual([{ decisionId: second?.id, revenue: 30 }]);
      expect((await get('/v1/audit/verify')).json<{ ok: boolean }>().ok).toBe(true);
    });

    it('credits no message sent after an order with that order sent again', async () => {
      await batch([{ type: 'identify', userId: 'rs', traits: { email: 'rs@example.com' } }]);
      await batch([order('rs', 'r-1', 100)]);
      // The thank-you for it goes an hour later; a campaign the next day.
      clock.set(T0 + HOUR_MS);
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
      clock.set(T0 + DAY_MS);
      await admin('/v1/campaigns', { id: 'after', template: 'upsell', channels: ['email'] });
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
      const messages = (await get('/v1/messages?limit=10')).json<{
        messages: { campaignId: string | null; status: string }[];
      }>().messages;
      expect(messages.find((m) => m.campaignId === 'after')?.status).toBe('sent');
      // The shop sends the day-old order again (a backfill, a status webhook re-sent).
      clock.set(T0 + DAY_MS + HOUR_MS);
      await batch([order('rs', 'r-1', 100)]);
      const conversions = (await get('/v1/conversions?userId=rs')).json<{
        conversions: unknown[];
      }>().conversions;
      expect(conversions).toEqual([]);
    });

    it('rolls automated marketing out by stage and rolls it back on a complaint', async () => {
      expect((await get('/v1/rollout')).json()).toEqual({ staged: false, percent: 100 });
      expect((await admin('/v1/rollout/check', { uptime: 1 })).statusCode).toBe(409);
      const started = await admin('/v1/rollout/start', {});
      expect(started.json()).toMatchObject({ staged: true, percent: 5 });
      // Started again while under way (a retry, a second click): refused, not started over.
      const again = await admin('/v1/rollout/start', {});
      expect(again.statusCode).toBe(409);
      expect(again.json<{ error: { message: string } }>().error.message).toMatch(
        /^a rollout is under way at 5 % .*\{"restart": true\}$/,
      );
      const misspelt = await admin('/v1/rollout/start', { percent: 50 });
      expect(misspelt.statusCode).toBe(400);
      expect(misspelt.json<{ error: { problems: unknown[] } }>().error.problems).toEqual([
        { path: '/percent', message: 'is not a field of this request (restart is)' },
      ]);
      const restarted = await admin('/v1/rollout/start', { restart: true });
      expect(restarted.statusCode).toBe(200);
      expect(restarted.json<{ history: unknown[] }>().history).toHaveLength(1);
      const ids = Array.from({ length: 200 }, (_, i) => `ro${i}`);
      await batch(
        ids.map((id) => ({ type: 'identify', userId: id, traits: { email: `${id}@example.com` } })),
      );
      const launch = async (id: string) => {
        await admin('/v1/campaigns', { id, template: 'upsell', channels: ['email'] });
        await herald.services.worker.runDue();
        await herald.services.dispatcher.runDue();
        return (await get(`/v1/messages?limit=500`))
          .json<{
            messages: {
              id: string;
              campaignId: string;
              status: string;
              reasonCode: string | null;
            }[];
          }>()
          .messages.filter((m) => m.campaignId === id);
      };
      const first = await launch('stage-1');
      const sent = first.filter((m) => m.status === 'sent');
      expect(sent.length).toBeGreaterThan(2);
      expect(sent.length).toBeLessThan(25);
      expect(first.filter((m) => m.reasonCode === 'outside_rollout')).toHaveLength(
        200 - sent.length,
      );
      // Too few messages to judge the stage: hold.
      const held = (await admin('/v1/rollout/check', { uptime: 1, p95LatencyMs: 40 })).json<{
        decision: { action: string; reasons: string[] };
        health: { messages: number };
      }>();
      expect(held.decision.action).toBe('hold');
      expect(held.health.messages).toBe(sent.length);
      // A recipient reports spam: the rollout stops, nobody gets automated marketing.
      const complained = await herald.services.store.getMessage(sent[0]?.id ?? '');
      if (complained === undefined) throw new Error('no message');
      await recordMessageResult(
        herald.services.track,
        complained,
        { kind: 'complained' },
        clock.nowMs(),
        clock.nowMs(),
      );
      const stopped = (await admin('/v1/rollout/check', { uptime: 1, p95LatencyMs: 40 })).json<{
        decision: { action: string; toPercent: number };
        rollout: { percent: number; history: unknown[] };
      }>();
      expect(stopped.decision).toMatchObject({ action: 'roll-back', toPercent: 0 });
      expect(stopped.rollout.history).toHaveLength(3);
      // Stopped, it stays stopped: the next check does not start it over.
      const after = (await admin('/v1/rollout/check', { uptime: 1, p95LatencyMs: 40 })).json<{
        decision: { action: string; percent: number; reasons: string[] };
        rollout: { percent: number };
      }>();
      expect(after.decision).toMatchObject({ action: 'hold', percent: 0 });
      expect(after.decision.reasons[0]).toMatch(/^stopped by a roll-back/);
      expect(after.rollout.percent).toBe(0);
      const second = await launch('stage-2');
      expect(second.filter((m) => m.status === 'sent')).toEqual([]);
      expect(second.every((m) => m.reasonCode === 'outside_rollout')).toBe(true);
    });

    it('sends nothing more to customers a roll-back left outside the cohort, queued or not', async () => {
      await admin('/v1/rollout/start', {});
      const ids = Array.from({ length: 200 }, (_, i) => `rb${i}`);
      await batch(
        ids.map((id) => ({ type: 'identify', userId: id, traits: { email: `${id}@example.com` } })),
      );
      await admin('/v1/campaigns', { id: 'queued', template: 'upsell', channels: ['email'] });
      // Decided and queued for the cohort; no dispatcher has run yet.
      await herald.services.worker.runDue();
      const listed = async () =>
        (await get('/v1/messages?limit=500')).json<{
          messages: { status: string; reasonCode: string | null }[];
        }>().messages;
      const queued = (await listed()).filter((m) => m.status === 'queued');
      expect(queued.length).toBeGreaterThan(0);
      // The stage is unhealthy: rolled back to none.
      const check = (await admin('/v1/rollout/check', { uptime: 0.5, p95LatencyMs: 40 })).json<{
        rollout: { percent: number };
      }>();
      expect(check.rollout.percent).toBe(0);
      await herald.services.dispatcher.runDue();
      const after = await listed();
      expect(after.filter((m) => m.status === 'sent')).toEqual([]);
      expect(after.filter((m) => m.reasonCode === 'outside_rollout')).toHaveLength(200);
    });

    it('holds marketing queued before a rollout started to no cohort', async () => {
      const ids = Array.from({ length: 100 }, (_, i) => `pre${i}`);
      await batch(
        ids.map((id) => ({ type: 'identify', userId: id, traits: { email: `${id}@example.com` } })),
      );
      await admin('/v1/campaigns', { id: 'before', template: 'upsell', channels: ['email'] });
      await herald.services.worker.runDue();
      // Started while the campaign's messages wait in the outbox: they were judged before it.
      await admin('/v1/rollout/start', {});
      await herald.services.dispatcher.runDue();
      const messages = (await get('/v1/messages?limit=500')).json<{
        messages: { status: string }[];
      }>().messages;
      expect(messages.filter((m) => m.status === 'sent')).toHaveLength(100);
    });

    it('counts a complaint in the stage it comes in, whenever its message was sent', async () => {
      await admin('/v1/rollout/start', {});
      const ids = Array.from({ length: 200 }, (_, i) => `lc${i}`);
      await batch(
        ids.map((id) => ({ type: 'identify', userId: id, traits: { email: `${id}@example.com` } })),
      );
      await admin('/v1/campaigns', { id: 'late', template: 'upsell', channels: ['email'] });
      await herald.services.worker.runDue();
      await herald.services.dispatcher.runDue();
      const sent = (await get('/v1/messages?limit=500'))
        .json<{ messages: { id: string; status: string }[] }>()
        .messages.filter((m) => m.status === 'sent');
      expect(sent.length).toBeGreaterThan(0);
      // The stage went on to 20 % an hour later (as an advance leaves it; a stage needs 1,000
      // messages to advance, too many for this test to send).
      const { store } = herald.services;
      const rollout = await store.transaction(async (tx) => tx.getSetting('rollout'));
      clock.set(T0 + HOUR_MS);
      await store.transaction((tx) =>
        tx.setSetting(
          'rollout',
          JSON.stringify({
            ...JSON.parse(rollout ?? '{}'),
            percent: 20,
            stageStartedAtMs: T0 + HOUR_MS,
          }),
        ),
      );
      // A recipient of the first stage's message complains during the second.
      clock.set(T0 + 2 * HOUR_MS);
      const message = await store.getMessage(sent[0]?.id ?? '');
      if (message === undefined) throw new Error('no message');
      const deps = herald.services.track;
      await recordMessageResult(
        deps,
        message,
        { kind: 'complained' },
        clock.nowMs(),
        clock.nowMs(),
      );
      clock.set(T0 + 3 * HOUR_MS);
      const checked = (await admin('/v1/rollout/check', { uptime: 1, p95LatencyMs: 40 })).json<{
        decision: { action: string; toPercent: number };
        health: { complianceViolations: number };
      }>();
      expect(checked.health.complianceViolations).toBe(1);
      expect(checked.decision).toMatchObject({ action: 'roll-back', toPercent: 0 });
      // The same complaint reported again later counts no second time.
      const again = await store.getMessage(message.id);
      if (again === undefined) throw new Error('no message');
      await recordMessageResult(deps, again, { kind: 'complained' }, clock.nowMs(), clock.nowMs());
      // Nor does a bounce reported after the complaint take it out.
      await recordMessageResult(
        deps,
        again,
        { kind: 'bounced', hard: true, reason: 'late' },
        clock.nowMs(),
        clock.nowMs(),
      );
      expect((await store.getMessage(message.id))?.status).toBe('complained');
      expect(await store.complaintsReceived(T0 + 2 * HOUR_MS + 1, T0 + 4 * HOUR_MS)).toBe(0);
      expect(await store.complaintsReceived(T0 + 2 * HOUR_MS, T0 + 4 * HOUR_MS)).toBe(1);
    });

    it('measures the global holdout on everything its customers buy after they entered it', async () => {
      await herald.close();
      herald = await startHerald(factory, {
        clock,
        configYaml: 'guard:\n  holdout:\n    globalPercent: 30\n    salt: g-salt\n',
      });
      // A guardrail blocks five customers' messages; they enter the global holdout's
      // experiment like everyone else (in the arm the hash gives), so who enters does not
      // depend on what earlier marketing did to them.
      const ids = Array.from({ length: 45 }, (_, i) => `g${i}`);
      const refused = new Set(ids.slice(40));
      const refuse: Guardrail = {
        name: 'test-refusal',
        check: (m) => [
          refused.has(m.customerId)
            ? {
                guardrail: 'test-refusal',
                outcome: 'block',
                code: 'refused',
                reason: 'test',
                figures: {},
              }
            : {
                guardrail: 'test-refusal',
                outcome: 'pass',
                code: 'ok',
                reason: 'test',
                figures: {},
              },
        ],
      };
      herald.services.guard.guardrails = [...defaultGuardrails, refuse];
      await batch(
        ids.map((id) => ({ type: 'identify', userId: id, traits: { email: `${id}@example.com` } })),
      );
      await herald.app.inject({
        method: 'POST',
        url: '/v1/campaigns',
        headers: { ...json, authorization: `Bearer ${adminToken}` },
        payload: JSON.stringify({ id: 'g-camp', template: 'upsell', channels: ['email'] }),
      });
      await herald.services.worker.runDue();
      const statuses = (await get('/v1/messages?limit=100')).json<{
        messages: { customerId: string; status: string }[];
      }>().messages;
      expect(
        statuses
          .filter((m) => m.status === 'blocked')
          .map((m) => m.customerId)
          .sort(),
      ).toEqual([...refused].sort());
      const global = new Set(
        ids.filter((id) => isInGlobalHoldout(toCustomerId(id), { salt: 'g-salt', percent: 30 })),
      );
      // Months later, still counted: the global holdout has no window.
      clock.set(T0 + 90 * DAY_MS);
      await batch(ids.map((id) => order(id, `g-${id}`, 10)));
      const id = globalHoldoutExperimentId({ percent: 30, salt: 'g-salt' });
      expect(id).toMatch(/^global-holdout-30pct-[0-9a-f]{8}$/);
      const results = (await get(`/v1/experiments/${id}/results`)).json<Results>();
      expect(results.arms.find((a) => a.arm === 'holdout')).toMatchObject({
        units: global.size,
        converted: global.size,
        revenue: global.size * 10,
      });
      expect(results.arms.find((a) => a.arm === 'treatment')?.units).toBe(45 - global.size);
    });

    describe.skipIf(!factory.available)(`journey experiments (${factory.name})`, () => {
      let herald: TestHerald;
      let clock: VirtualClock;
      const journeyYaml = `
decide:
  journeys:
    - id: onboarding-test
      entry: { trigger: signed-up }
      reEntry: never
      steps:
        - id: pick
          type: branch
          split:
            - { arm: short, weight: 3, next: short-email }
            - { arm: long, weight: 1, next: long-email }
        - { id: short-email, type: send, channels: [email], template: welcome-1, sendTimeOptimised: false, next: done }
        - id: long-email
          type: send
          channels: [email]
          template: welcome-2
          variants: [welcome-2, welcome-3]
          sendTimeOptimised: false
        - { id: done, type: exit }
`;
      beforeEach(async () => {
        clock = createVirtualClock(T0);
        herald = await startHerald(factory, { clock, configYaml: journeyYaml });
      });
      afterEach(async () => {
        await herald.close();
      });
      const get = (url: string) =>
        herald.app.inject({
          method: 'GET',
          url,
          headers: { authorization: `Bearer ${adminToken}` },
        });
      interface Listed {
        id: string;
        customerId: string;
        template: string;
        variant: string | null;
      }
      const allMessages = async (): Promise<Listed[]> => {
        const found: Listed[] = [];
        let before = '';
        for (;;) {
          const page = (
            await get(`/v1/messages?limit=500${before === '' ? '' : `&before=${before}`}`)
          ).json<{ messages: Listed[]; next: string | null }>();
          found.push(...page.messages);
          if (page.next === null) return found;
          before = page.next;
        }
      };

      it("measures a split by its designed weights and a step's template variants, then sends the winner to everyone", async () => {
        const ids = Array.from({ length: 1600 }, (_, i) => `j${i}`);
        await batchCall(
          herald,
          ids.map((id) => ({
            type: 'track',
            messageId: `su-${id}`,
            userId: id,
            event: 'Signed Up',
            timestamp: new Date(T0).toISOString(),
            context: { traits: { email: `${id}@example.com` } },
          })),
        );
        await batchCall(
          herald,
          ids.map((id) => ({
            type: 'identify',
            messageId: `id-${id}`,
            userId: id,
            traits: { email: `${id}@example.com` },
            timestamp: new Date(T0).toISOString(),
          })),
        );
        await herald.services.worker.runDue();
        await herald.services.dispatcher.runDue();
        const experiments = (await get('/v1/experiments')).json<{
          experiments: { id: string; units: number; exposed: number }[];
        }>().experiments;
        const split = experiments.find((e) => e.id === 'journey:onboarding-test@1:pick');
        const variants = experiments.find((e) => e.id === 'journey:onboarding-test@1:long-email');
        expect(split).toMatchObject({ units: 1600, exposed: 1600 });
        expect(variants?.units).toBeGreaterThan(50);
        // Nineteen in twenty customers sent welcome-3 buy, one in twenty of those sent welcome-2.
        // The variant test promotes welcome-3.
        const messages = await allMessages();
        expect(new Set(messages.filter((m) => m.variant !== null).map((m) => m.template))).toEqual(
          new Set(['welcome-2', 'welcome-3']),
        );
        clock.set(T0 + HOUR_MS);
        const buyers = [
          ...messages.filter((m) => m.template === 'welcome-3').filter((_, i) => i % 20 !== 0),
          ...messages.filter((m) => m.template === 'welcome-2').filter((_, i) => i % 20 === 0),
        ];
        await batchCall(
          herald,
          buyers.map((m, i) => ({
            type: 'track',
            messageId: `buy-${m.customerId}`,
            userId: m.customerId,
            event: 'Order Completed',
            properties: { order_id: `jb-${m.customerId}`, total: 10 + i },
            timestamp: new Date(T0 + HOUR_MS).toISOString(),
          })),
        );
        // The tests read units whose window (7 days from the send) has closed.
        clock.set(T0 + 7 * DAY_MS + HOUR_MS);
        const splitResults = (
          await get('/v1/experiments/journey:onboarding-test@1:pick/results')
        ).json<{
          arms: { arm: string; units: number }[];
          test: {
            analysis: {
              arms: { name: string; designedShare: number }[];
              sampleRatio: { alarm: boolean };
            };
          };
        }>();
        expect(splitResults.test.analysis.arms).toEqual([
          expect.objectContaining({ name: 'short', designedShare: 0.75 }),
          expect.objectContaining({ name: 'long', designedShare: 0.25 }),
        ]);
        expect(splitResults.test.analysis.sampleRatio.alarm).toBe(false);
        const long = splitResults.arms.find((a) => a.arm === 'long')?.units;
        expect(variants?.units).toBe(long);

        const promoted = await herald.app.inject({
          method: 'POST',
          url: '/v1/experiments/journey:onboarding-test@1:long-email/promote',
          headers: { ...json, authorization: `Bearer ${adminToken}` },
          payload: '{}',
        });
        expect(promoted.json(), promoted.body).toMatchObject({
          promoted: true,
          winner: 'welcome-3',
        });

        // New customers on the long path now all get the winner, and join no finished test.
        const late = Array.from({ length: 40 }, (_, i) => `late${i}`);
        await batchCall(
          herald,
          late.flatMap((id) => [
            {
              type: 'identify',
              messageId: `lid-${id}`,
              userId: id,
              traits: { email: `${id}@example.com` },
              timestamp: new Date(clock.nowMs()).toISOString(),
            },
            {
              type: 'track',
              messageId: `lsu-${id}`,
              userId: id,
              event: 'Signed Up',
              timestamp: new Date(clock.nowMs()).toISOString(),
            },
          ]),
        );
        await herald.services.worker.runDue();
        const after = (await allMessages()).filter((m) => m.customerId.startsWith('late'));
        const lateLong = after.filter((m) => m.variant !== null);
        expect(lateLong.length).toBeGreaterThan(0);
        expect(new Set(lateLong.map((m) => m.template))).toEqual(new Set(['welcome-3']));
        const finished = (await get('/v1/experiments')).json<{
          experiments: { id: string; units: number }[];
        }>().experiments;
        expect(finished.find((e) => e.id === 'journey:onboarding-test@1:long-email')?.units).toBe(
          variants?.units,
        );
      });
    });

    describe.skipIf(!factory.available)(`adaptive allocation (${factory.name})`, () => {
      let herald: TestHerald;
      let clock: VirtualClock;
      const yaml = `
decide:
  journeys:
    - id: tb
      entry: { trigger: signed-up }
      reEntry: never
      steps:
        - id: hello
          type: send
          channels: [email]
          template: welcome-2
          variants: [welcome-2, welcome-3]
          allocation: thompson
          sendTimeOptimised: false
    - id: tp
      entry: { event: Newsletter Joined }
      reEntry: never
      steps:
        - id: hello
          type: send
          channels: [email]
          template: welcome-1
          variants: [welcome-1, upsell]
          allocation: three-phase
          sendTimeOptimised: false
    - id: tr
      entry: { event: Wishlist Shared }
      reEntry: after-exit
      steps:
        - id: hello
          type: send
          channels: [email]
          template: welcome-1
          variants: [welcome-1, upsell]
          allocation: thompson
          sendTimeOptimised: false
`;
      beforeEach(async () => {
        clock = createVirtualClock(T0);
        herald = await startHerald(factory, { clock, configYaml: yaml });
      });
      afterEach(async () => {
        await herald.close();
      });
      const call = (method: 'GET' | 'POST', url: string, body?: object, auth?: string) =>
        herald.app.inject({
          method,
          url,
          headers: { ...json, authorization: auth ?? `Bearer ${adminToken}` },
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        });
      const signUp = async (ids: readonly string[]) => {
        const at = new Date(clock.nowMs()).toISOString();
        const r = await call(
          'POST',
          '/v1/batch',
          {
            batch: ids.flatMap((id) => [
              {
                type: 'identify',
                messageId: `i-${id}`,
                userId: id,
                traits: { email: `${id}@example.com` },
                timestamp: at,
              },
              {
                type: 'track',
                messageId: `s-${id}`,
                userId: id,
                event: 'Signed Up',
                timestamp: at,
              },
            ]),
          },
          basicAuth(),
        );
        expect(r.statusCode).toBe(200);
        await herald.services.worker.runDue();
        await herald.services.dispatcher.runDue();
      };
      /** Each customer's welcome-2 or welcome-3 message (the thompson step's variant). */
      const tbVariants = async () =>
        (await herald.services.store.listMessages({ limit: 10_000 }))
          .filter((m) => m.variant === 'welcome-2' || m.variant === 'welcome-3')
          .map((m) => ({ customerId: m.customerId, variant: m.variant ?? '' }));

      it('reallocates traffic toward the variant that converts, and checks the sample ratio against the weights it used', async () => {
        await signUp(Array.from({ length: 600 }, (_, i) => `a${i}`));
        const day1 = await tbVariants();
        expect(day1).toHaveLength(600);
        const share1 = day1.filter((m) => m.variant === 'welcome-3').length / 600;
        expect(share1).toBeGreaterThan(0.4);
        expect(share1).toBeLessThan(0.6);
        // Some join the newsletter: the three-phase step's first units.
        clock.set(T0 + HOUR_MS / 2);
        await call(
          'POST',
          '/v1/batch',
          {
            batch: Array.from({ length: 50 }, (_, i) => ({
              type: 'track',
              messageId: `n-${i}`,
              userId: `a${i}`,
              event: 'Newsletter Joined',
              timestamp: new Date(clock.nowMs()).toISOString(),
            })),
          },
          basicAuth(),
        );
        await herald.services.worker.runDue();
        await herald.services.dispatcher.runDue();
        // welcome-3 sells far better.
        clock.set(T0 + HOUR_MS);
        const buyers = day1.filter((m, i) =>
          m.variant === 'welcome-3' ? i % 10 < 3 : i % 30 === 0,
        );
        const at = new Date(clock.nowMs()).toISOString();
        await call(
          'POST',
          '/v1/batch',
          {
            batch: buyers.map((m) => ({
              type: 'track',
              messageId: `o-${m.customerId}`,
              userId: m.customerId,
              event: 'Order Completed',
              properties: { order_id: `o-${m.customerId}`, total: 30 },
              timestamp: at,
            })),
          },
          basicAuth(),
        );
        // The hourly housekeeping sets tomorrow's weights, once. No unit's window has closed
        // yet: a unit an hour old has had no time to order, so nothing is learnt from it.
        expect(await reallocateBandits(herald.services.store, clock.nowMs())).toEqual([
          'journey:tb@1:hello',
          'journey:tp@1:hello',
        ]);
        expect(await reallocateBandits(herald.services.store, clock.nowMs() + HOUR_MS)).toEqual([]);
        const young = (await call('GET', '/v1/experiments/journey:tb@1:hello/results')).json<{
          arms: { arm: string; exposed: number; tested: number }[];
        }>();
        expect(young.arms.map((a) => [a.exposed > 0, a.tested])).toEqual([
          [true, 0],
          [true, 0],
        ]);
        const tbWeights = async () =>
          (
            JSON.parse(
              (await herald.services.store.transaction((tx) =>
                tx.getSetting('allocation:tb@1/hello'),
              )) ?? '[]',
            ) as { weights: Record<string, number> }[]
          ).map((e) => e.weights);
        expect(await tbWeights()).toEqual([{ 'welcome-2': 0.5, 'welcome-3': 0.5 }]);

        // A week on, the first day's windows have closed: the weights follow what they sold.
        clock.set(T0 + 7 * DAY_MS + HOUR_MS);
        expect(await reallocateBandits(herald.services.store, clock.nowMs())).toContain(
          'journey:tb@1:hello',
        );

        // The next day's signups mostly get the better variant.
        clock.set(T0 + 8 * DAY_MS);
        await signUp(Array.from({ length: 400 }, (_, i) => `b${i}`));
        const day2 = (await tbVariants()).filter((m) => m.customerId.startsWith('b'));
        expect(day2).toHaveLength(400);
        const share2 = day2.filter((m) => m.variant === 'welcome-3').length / 400;
        expect(share2).toBeGreaterThan(0.85);

        const timeline = (await call('GET', '/v1/experiments/journey:tb@1:hello/timeline')).json<{
          days: { banditWeights: Record<string, number> }[];
        }>().days;
        expect(timeline).toHaveLength(2);
        expect(timeline[0]?.banditWeights).toEqual({ 'welcome-2': 0.5, 'welcome-3': 0.5 });
        const w3 = timeline[1]?.banditWeights['welcome-3'] ?? 0;
        expect(w3).toBeGreaterThan(0.9);
        // The sample-ratio check expects each day's split under that day's weights, once
        // the second day's windows have closed too.
        clock.set(T0 + 15 * DAY_MS + HOUR_MS);
        const results = (await call('GET', '/v1/experiments/journey:tb@1:hello/results')).json<{
          test: {
            analysis: {
              arms: { name: string; designedShare: number }[];
              sampleRatio: { alarm: boolean };
            };
          };
        }>();
        const expected = (600 * 0.5 + 400 * w3) / 1000;
        expect(
          results.test.analysis.arms.find((a) => a.name === 'welcome-3')?.designedShare,
        ).toBeCloseTo(expected, 9);
        expect(results.test.analysis.sampleRatio.alarm).toBe(false);

        // The three-phase step stays in its equal split until every arm has 1,000 trials.
        const tp = await herald.services.store.transaction((tx) =>
          tx.getSetting('allocation:tp@1/hello'),
        );
        const tpEntries = JSON.parse(tp ?? '[]') as {
          fromMs: number;
          mode: string;
          weights: Record<string, number>;
        }[];
        expect(tpEntries.map(({ fromMs, mode, weights }) => ({ fromMs, mode, weights }))).toEqual(
          [1, 8].map((days) => ({
            fromMs: T0 - 12 * HOUR_MS + days * DAY_MS,
            mode: 'equal-split',
            weights: { 'welcome-1': 0.5, upsell: 0.5 },
          })),
        );
      });

      it('keeps a customer who comes to the step again in the arm they are measured in, whatever the weights now', async () => {
        const ids = Array.from({ length: 200 }, (_, i) => `r${i}`);
        await signUp(ids);
        const share = async (round: number, who: readonly string[]) => {
          await call(
            'POST',
            '/v1/batch',
            {
              batch: who.map((id) => ({
                type: 'track',
                messageId: `w${round}-${id}`,
                userId: id,
                event: 'Wishlist Shared',
                timestamp: new Date(clock.nowMs()).toISOString(),
              })),
            },
            basicAuth(),
          );
          await herald.services.worker.runDue();
          await herald.services.dispatcher.runDue();
          // The tr step's messages of this round (no other journey here sends these two).
          const sent = (await herald.services.store.listMessages({ limit: 10_000 })).filter(
            (m) =>
              (m.variant === 'welcome-1' || m.variant === 'upsell') &&
              m.createdAtMs === clock.nowMs(),
          );
          expect(sent).toHaveLength(who.length);
          return new Map(sent.map((m) => [m.customerId as string, m.variant]));
        };
        const first = await share(1, ids);
        expect([...first.values()].filter((v) => v === 'upsell').length).toBeLessThan(140);
        // The bandit moves nearly all traffic to upsell from the next day.
        clock.set(T0 + DAY_MS);
        await herald.services.store.transaction((tx) =>
          tx.setSetting(
            'allocation:tr@1/hello',
            JSON.stringify([
              {
                fromMs: T0 + DAY_MS,
                mode: 'thompson',
                reasons: [],
                weights: { 'welcome-1': 0.05, upsell: 0.95 },
              },
            ]),
          ),
        );
        // Everyone shares again (the journey completed: re-entry after exit) and gets the arm
        // their unit holds, not the one the new weights would draw.
        const second = await share(2, ids);
        expect(second).toEqual(first);
        const arms = (await call('GET', '/v1/experiments/journey:tr@1:hello/results')).json<{
          arms: { arm: string; units: number }[];
        }>().arms;
        expect(arms.reduce((n, a) => n + a.units, 0)).toBe(ids.length);
        // Someone new to the step is drawn under the weights in force.
        clock.set(T0 + DAY_MS + HOUR_MS);
        const newcomers = Array.from({ length: 100 }, (_, i) => `n${i}`);
        await signUp(newcomers);
        const third = await share(3, newcomers);
        expect([...third.values()].filter((v) => v === 'upsell').length).toBeGreaterThan(80);
      });
    });
  });

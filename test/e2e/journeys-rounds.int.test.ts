import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { HOUR_MS, MINUTE_MS } from '../../src/core/time.js';
import {
  adminGet,
  ingestCall,
  startHerald,
  writeKey,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

// Wednesday 2026-06-03 12:00 UTC: well outside the default quiet hours (21:00–08:00 UTC).
const T0 = Date.UTC(2026, 5, 3, 12);

// A journey every view starts, and the next view starts again.
const browseYaml = `decide:
  journeys:
    - id: browse
      entry: { event: Product Viewed }
      exitOn: [Product Viewed]
      reEntry: after-exit
      steps:
        - { id: wait, type: wait, hours: 4 }
        - { id: nudge, type: send, channels: [email], template: upsell }
`;

// A message, then a wait until a view, then another message.
const quizYaml = `decide:
  journeys:
    - id: quiz
      entry: { event: Quiz Completed }
      steps:
        - { id: first, type: send, channels: [email], template: welcome-1 }
        - id: wait-view
          type: wait
          until: { event: Product Viewed, timeoutHours: 24 }
        - { id: second, type: send, channels: [email], template: welcome-2 }
`;

// A branch on traits that hold a list and an object.
const tiersYaml = `decide:
  journeys:
    - id: tiers
      entry: { event: Quiz Completed }
      steps:
        - id: gold
          type: branch
          if: { field: trait.plan, op: eq, value: { tier: gold, seats: 5 } }
          then: tagged
          else: done
        - id: tagged
          type: branch
          if: { field: trait.tags, op: in, value: [[vip], [staff]] }
          then: offer
          else: done
        - { id: offer, type: send, channels: [email], template: upsell }
        - { id: done, type: exit }
`;

interface AdminBody {
  decisions: { agent: string; action: string; status: string; createdAt: string }[];
  work: { key: string; status: string; note: string | null; dueAt: string }[];
  journeys: {
    journeyId: string;
    status: string;
    stepId: string;
    entries: number;
    enteredAt: string;
    exitReason: string | null;
  }[];
}

const iso = (ms: number) => new Date(ms).toISOString();

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`journeys over worker rounds (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    const start = async (configYaml?: string) => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, {
        clock,
        ...(configYaml === undefined ? {} : { configYaml }),
      });
    };
    afterEach(async () => {
      await herald.close();
    });

    const post = (route: string, body: object) => ingestCall(herald, clock, route, body);
    const admin = (url: string) => adminGet<AdminBody>(herald, url);
    const runAt = async (atMs: number) => {
      clock.set(atMs);
      await herald.services.worker.runDue();
    };
    const journeysOf = async (userId: string) =>
      (await admin(`/v1/customers/${userId}/journeys`)).journeys;
    const wakeUpsOf = async (userId: string) =>
      (await admin(`/v1/customers/${userId}/work`)).work.filter(
        (w) => w.key.includes('|journey|') && w.status === 'pending',
      );
    /** The home-hero content a signed-in customer's page is given. */
    const bannerOf = async (userId: string) => {
      const signature = createHmac('sha256', herald.services.linkSecret)
        .update(`user:${userId}`)
        .digest('hex');
      const answer = await herald.app.inject({
        url: `/v1/personalize?userId=${userId}&userSignature=${signature}&slot=homepage-hero&writeKey=${writeKey}`,
      });
      return answer.json<{ content: { template: string } | null }>().content;
    };
    const decisionsOf = async (userId: string) =>
      (await admin(`/v1/decisions?customerId=${userId}`)).decisions;

    it('ends the recovery of the cart an order closed, though a new cart began before the worker handled it', async () => {
      await start();
      await post('identify', { userId: 'buyer', traits: { email: 'buyer@example.com' } });
      await post('track', {
        userId: 'buyer',
        event: 'Product Added',
        properties: { product_id: 'p1', price: 120, quantity: 1 },
      });
      await runAt(T0 + 2 * HOUR_MS); // the cart's timer: its offer, and cart-recovery entered
      // A day later the customer buys, and begins a new cart before the worker's next round.
      const orderedAtMs = T0 + 25 * HOUR_MS;
      clock.set(orderedAtMs);
      await post('track', {
        userId: 'buyer',
        event: 'Order Completed',
        properties: { order_id: 'o1', total: 120 },
      });
      clock.set(orderedAtMs + 5000);
      await post('track', {
        userId: 'buyer',
        event: 'Product Added',
        properties: { product_id: 'p2', price: 30, quantity: 1 },
      });
      await runAt(orderedAtMs + 5000);
      expect(await journeysOf('buyer')).toMatchObject([
        { journeyId: 'cart-recovery', status: 'exited', exitReason: 'event Order Completed' },
      ]);
      // The recovery's day-1 wake-up (T0 + 26 h) no longer comes: no reminder after the purchase.
      await runAt(T0 + 26 * HOUR_MS);
      expect((await decisionsOf('buyer')).map((d) => d.action)).not.toContain(
        'cart-recovery/reminder',
      );
      // The new cart's timer enters the recovery again, with an offer of its own.
      const newTimerMs = orderedAtMs + 5000 + 2 * HOUR_MS;
      await runAt(newTimerMs);
      expect(await journeysOf('buyer')).toMatchObject([
        { journeyId: 'cart-recovery', status: 'active', entries: 2, enteredAt: iso(newTimerMs) },
      ]);
      // The first offer, still in the outbox (no dispatcher runs here), went with the journey
      // the order ended.
      const offers = (await decisionsOf('buyer')).filter((d) => d.agent === 'cart');
      expect(offers.map((d) => [d.createdAt, d.status])).toEqual([
        [iso(newTimerMs), 'scheduled'],
        [iso(T0 + 2 * HOUR_MS), 'cancelled'],
      ]);
    });

    it('keeps the wait of a journey started again in a round that also holds the last entry’s wake-up', async () => {
      await start(browseYaml);
      await post('identify', { userId: 'viewer', traits: { email: 'viewer@example.com' } });
      await post('track', {
        userId: 'viewer',
        event: 'Product Viewed',
        properties: { product_id: 'p1' },
      });
      await runAt(T0); // entered: wakes at T0 + 4 h
      clock.set(T0 + 3 * HOUR_MS);
      await post('track', {
        userId: 'viewer',
        event: 'Product Viewed',
        properties: { product_id: 'p2' },
      });
      // The worker was down for a while: its next round holds the view and the wake-up.
      const roundMs = T0 + 4 * HOUR_MS + MINUTE_MS;
      await runAt(roundMs);
      expect(await journeysOf('viewer')).toMatchObject([
        { status: 'active', stepId: 'nudge', entries: 2, enteredAt: iso(roundMs) },
      ]);
      expect(await decisionsOf('viewer')).toEqual([]);
      expect((await wakeUpsOf('viewer')).map((w) => w.dueAt)).toEqual([iso(roundMs + 4 * HOUR_MS)]);
      await runAt(roundMs + 4 * HOUR_MS);
      expect((await decisionsOf('viewer')).map((d) => d.action)).toEqual(['browse/nudge']);
      expect(await journeysOf('viewer')).toMatchObject([{ status: 'completed' }]);
      expect(await wakeUpsOf('viewer')).toEqual([]);
    });

    it('starts a journey again on the second of two views in one batch, as in two', async () => {
      await start(browseYaml);
      for (const userId of ['together', 'apart'])
        await post('identify', { userId, traits: { email: `${userId}@example.com` } });
      const view = (userId: string, productId: string) =>
        post('track', { userId, event: 'Product Viewed', properties: { product_id: productId } });
      await view('together', 'p1');
      await view('together', 'p2');
      await view('apart', 'p1');
      await runAt(T0);
      await view('apart', 'p2');
      await runAt(T0);
      for (const userId of ['together', 'apart']) {
        expect(await journeysOf(userId)).toMatchObject([
          { journeyId: 'browse', status: 'active', entries: 2, exitReason: null },
        ]);
        expect((await wakeUpsOf(userId)).map((w) => w.dueAt)).toEqual([iso(T0 + 4 * HOUR_MS)]);
      }
    });

    it('sends the message after a wait its event ended in the round that sent the one before', async () => {
      await start(quizYaml);
      await post('identify', { userId: 'u1', traits: { email: 'u1@example.com' } });
      await post('track', { userId: 'u1', event: 'Quiz Completed' });
      clock.set(T0 + 1000);
      await post('track', {
        userId: 'u1',
        event: 'Product Viewed',
        properties: { product_id: 'p' },
      });
      // One round handles both: the first message, and the view that ends the wait. A customer
      // gets one message a round, so the second goes in a round of its own, a minute on.
      await runAt(T0 + 2000);
      expect((await decisionsOf('u1')).map((d) => d.action)).toEqual(['quiz/first']);
      expect((await wakeUpsOf('u1')).map((w) => w.dueAt)).toEqual([iso(T0 + 2000 + MINUTE_MS)]);
      await runAt(T0 + 2000 + MINUTE_MS);
      expect((await decisionsOf('u1')).map((d) => d.action).sort()).toEqual([
        'quiz/first',
        'quiz/second',
      ]);
      expect(await journeysOf('u1')).toMatchObject([{ journeyId: 'quiz', status: 'completed' }]);
    });

    it('compares a list or object trait by its contents in a branch', async () => {
      await start(tiersYaml);
      const customers = {
        gold: { plan: { seats: 5, tier: 'gold' }, tags: ['vip'] },
        silver: { plan: { tier: 'silver', seats: 5 }, tags: ['vip'] },
        untagged: { plan: { tier: 'gold', seats: 5 }, tags: ['new'] },
      };
      for (const [userId, traits] of Object.entries(customers)) {
        await post('identify', { userId, traits: { email: `${userId}@example.com`, ...traits } });
        await post('track', { userId, event: 'Quiz Completed' });
      }
      await runAt(T0);
      expect((await decisionsOf('gold')).map((d) => d.action)).toEqual(['tiers/offer']);
      expect(await decisionsOf('silver')).toEqual([]);
      expect(await decisionsOf('untagged')).toEqual([]);
    });

    it("takes a journey's web content down once an exit event ends the journey", async () => {
      await start();
      const banner = () => bannerOf('w1');
      await post('identify', { userId: 'w1', traits: { email: 'w1@example.com' } });
      await post('track', { userId: 'w1', event: 'Signed Up' });
      await runAt(T0);
      await herald.services.dispatcher.runDue();
      expect(await banner()).toMatchObject({ template: 'welcome-banner' });
      clock.set(T0 + HOUR_MS);
      await post('track', {
        userId: 'w1',
        event: 'Order Completed',
        properties: { order_id: 'o1', total: 50 },
      });
      await runAt(T0 + HOUR_MS);
      expect(await journeysOf('w1')).toMatchObject([{ journeyId: 'welcome', status: 'exited' }]);
      expect(await banner()).toBeNull();
    });

    it("leaves a journey's web content up when the journey ends at its own exit step", async () => {
      await start(`decide:
  journeys:
    - id: banner-only
      entry: { trigger: signed-up }
      steps:
        - { id: banner, type: web, slot: homepage-hero, content: welcome-banner, ttlHours: 72 }
        - { id: done, type: exit }
`);
      await post('identify', { userId: 'w2', traits: { email: 'w2@example.com' } });
      await post('track', { userId: 'w2', event: 'Signed Up' });
      await runAt(T0);
      await herald.services.dispatcher.runDue();
      expect(await journeysOf('w2')).toMatchObject([
        { journeyId: 'banner-only', status: 'exited', exitReason: 'exit step done' },
      ]);
      expect(await bannerOf('w2')).toMatchObject({ template: 'welcome-banner' });
    });
  });
}

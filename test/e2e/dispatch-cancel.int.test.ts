import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/core/time.js';
import { createDispatcher } from '../../src/pipeline/deliver/index.js';
import type { ChannelAdapter, Delivery, DeliveryOutcome } from '../../src/ports/channel-adapter.js';
import { silentLogger } from '../../src/ports/logger.js';
import {
  adminCall,
  adminGet,
  dispatchIoOf,
  ingestCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const TIMEOUT_MS = 60_000;

interface DecisionView {
  id: string;
  status: string;
  journey: { stepId: string } | null;
}

/** An email provider that holds its first request until told what to answer; the rest go. */
const heldProvider = () => {
  const sends: Delivery[] = [];
  let answer: (outcome: DeliveryOutcome) => void = () => undefined;
  let entered: () => void = () => undefined;
  const inFlight = new Promise<void>((resolve) => (entered = resolve));
  const adapter: ChannelAdapter = {
    name: 'sendgrid',
    channel: 'email',
    send: (delivery) => {
      sends.push(delivery);
      if (sends.length > 1) return Promise.resolve({ kind: 'sent', providerId: 'sg-later' });
      entered();
      return new Promise<DeliveryOutcome>((resolve) => (answer = resolve));
    },
    close: () => Promise.resolve(),
  };
  return {
    adapter,
    sends,
    inFlight,
    answer: (outcome: DeliveryOutcome) => {
      answer(outcome);
    },
  };
};

describe.each(storeFactories.filter((f) => f.available))(
  'a journey that exits while its message is with the provider ($name)',
  (factory) => {
    let herald: TestHerald | null = null;
    afterEach(async () => {
      await herald?.close();
      herald = null;
    });

    /** Customers signed up at T0, on day 3 with their day-3 email alone in the outbox. */
    const atDayThree = async (userIds: readonly string[]) => {
      const clock = createVirtualClock(T0);
      const started = await startHerald(factory, { clock });
      herald = started;
      for (const userId of userIds) {
        await ingestCall(started, clock, 'identify', {
          userId,
          traits: { email: `${userId}@example.com` },
        });
        await ingestCall(started, clock, 'track', { userId, event: 'Signed Up' });
      }
      await started.services.worker.runDue();
      clock.set(T0 + 2 * DAY_MS);
      await started.services.worker.runDue();
      const dayThree: string[] = [];
      for (const userId of userIds) {
        const { decisions } = await adminGet<{ decisions: DecisionView[] }>(
          started,
          `/v1/decisions?customerId=${userId}`,
        );
        const day3 = decisions.find((d) => d.journey?.stepId === 'day-3-email');
        if (day3 === undefined) throw new Error(`no day-3 email decided for ${userId}`);
        dayThree.push(day3.id);
      }
      await started.raw(
        `UPDATE messages SET status = 'sent' WHERE status = 'queued' AND id NOT IN (${dayThree.map((id) => `'${id}'`).join(', ')})`,
      );
      clock.set(T0 + 2 * DAY_MS + HOUR_MS);
      return { started, clock, dayThree };
    };
    /** The customer orders: their welcome journey exits. */
    const orders = async (started: TestHerald, clock: VirtualClock, userId: string) => {
      await ingestCall(started, clock, 'track', {
        userId,
        event: 'Order Completed',
        properties: { order_id: `o-${userId}`, total: 40 },
      });
      await started.services.worker.runDue();
    };
    const statusOf = async (started: TestHerald, userId: string, id: string) =>
      (
        await adminGet<{ decisions: DecisionView[] }>(started, `/v1/decisions?customerId=${userId}`)
      ).decisions.find((d) => d.id === id)?.status;

    /** A dispatcher round to `provider`, provider rate limits lifted, with `policy` over them. */
    const dispatchTo =
      (
        started: TestHerald,
        clock: VirtualClock,
        provider: ReturnType<typeof heldProvider>,
        policy: Partial<TestHerald['services']['config']['deliverPolicy']> = {},
      ) =>
      () =>
        createDispatcher(
          [provider.adapter],
          dispatchIoOf(started),
          { ...started.services.config.deliverPolicy, rateLimits: {}, ...policy },
          clock,
          silentLogger,
        ).runDue();
    /** The provider answers the request it holds with a 429: nothing went. */
    const throttled: DeliveryOutcome = {
      kind: 'retry',
      throttled: true,
      reason: 'SendGrid answered 429',
      afterMs: MINUTE_MS,
    };

    it(
      'does not send the step later when the attempt comes back unsent (a 429)',
      async () => {
        const { started, clock, dayThree } = await atDayThree(['new-2']);
        const [day3 = ''] = dayThree;
        const provider = heldProvider();
        const dispatch = dispatchTo(started, clock, provider);
        const round = dispatch();
        await provider.inFlight;
        // While the provider holds the request, the customer orders: the journey exits.
        await orders(started, clock, 'new-2');
        // Nothing went: the message is put back unsent, no attempt spent.
        provider.answer(throttled);
        await round;
        expect(await statusOf(started, 'new-2', day3)).toBe('cancelled');

        clock.set(T0 + 2 * DAY_MS + HOUR_MS + 5 * MINUTE_MS);
        await dispatch();
        expect(provider.sends.filter((d) => d.messageId === day3)).toHaveLength(1);
        expect(await started.services.store.getMessage(day3)).toMatchObject({
          status: 'blocked',
        });
      },
      TIMEOUT_MS,
    );

    it(
      'does not send a message of its batch whose journey exited while the batch was out',
      async () => {
        const { started, clock, dayThree } = await atDayThree(['new-3', 'new-4']);
        const provider = heldProvider();
        // One attempt at a time, each reading its message and customer again before it starts.
        const round = dispatchTo(started, clock, provider, {
          concurrency: 1,
          recheckAfterSeconds: 0,
        })();
        await provider.inFlight;
        const [first] = provider.sends;
        const [waitingId] = dayThree.filter((id) => id !== first?.messageId);
        const waiting =
          waitingId === undefined ? null : await started.services.store.getMessage(waitingId);
        if (first === undefined || waiting === null || waiting === undefined)
          throw new Error('expected one message in flight and one waiting in the batch');
        expect(waiting.status).toBe('sending');
        // The customer of the message still waiting in the batch orders: their journey exits.
        const waitingUser =
          waiting.customerId === (await started.services.store.resolveUserId('new-3'))
            ? 'new-3'
            : 'new-4';
        await orders(started, clock, waitingUser);
        provider.answer({ kind: 'sent', providerId: 'sg-first' });
        await round;
        expect(provider.sends.map((d) => d.messageId)).toEqual([first.messageId]);
        expect(await started.services.store.getMessage(waiting.id)).toMatchObject({
          status: 'blocked',
        });
        expect(await statusOf(started, waitingUser, waiting.id)).toBe('cancelled');
      },
      TIMEOUT_MS,
    );

    it(
      'sends a campaign once to two records merged while one of its messages was out (a 429)',
      async () => {
        const clock = createVirtualClock(T0);
        const started = await startHerald(factory, { clock });
        herald = started;
        for (const userId of ['keep', 'gone'])
          await ingestCall(started, clock, 'identify', {
            userId,
            traits: { email: `${userId}@example.com`, firstName: 'Kim' },
          });
        const launched = await adminCall(started, 'POST', '/v1/campaigns', {
          id: 'spring',
          template: 'upsell',
          channels: ['email'],
        });
        expect(launched.statusCode).toBeLessThan(300);
        await started.services.worker.runDue();
        const spring = (
          await adminGet<{
            messages: { id: string; customerId: string; campaignId: string | null }[];
          }>(started, '/v1/messages?limit=100')
        ).messages.filter((m) => m.campaignId === 'spring');
        const keepId = await started.services.store.resolveUserId('keep');
        const gone = spring.find((m) => m.customerId !== keepId);
        const kept = spring.find((m) => m.customerId === keepId);
        if (gone === undefined || kept === undefined) throw new Error('expected a message each');
        // The survivor's own has gone already.
        await started.raw(
          `UPDATE messages SET status = 'sent', attempts = 1, sent_at_ms = ${String(T0)} WHERE id = '${kept.id}'`,
        );
        clock.set(T0 + MINUTE_MS);
        const provider = heldProvider();
        const dispatch = dispatchTo(started, clock, provider);
        const round = dispatch();
        await provider.inFlight;
        // While the provider holds the request, the two records become one person.
        await ingestCall(started, clock, 'alias', { previousId: 'gone', userId: 'keep' });
        await started.services.worker.runDue();
        provider.answer(throttled);
        await round;
        clock.set(T0 + 10 * MINUTE_MS);
        await dispatch();
        expect(provider.sends.map((d) => d.messageId)).toEqual([gone.id]);
        expect(await started.services.store.getMessage(gone.id)).toMatchObject({
          status: 'blocked',
        });
      },
      TIMEOUT_MS,
    );
  },
);

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import type { DeliveryOutcome } from '../../src/ports/channel-adapter.js';
import { receiptTemplate } from '../support/builders.js';
import {
  adminCall,
  dispatchIoOf,
  ingestCall,
  startHerald,
  type TestHerald,
} from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const HOUR_MS = 3_600_000;

const SUSPENDED: DeliveryOutcome = { kind: 'suspended', reason: 'SendGrid answered 401' };
const THROTTLED: DeliveryOutcome = {
  kind: 'retry',
  throttled: true,
  reason: 'SendGrid answered 429',
  afterMs: 60_000,
};
const UNAVAILABLE: DeliveryOutcome = {
  kind: 'retry',
  reason: 'SendGrid answered 503',
  afterMs: null,
};

// How long a provider's rate limit has held a message is counted from its first 429, not from
// when the message was due: a receipt held a day by a suspended account must not be failed by
// the first 429 after the account works again.
for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`a provider's rate limit (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, { clock, templates: { receipt: receiptTemplate } });
    });
    afterEach(async () => {
      await herald.close();
    });

    /** A receipt queued now; answers each attempt at it with the outcomes, at the times given. */
    const receiptAnswered = async (answers: [atMs: number, outcome: DeliveryOutcome][]) => {
      await ingestCall(herald, clock, 'identify', {
        userId: 'ann',
        traits: { email: 'ann@example.com' },
      });
      const sent = await adminCall(herald, 'POST', '/v1/sends', {
        userId: 'ann',
        channel: 'email',
        template: 'receipt',
      });
      const { decisionId } = sent.json<{ decisionId: string }>();
      const io = dispatchIoOf(herald, async () => {});
      const { store } = herald.services;
      for (const [atMs, outcome] of answers) {
        const [claimed] = await io.claim('email', atMs, 10, atMs + 60_000);
        expect(claimed?.message.id).toBe(decisionId);
        if (claimed === undefined) break;
        await io.finish(
          [
            {
              message: claimed.message,
              kind: 'outcome',
              provider: 'sendgrid',
              to: 'ann@example.com',
              outcome,
            },
          ],
          atMs,
          atMs + 60_000,
        );
      }
      return store.getMessage(decisionId);
    };

    it('keeps a receipt whose first 429 comes after a day held by a suspension', async () => {
      const message = await receiptAnswered([
        [T0, SUSPENDED],
        [T0 + 13 * HOUR_MS, SUSPENDED],
        [T0 + 25 * HOUR_MS, THROTTLED],
      ]);
      expect(message).toMatchObject({
        status: 'queued',
        attempts: 0,
        throttledSinceMs: T0 + 25 * HOUR_MS,
      });
    });

    it('fails a receipt the limit has held for the whole lateness allowed', async () => {
      const held = await receiptAnswered([
        [T0, THROTTLED],
        [T0 + 12 * HOUR_MS, THROTTLED],
        [T0 + 24 * HOUR_MS, THROTTLED],
      ]);
      expect(held).toMatchObject({ status: 'failed', reasonCode: 'retries_exhausted' });
      expect(held?.lastError).toContain('rate-limited for longer than 24 h');
    });

    it('counts the hold again from the next 429 once another answer came between', async () => {
      const message = await receiptAnswered([
        [T0, THROTTLED],
        [T0 + 20 * HOUR_MS, UNAVAILABLE],
        [T0 + 25 * HOUR_MS, THROTTLED],
      ]);
      expect(message).toMatchObject({
        status: 'queued',
        attempts: 1,
        throttledSinceMs: T0 + 25 * HOUR_MS,
      });
    });
  });

  describe.skipIf(!factory.available)(`Herald's own rate limit (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    beforeEach(async () => {
      clock = createVirtualClock(T0);
      herald = await startHerald(factory, {
        clock,
        configYaml: 'deliver:\n  rateLimits:\n    capture: { perHour: 2 }\n',
        templates: { receipt: receiptTemplate },
      });
    });
    afterEach(async () => {
      await herald.close();
    });

    it('sends what the limit held back before what was queued after it', async () => {
      const send = async (userId: string) => {
        await ingestCall(herald, clock, 'identify', {
          userId,
          traits: { email: `${userId}@example.com` },
        });
        await adminCall(herald, 'POST', '/v1/sends', {
          userId,
          channel: 'email',
          template: 'receipt',
        });
      };
      const order: string[] = [];
      const round = async () => {
        await herald.services.dispatcher.runDue(clock.nowMs());
        const page = await adminCall(herald, 'GET', '/v1/messages?status=sent');
        const sent = page.json<{ messages: { customerId: string }[] }>().messages;
        for (const m of sent) if (!order.includes(m.customerId)) order.push(m.customerId);
      };
      for (const userId of ['a', 'b', 'c', 'd']) await send(userId);
      await round();
      clock.set(T0 + 10 * 60_000);
      for (const userId of ['e', 'f']) await send(userId);
      for (let hour = 1; hour <= 6; hour += 1) {
        clock.set(T0 + hour * HOUR_MS + 1000);
        await round();
      }
      expect(order).toHaveLength(6);
      expect(new Set(order.slice(0, 4))).toEqual(new Set(['a', 'b', 'c', 'd']));
    });
  });
}

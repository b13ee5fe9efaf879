import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { HOUR_MS, MINUTE_MS } from '../../src/core/time.js';
import { DOMAIN_PAUSED_HOLD_MS } from '../../src/pipeline/guard/index.js';
import { recordMessageResult } from '../../src/pipeline/track-messages.js';
import { adminCall, ingestCall, startHerald, type TestHerald } from '../support/start-herald.js';
import { storeFactories } from '../support/stores.js';
import { receiptTemplate } from '../support/builders.js';

// What the dispatcher holds back at hand-off, not sends and not drops: marketing email from a
// sending domain paused since it was judged, and a message the night reached while it waited.

interface Sent {
  decisionId: string;
  status: string;
  reasonCode: string | null;
  sendAt: string;
}

for (const factory of storeFactories) {
  describe.skipIf(!factory.available)(`holds at hand-off (${factory.name})`, () => {
    let herald: TestHerald;
    let clock: VirtualClock;
    const start = async (at: number, configYaml: string) => {
      clock = createVirtualClock(at);
      herald = await startHerald(factory, {
        clock,
        configYaml,
        templates: { receipt: receiptTemplate },
      });
    };
    afterEach(async () => {
      await herald.close();
    });

    const identify = (userId: string, context: object = {}) =>
      ingestCall(herald, clock, 'identify', {
        userId,
        traits: { email: `${userId}@example.com`, firstName: 'Al' },
        context,
      });
    const send = async (userId: string, template = 'upsell') =>
      (
        await adminCall(herald, 'POST', '/v1/sends', { userId, channel: 'email', template })
      ).json<Sent>();
    const messageOf = async (id: string) => {
      const m = await herald.services.store.getMessage(id);
      if (m === undefined) throw new Error(`no message ${id}`);
      return m;
    };

    describe('a sending domain paused after its marketing email was queued', () => {
      // 12:00 UTC is 21:00 in Tokyo: a Tokyo customer's upsell waits for 08:00 there (23:00 UTC).
      const T0 = Date.UTC(2026, 5, 3, 12);
      const morningInTokyo = Date.UTC(2026, 5, 3, 23, 1);
      beforeEach(async () => {
        await start(T0, 'guard:\n  reputation:\n    minSent: 2\n    maxBounceRate: 0.5\n');
      });

      /** Marketing email queued for the Tokyo morning; then the domain's first two bounce. */
      const queueThenPause = async () => {
        await identify('jp', { timezone: 'Asia/Tokyo' });
        const held = await send('jp');
        expect(held).toMatchObject({ status: 'queued', sendAt: '2026-06-03T23:00:00.000Z' });
        for (const id of ['uk1', 'uk2']) await identify(id);
        const now = [await send('uk1'), await send('uk2')];
        expect(await herald.services.dispatcher.runDue()).toBe(2);
        const deps = herald.services.track;
        for (const a of now)
          await recordMessageResult(
            deps,
            await messageOf(a.decisionId),
            { kind: 'bounced', hard: true, reason: '550 5.1.1 no such user' },
            clock.nowMs(),
            clock.nowMs(),
          );
        // The guardrail pauses new marketing email from the domain (past its minute's cache).
        clock.set(T0 + 2 * MINUTE_MS);
        await identify('uk3');
        expect(await send('uk3')).toMatchObject({ status: 'blocked', reasonCode: 'domain_paused' });
        return held;
      };

      it('holds it while the domain is paused, lets receipts go, and sends it once the rates recover', async () => {
        const held = await queueThenPause();
        clock.set(morningInTokyo);
        // Receipts still go from the paused domain: each one sent brings the bounce rate down.
        const receipts = [];
        for (const id of ['uk4', 'uk5', 'uk6']) {
          await identify(id);
          receipts.push(await send(id, 'receipt'));
        }
        expect(await herald.services.dispatcher.runDue()).toBe(3);
        for (const r of receipts) expect((await messageOf(r.decisionId)).status).toBe('sent');
        const waiting = await messageOf(held.decisionId);
        // It says what holds it while it waits.
        expect(waiting).toMatchObject({
          status: 'queued',
          reasonCode: 'domain_paused',
          sendAtMs: morningInTokyo + DOMAIN_PAUSED_HOLD_MS,
          attempts: 0,
        });
        expect(await herald.services.store.capturedMessage(held.decisionId)).toBeUndefined();
        // 2 bounced of 5 sent: under the 50 % configured, the domain is no longer paused.
        clock.set(morningInTokyo + DOMAIN_PAUSED_HOLD_MS);
        expect(await herald.services.dispatcher.runDue()).toBe(1);
        expect((await messageOf(held.decisionId)).status).toBe('sent');
      });

      it('refuses it as stale once the pause has held it longer than a message may be late', async () => {
        const held = await queueThenPause();
        clock.set(morningInTokyo);
        await herald.services.dispatcher.runDue();
        // 12 h on, the domain still paused: still waiting, not dropped.
        clock.set(morningInTokyo + 12 * HOUR_MS);
        await herald.services.dispatcher.runDue();
        expect(await messageOf(held.decisionId)).toMatchObject({ status: 'queued', attempts: 0 });
        // Due at 23:00 UTC the day before: past the 24 h a marketing message may be late.
        clock.set(morningInTokyo + 24 * HOUR_MS);
        await herald.services.dispatcher.runDue();
        expect(await messageOf(held.decisionId)).toMatchObject({
          status: 'blocked',
          reasonCode: 'stale',
        });
        expect(await herald.services.store.capturedMessage(held.decisionId)).toBeUndefined();
      });
    });

    describe('quiet hours reached at hand-off', () => {
      // 20:59 UTC, a UTC customer: a minute before quiet hours (21:00–08:00).
      const T0 = Date.UTC(2026, 5, 3, 20, 59);
      beforeEach(async () => {
        await start(T0, 'deliver:\n  maxLatenessHours: 8\n');
      });

      it('sends a message held for the night when the night ends, though the night is longer than a message may be late', async () => {
        await identify('ana');
        const due = await send('ana');
        expect(due).toMatchObject({ status: 'queued', sendAt: '2026-06-03T20:59:00.000Z' });
        // The dispatcher gets to it at 21:00:30 (a busy round, a retry): 90 s late, and night.
        clock.set(T0 + 90_000);
        expect(await herald.services.dispatcher.runDue()).toBe(0);
        const morning = Date.UTC(2026, 5, 4, 8);
        expect(await messageOf(due.decisionId)).toMatchObject({
          status: 'queued',
          reasonCode: 'quiet_hours',
          sendAtMs: morning,
          // Due when the night ends, as late as it was when the night came.
          dueAtMs: morning - 90_000,
        });
        clock.set(morning + 1000);
        expect(await herald.services.dispatcher.runDue()).toBe(1);
        expect(await messageOf(due.decisionId)).toMatchObject({ status: 'sent' });
      });
    });
  });
}

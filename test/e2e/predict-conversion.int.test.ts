import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toCustomerId } from '../../src/core/ids.js';
import type { MessageRecord } from '../../src/core/message.js';
import type { Channel } from '../../src/core/profile.js';
import { DAY_MS } from '../../src/core/time.js';
import { trainModels } from '../../src/pipeline/predict/index.js';
import { adminToken, startHerald, type TestHerald } from '../support/start-herald.js';
import { aSentMessage as sentMessage, aTrack } from '../support/builders.js';
import { storeFactories } from '../support/stores.js';

const now = Date.UTC(2026, 5, 1);

/** A message that reached the customer `daysAgo` days before now. */
const aSentMessage = (
  id: string,
  userId: string,
  channel: Channel,
  daysAgo: number,
  variant: string | null = null,
): MessageRecord => sentMessage(id, userId, now - daysAgo * DAY_MS, { channel, variant });

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(`conversion probabilities (${factory.name})`, () => {
    let herald: TestHerald;
    beforeEach(async () => {
      herald = await startHerald(factory, { clock: { nowMs: () => now } });
      await herald.services.recorder.record(
        [aTrack({ userId: 'u1', name: 'Product Viewed', timestampMs: now - DAY_MS })],
        now,
      );
      // 300 customers, ten emails each, 30 days ago; every tenth email credited with an order.
      // u1 converted on four of its ten, and one sms each, and a queued email that never left.
      const messages: MessageRecord[] = [];
      for (let c = 0; c < 300; c++)
        for (let i = 0; i < 10; i++)
          messages.push(
            aSentMessage(`m-${c}-${i}`, c === 0 ? 'u1' : `c${c}`, 'email', 30, i < 5 ? 'a' : 'b'),
          );
      messages.push({ ...aSentMessage('m-sms', 'u1', 'sms', 30), channel: 'sms' });
      messages.push({ ...aSentMessage('m-queued', 'u1', 'email', 1), status: 'queued' });
      // One that bounced (it never reached u1), and one sent yesterday, its window still open.
      messages.push({ ...aSentMessage('m-bounced', 'u1', 'email', 30), status: 'bounced' });
      messages.push(aSentMessage('m-recent', 'u1', 'email', 1));
      const converted = messages.filter(
        (m) => /^m-0-[0-3]$/.test(m.id) || /^m-([1-9]\d*)-0$/.test(m.id),
      );
      await herald.services.store.transaction(async (tx) => {
        await tx.insertMessages(messages);
        for (const m of converted)
          await tx.insertConversion({
            orderId: `o-${m.id}`,
            customerId: m.customerId,
            decisionId: m.id,
            revenueCents: 5000,
            atMs: now - 29 * DAY_MS,
            touches: [],
          });
      });
    });
    afterEach(async () => {
      await herald.close();
    });

    it('reads each sent message with its strategy and whether an order was credited to it', async () => {
      const all = await herald.services.store.listMessageOutcomes(now - 60 * DAY_MS, now);
      expect(all).toHaveLength(3002);
      expect(all.filter((o) => o.converted)).toHaveLength(4 + 299);
      const mine = await herald.services.store.listCustomerMessageOutcomes(toCustomerId('u1'));
      expect(mine).toHaveLength(12);
      expect(mine.filter((o) => o.converted && o.channel === 'email')).toHaveLength(4);
      expect(mine.find((o) => o.channel === 'sms')).toMatchObject({
        variant: null,
        converted: false,
      });
      expect(new Set(mine.map((o) => o.variant))).toEqual(new Set(['a', 'b', null]));
      expect(
        (await herald.services.store.listMessageOutcomes(now - 20 * DAY_MS, now)).map(
          (o) => o.sentAtMs,
        ),
      ).toEqual([now - DAY_MS]);
    });

    it('weighs decisions on the sends the model was trained on: reached, their window closed', async () => {
      const counts = await herald.services.store.transaction((tx) =>
        tx.conversionCounts([toCustomerId('u1')], now - 7 * DAY_MS),
      );
      expect(counts.get(toCustomerId('u1'))).toEqual({
        email: { sends: 10, conversions: 4 },
        sms: { sends: 1, conversions: 0 },
      });
    });

    it('keeps showing the trained version decisions use after a refused run', async () => {
      await trainModels(herald.services.store, { nowMs: now, attributionWindowDays: 7 });
      // The next run reads too few sends (ten days back: none whose window has closed).
      const [, , refused] = await trainModels(herald.services.store, {
        nowMs: now,
        attributionWindowDays: 7,
        conversionLookbackDays: 10,
      });
      expect(refused).toMatchObject({ version: 6, status: 'insufficient-data' });
      await herald.services.conversionModel.refresh();
      const decided = herald.services.conversionModel.score({
        email: { sends: 10, conversions: 4 },
      });
      expect(decided?.modelVersion).toBe(3);
      const read = async (url: string) => {
        const response = await herald.app.inject({
          url,
          headers: { authorization: `Bearer ${adminToken}` },
        });
        expect(response.statusCode).toBe(200);
        return response.json<{
          predicted: { conversion: { modelVersion: number | null; byChannel?: object } };
        }>().predicted.conversion;
      };
      for (const shown of [await read('/v1/profiles/u1'), await read('/v1/customers/u1/export')])
        expect(shown).toMatchObject({
          modelVersion: 3,
          byChannel: {
            email: { probability: decided?.byChannel.email, sends: 10, conversions: 4 },
          },
        });
    });

    it('trains the conversion model with the other models and shows a customer’s probabilities', async () => {
      const [, , conversion] = await trainModels(herald.services.store, {
        nowMs: now,
        attributionWindowDays: 7,
      });
      expect(conversion).toMatchObject({ version: 3, kind: 'conversion', status: 'trained' });
      expect(conversion?.metrics['email.sends']).toBe(3000);
      expect(conversion?.metrics['email.rate']).toBeCloseTo(303 / 3000, 12);
      expect(conversion?.details['skipped']).toEqual({
        sms: '1 sends, 0 credited with an order (needs ≥ 200 and ≥ 5)',
      });
      const alpha = conversion?.params['email']?.['alpha'] ?? 0;
      const beta = conversion?.params['email']?.['beta'] ?? 0;
      const response = await herald.app.inject({
        url: '/v1/profiles/u1',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(response.statusCode).toBe(200);
      const predicted = response.json<{ predicted: { conversion: Record<string, unknown> } }>()
        .predicted;
      expect(predicted.conversion).toMatchObject({
        modelVersion: 3,
        byChannel: {
          email: { probability: (4 + alpha) / (10 + alpha + beta), sends: 10, conversions: 4 },
        },
        byStrategy: [
          { channel: 'email', variant: 'a' },
          { channel: 'email', variant: 'b' },
        ],
      });

      // Once loaded, the model weighs the customer's message proposals.
      await herald.services.conversionModel.refresh();
      await herald.services.recorder.record(
        [
          aTrack({
            type: 'identify',
            name: null,
            userId: 'u1',
            traits: { email: 'u1@example.com' },
            timestampMs: now - 1000,
          }),
        ],
        now,
      );
      const campaign = await herald.app.inject({
        method: 'POST',
        url: '/v1/campaigns',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ id: 'june', template: 'upsell', channels: ['email'] }),
      });
      expect(campaign.statusCode).toBe(202);
      await herald.services.worker.runDue(now);
      const decisions = (
        await herald.app.inject({
          url: '/v1/decisions?customerId=u1',
          headers: { authorization: `Bearer ${adminToken}` },
        })
      ).json<{
        decisions: {
          agent: string;
          confidence: number;
          expectedValue: number;
          scores: { conversion: { channel: string; probability: number; modelVersion: number } };
          reasons: string[];
        }[];
      }>().decisions;
      const decided = decisions.find((d) => d.agent === 'campaign');
      const probability = (4 + alpha) / (10 + alpha + beta);
      expect(decided?.scores.conversion).toEqual({
        channel: 'email',
        probability,
        modelVersion: 3,
      });
      expect(decided?.reasons).toContain(
        `conversion probability on email ${probability.toFixed(4)} (conversion model v3)`,
      );
    });
  });

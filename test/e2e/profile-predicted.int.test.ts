import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { explainDecision } from '../../src/cli/commands/decisions.js';
import { DAY_MS } from '../../src/core/time.js';
import { adminToken, startHerald, type TestHerald } from '../support/start-herald.js';
import { aTrack } from '../support/builders.js';
import { storeFactories } from '../support/stores.js';

// Midnight UTC; the customer's orders fall on days 0, 14 and 28, and "now" is day 56 at noon.
const day0 = Date.UTC(2026, 0, 5);
const now = day0 + 56 * DAY_MS + DAY_MS / 2;
const cdnow = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

for (const factory of storeFactories)
  describe.skipIf(!factory.available)(`the profile's predicted figures (${factory.name})`, () => {
    let herald: TestHerald;
    beforeEach(async () => {
      herald = await startHerald(factory, { clock: { nowMs: () => now } });
      for (const [i, day] of [0, 14, 28].entries())
        await herald.services.recorder.record(
          [
            aTrack({
              userId: 'buyer',
              name: 'Order Completed',
              properties: { order_id: `o-${i}`, total: 30 },
              timestampMs: day0 + day * DAY_MS + 3_600_000,
            }),
          ],
          now,
        );
      await herald.services.recorder.record(
        [aTrack({ userId: 'browser', name: 'Product Viewed' })],
        now,
      );
    });
    afterEach(async () => {
      await herald.close();
    });
    const predicted = async (userId: string) => {
      const response = await herald.app.inject({
        url: `/v1/profiles/${userId}`,
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(response.statusCode).toBe(200);
      return response.json<{
        predicted: Record<string, unknown>;
        computed: { churnRisk: number };
      }>();
    };

    it('says there is no model before one is trained, and keeps the rule-based churn risk', async () => {
      const profile = await predicted('buyer');
      expect(profile.predicted).toEqual({
        modelVersion: null,
        reason: 'no trained model (herald models train)',
        churnRisk: profile.computed.churnRisk,
        churnRiskSource: 'rules',
        churnModelVersion: null,
        churnRiskReason: 'no churn model trained yet (herald models train)',
        conversion: {
          modelVersion: null,
          reason: 'no conversion model trained yet (herald models train)',
        },
      });
    });

    it("scores a buyer's history under the latest trained model, stamped with its version", async () => {
      await herald.services.store.saveModel({
        kind: 'clv',
        status: 'insufficient-data',
        reason: 'not enough data',
        trainedAtMs: now - 2 * DAY_MS,
        windowStartMs: null,
        windowEndMs: now - 2 * DAY_MS,
        features: [],
        params: {},
        metrics: {},
        details: {},
      });
      const trained = await herald.services.store.saveModel({
        kind: 'clv',
        status: 'trained',
        reason: null,
        trainedAtMs: now - DAY_MS,
        windowStartMs: day0,
        windowEndMs: now - DAY_MS,
        features: ['frequency', 'recency', 'T', 'monetary'],
        params: { bgNbd: cdnow, gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44 } },
        metrics: {},
        details: { periodDays: 7 },
      });
      await herald.services.store.saveModel({
        kind: 'clv',
        status: 'insufficient-data',
        reason: 'not enough data',
        trainedAtMs: now,
        windowStartMs: null,
        windowEndMs: now,
        features: [],
        params: {},
        metrics: {},
        details: {},
      });
      const { predicted: p } = await predicted('buyer');
      // BG/NBD P(alive) for x = 2 repeat purchases, t_x = 4 weeks, T = 8 weeks (Fader, Hardie
      // & Lee 2005, eq. 11), worked out here independently of Herald's code.
      const { r, alpha, a, b } = cdnow;
      const [x, tx, T] = [2, 4, 8];
      const pAlive = 1 / (1 + (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x));
      expect(p['modelVersion']).toBe(trained.version);
      expect(p['pAlive']).toBeCloseTo(pAlive, 10);
      expect(p['expectedPurchases90d']).toBeGreaterThan(0);
      expect(p['clv365d']).toBeGreaterThan(0);
      expect(p['churnRiskSource']).toBe('rules');
      expect((await predicted('browser')).predicted).toMatchObject({
        modelVersion: trained.version,
        reason: 'no orders to score',
      });
    });

    it('scores churn risk with a registered churn model once loaded, and says which version', async () => {
      // The BG/NBD's P(no purchase in 90 days) as the chosen scorer: worked out here from
      // eq. 11 and λ | alive ~ Gamma(r+x, α+T) (Fader, Hardie & Lee 2005).
      const churn = await herald.services.store.saveModel({
        kind: 'churn',
        status: 'trained',
        reason: null,
        trainedAtMs: now - DAY_MS,
        windowStartMs: day0,
        windowEndMs: now - DAY_MS,
        features: [],
        params: { bgNbd: cdnow },
        metrics: {},
        details: { chosen: 'pAlive', periodDays: 7, churnDays: 90 },
      });
      const rules = (await predicted('buyer')).predicted;
      expect(rules['churnRiskSource']).toBe('rules');
      await herald.services.churnModel.refresh();
      const { predicted: p, computed } = await predicted('buyer');
      const { r, alpha, a, b } = cdnow;
      // Orders on days 0, 14 and 28; the last whole day before now is day 56.
      const [x, tx, T] = [2, 4, 8];
      const pAlive = 1 / (1 + (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x));
      expect(p).toMatchObject({ churnRiskSource: 'model', churnModelVersion: churn.version });
      const silentIfAlive = ((alpha + T) / (alpha + T + 90 / 7)) ** (r + x);
      expect(computed.churnRisk).toBeCloseTo(1 - pAlive + pAlive * silentIfAlive, 4);
      expect(p['churnRisk']).toBe(computed.churnRisk);
      // A decision made now records the model version behind the churn risk it saw.
      // A cart left now is abandoned two hours later: the cart agent decides then.
      await herald.services.recorder.record(
        [
          aTrack({
            userId: 'buyer',
            name: 'Product Added',
            properties: { product_id: 'p1', price: 80, quantity: 1 },
            timestampMs: now,
          }),
        ],
        now,
      );
      await herald.services.worker.runDue(now + 3 * 3_600_000);
      const customerId = await herald.services.store.resolveUserId('buyer');
      const decisions = await herald.services.store.listDecisions({
        limit: 10,
        ...(customerId === undefined ? {} : { customerId }),
      });
      expect(decisions.length).toBeGreaterThan(0);
      for (const d of decisions)
        expect(d.scores?.churnRisk).toMatchObject({ source: 'model', modelVersion: churn.version });
      const [first] = decisions;
      if (first === undefined) throw new Error('a decision expected');
      expect(explainDecision(first)).toMatch(
        new RegExp(`scores: {5}churn risk [0-9.]+ from churn model v${churn.version}`),
      );
      const api = await herald.app.inject({
        url: `/v1/decisions/${first.id}`,
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(api.json()).toMatchObject({
        scores: { churnRisk: { source: 'model', modelVersion: churn.version } },
      });
      // A customer without orders keeps the rule-based score.
      expect((await predicted('browser')).predicted).toMatchObject({
        churnRiskSource: 'rules',
        churnModelVersion: null,
        churnRiskReason: 'the customer has no orders',
      });
    });
  });

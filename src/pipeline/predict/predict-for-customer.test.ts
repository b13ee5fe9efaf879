import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../core/ids.js';
import type { ModelVersion } from '../../ports/model-store.js';
import { predictForCustomer, toClvModel } from './predict-for-customer.js';

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const version = (gammaGamma: Record<string, number>): ModelVersion => ({
  version: 3,
  kind: 'clv',
  status: 'trained',
  reason: null,
  trainedAtMs: T0,
  windowStartMs: T0 - 365 * DAY_MS,
  windowEndMs: T0,
  features: [],
  params: { bgNbd: { r: 0.24, alpha: 4.4, a: 0.79, b: 2.43 }, gammaGamma },
  metrics: {},
  details: { periodDays: 7 },
});

describe('toClvModel', () => {
  it('leaves out a spend model whose mean spend is infinite (q ≤ 1)', () => {
    expect(toClvModel(version({ p: 6.25, q: 3.74, gamma: 15.4 }))?.gammaGamma).toEqual({
      p: 6.25,
      q: 3.74,
      gamma: 15.4,
    });
    const broken = version({ p: 2.11, q: 0.32, gamma: 1.99 });
    expect(toClvModel(broken)?.gammaGamma).toBeUndefined();
    // Scored, it gives no CLV rather than throwing (the profile API once answered 500).
    const orders = [0, 30, 60].map((d, i) => ({
      orderId: `o${String(i)}`,
      customerId: toCustomerId('c1'),
      placedAtMs: T0 - 90 * DAY_MS + d * DAY_MS,
      totalCents: 4000,
    }));
    expect(predictForCustomer(broken, orders, T0)).toMatchObject({
      modelVersion: 3,
      clv365d: null,
    });
  });
});

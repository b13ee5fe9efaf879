import { describe, expect, it } from 'vitest';
import { scoreChurn, type ChurnInputs } from './score-churn.js';
import { defaultPolicy } from './test-builders.js';

const churn = defaultPolicy().churn;

const inputs = (overrides: Partial<ChurnInputs> = {}): ChurnInputs => ({
  daysSinceActive: 0,
  orderCount: 0,
  monetary: 0,
  engagementScore: 0,
  ...overrides,
});

describe('scoreChurn', () => {
  it('scores 0 for a customer active today with many orders, high spend and full engagement', () => {
    expect(
      scoreChurn(
        inputs({ daysSinceActive: 0, orderCount: 10, monetary: 1000, engagementScore: 1 }),
        churn,
      ),
    ).toBe(0);
  });

  it('scores 0.85/0.95 for a customer silent 90+ days with no orders and no engagement', () => {
    const silent = inputs({ daysSinceActive: 90, orderCount: 0, monetary: 0, engagementScore: 0 });
    expect(scoreChurn(silent, churn)).toBeCloseTo(0.85 / 0.95, 12);
    expect(scoreChurn({ ...silent, daysSinceActive: 400 }, churn)).toBeCloseTo(0.85 / 0.95, 12);
  });

  it('treats a customer who never acted as silent for the whole recency cap', () => {
    expect(scoreChurn(inputs({ daysSinceActive: null }), churn)).toBe(
      scoreChurn(inputs({ daysSinceActive: 90 }), churn),
    );
  });

  it('weighs each term halfway to its cap by its weight', () => {
    // 0.4·0.5 + 0.2·0.5 − 0.1·0.5 + 0.25·0.5 = 0.375, over Σ|w| = 0.95
    const halfway = inputs({
      daysSinceActive: 45,
      orderCount: 5,
      monetary: 500,
      engagementScore: 0.5,
    });
    expect(scoreChurn(halfway, churn)).toBeCloseTo(0.375 / 0.95, 12);
  });

  it('lowers the risk of a silent customer who spent a lot', () => {
    const silent = inputs({ daysSinceActive: 90 });
    expect(scoreChurn({ ...silent, monetary: 2000 }, churn)).toBeCloseTo(0.75 / 0.95, 12);
  });

  it('rises with silence and falls with orders, spend and engagement', () => {
    const base = inputs({
      daysSinceActive: 30,
      orderCount: 3,
      monetary: 200,
      engagementScore: 0.4,
    });
    const risk = scoreChurn(base, churn);
    expect(scoreChurn({ ...base, daysSinceActive: 60 }, churn)).toBeGreaterThan(risk);
    expect(scoreChurn({ ...base, orderCount: 6 }, churn)).toBeLessThan(risk);
    expect(scoreChurn({ ...base, monetary: 400 }, churn)).toBeLessThan(risk);
    expect(scoreChurn({ ...base, engagementScore: 0.8 }, churn)).toBeLessThan(risk);
  });

  it('stays within [0, 1] for any inputs', () => {
    for (const daysSinceActive of [null, -5, 0, 45, 90, 1000]) {
      for (const orderCount of [0, 1, 50]) {
        for (const monetary of [-100, 0, 5000]) {
          for (const engagementScore of [-1, 0, 0.5, 2]) {
            const risk = scoreChurn(
              { daysSinceActive, orderCount, monetary, engagementScore },
              churn,
            );
            expect(risk).toBeGreaterThanOrEqual(0);
            expect(risk).toBeLessThanOrEqual(1);
          }
        }
      }
    }
  });

  it('follows the configured weights and caps', () => {
    const recencyOnly = {
      ...churn,
      recencyWeight: 1,
      frequencyWeight: 0,
      monetaryWeight: 0,
      engagementWeight: 0,
      recencyCapDays: 10,
    };
    expect(scoreChurn(inputs({ daysSinceActive: 4 }), recencyOnly)).toBeCloseTo(0.4, 12);
    const noWeights = { ...recencyOnly, recencyWeight: 0 };
    expect(scoreChurn(inputs({ daysSinceActive: 4 }), noWeights)).toBe(0);
  });
});

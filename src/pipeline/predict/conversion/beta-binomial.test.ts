import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../ports/random.js';
import { sampleGamma } from '../simulate-purchases.js';
import { fitBetaPrior, shrunkRate, type SendRecord } from './beta-binomial.js';

/** Customers whose conversion probabilities are Beta(α, β), each sent 1–30 messages. */
const simulate = (alpha: number, beta: number, customers: number): SendRecord[] => {
  const random = seededRandom(17);
  return Array.from({ length: customers }, () => {
    const g = sampleGamma(alpha, random);
    const p = g / (g + sampleGamma(beta, random));
    const sends = 1 + Math.floor(random.next() * 30);
    let conversions = 0;
    for (let i = 0; i < sends; i++) if (random.next() < p) conversions++;
    return { sends, conversions };
  });
};

describe('fitBetaPrior', () => {
  it('recovers the Beta prior customers were drawn from', () => {
    const fit = fitBetaPrior(simulate(2, 38, 20_000));
    expect(fit.converged).toBe(true);
    expect(fit.alpha / (fit.alpha + fit.beta)).toBeCloseTo(0.05, 2);
    expect(fit.alpha).toBeGreaterThan(1.6);
    expect(fit.alpha).toBeLessThan(2.5);
    expect(fit.alpha + fit.beta).toBeGreaterThan(32);
    expect(fit.alpha + fit.beta).toBeLessThan(50);
  });

  it('does not call a fit on one send per customer converged: its strength is not learnt', () => {
    const once = Array.from({ length: 1000 }, (_, i) => ({
      sends: 1,
      conversions: i % 20 === 0 ? 1 : 0,
    }));
    const fit = fitBetaPrior(once);
    expect(fit.alpha / (fit.alpha + fit.beta)).toBeCloseTo(0.05, 3);
    expect(fit.converged).toBe(false);
  });

  it('stops at the bound of strength for customers who differ no more than chance says', () => {
    // 400 customers, 20 sends and 1 conversion each: the best fit is at an infinite strength.
    const records = Array.from({ length: 400 }, () => ({ sends: 20, conversions: 1 }));
    const prior = fitBetaPrior(records);
    // Per customer, ln[B(1+α, 19+β)/B(α, β)] tends to ln(0.05 · 0.95^19) as α, β grow.
    expect(prior.logLikelihood / records.length).toBeCloseTo(Math.log(0.05 * 0.95 ** 19), 3);
    expect(prior.alpha / (prior.alpha + prior.beta)).toBeCloseTo(0.05, 4);
    expect(prior.alpha + prior.beta).toBeLessThanOrEqual(Math.exp(16) * (1 + 1e-9));
  });

  it('refuses records that are not counts of sends and conversions', () => {
    expect(() => fitBetaPrior([{ sends: 3, conversions: 4 }])).toThrow(RangeError);
    expect(() => fitBetaPrior([{ sends: 0, conversions: 0 }])).toThrow(RangeError);
  });
});

describe('shrunkRate', () => {
  it('is the Beta posterior mean: a customer with no sends gets the prior mean', () => {
    const prior = { alpha: 2, beta: 38 };
    expect(shrunkRate({ sends: 0, conversions: 0 }, prior)).toBeCloseTo(0.05, 12);
    expect(shrunkRate({ sends: 10, conversions: 5 }, prior)).toBeCloseTo(7 / 50, 12);
    // Many sends: the customer's own rate dominates.
    expect(shrunkRate({ sends: 10_000, conversions: 3000 }, prior)).toBeCloseTo(3002 / 10_040, 12);
  });
});

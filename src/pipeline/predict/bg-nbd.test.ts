import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../ports/random.js';
import { sharedDataDir, sharedDataNote } from '../../../test/support/shared-data.js';
import {
  bgNbdLogLikelihood,
  bgNbdTotalLogLikelihood,
  expectedPurchases,
  expectedPurchasesOfNewCustomer,
  fitBgNbd,
  probabilityAlive,
  probabilityNoPurchase,
  type PurchaseHistory,
} from './bg-nbd.js';
import { sampleGamma, simulateHistories } from './simulate-purchases.js';

/** Fader, Hardie & Lee (2005), Table 1 / §5: BG/NBD on the 2,357-customer CDNOW sample. */
const published = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

const readSummary = (path: string): PurchaseHistory[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => {
      const [, x = '', tx = '', T = ''] = line.split(',');
      return { x: Number(x), tx: Number(tx), T: Number(T) };
    });

describe('BG/NBD', () => {
  it('gives a customer with no repeat purchase the likelihood (α/(α+T))^r', () => {
    const ll = bgNbdLogLikelihood({ x: 0, tx: 0, T: 10 }, published);
    expect(ll).toBeCloseTo(published.r * Math.log(published.alpha / (published.alpha + 10)), 12);
  });

  it('makes a long silence after many purchases a sign of drop-out', () => {
    const recent = probabilityAlive({ x: 5, tx: 38, T: 39 }, published);
    const silent = probabilityAlive({ x: 5, tx: 5, T: 39 }, published);
    expect(recent).toBeCloseTo(0.8776, 4); // 1 / (1 + 0.793/6.426 · (43.414/42.414)^5.243)
    expect(recent).toBeGreaterThan(0.85);
    expect(silent).toBeLessThan(0.2);
    expect(probabilityAlive({ x: 0, tx: 0, T: 39 }, published)).toBe(1);
  });

  it('matches P(no purchase in t) integrated over λ and the drop-out probability (seeded)', () => {
    // Independent of eq. 11: draw (λ, p) from the prior, weigh each by its likelihood of the
    // history — alive at T, (1−p)^x λ^x e^(−λT), or dropped out at t_x, p (1−p)^(x−1) λ^x
    // e^(−λ t_x) — and by whether it then buys nothing in (T, T+t]: e^(−λt) alive, 1 dropped out.
    const random = seededRandom(20250611);
    const draws = Array.from({ length: 200_000 }, () => {
      const g = sampleGamma(published.a, random);
      return {
        lambda: sampleGamma(published.r, random) / published.alpha,
        p: g / (g + sampleGamma(published.b, random)),
      };
    });
    const integrated = ({ x, tx, T }: PurchaseHistory, t: number) => {
      let silent = 0;
      let total = 0;
      for (const { lambda, p } of draws) {
        const alive = (1 - p) ** x * lambda ** x * Math.exp(-lambda * T);
        const dropped = x === 0 ? 0 : p * (1 - p) ** (x - 1) * lambda ** x * Math.exp(-lambda * tx);
        silent += alive * Math.exp(-lambda * t) + dropped;
        total += alive + dropped;
      }
      return silent / total;
    };
    for (const [h, t] of [
      [{ x: 2, tx: 30.43, T: 38.86 }, 39],
      [{ x: 2, tx: 5, T: 38.86 }, 13],
      [{ x: 0, tx: 0, T: 20 }, 13],
      [{ x: 5, tx: 38, T: 39 }, 4],
    ] as const) {
      const expected = integrated(h, t);
      expect(Math.abs(probabilityNoPurchase(h, published, t) - expected)).toBeLessThan(0.002);
    }
    // A customer with no repeat purchase is alive for sure, and still likely to buy nothing.
    const oneTime = { x: 0, tx: 0, T: 20 };
    expect(probabilityAlive(oneTime, published)).toBe(1);
    expect(probabilityNoPurchase(oneTime, published, 13)).toBeCloseTo(
      ((published.alpha + 20) / (published.alpha + 33)) ** published.r,
      12,
    );
    expect(probabilityNoPurchase(oneTime, published, 0)).toBe(1);
  });

  it('expects more purchases over a longer horizon and from a recent buyer', () => {
    const h = { x: 2, tx: 30.43, T: 38.86 };
    const in10 = expectedPurchases(h, published, 10);
    const in39 = expectedPurchases(h, published, 39);
    expect(in10).toBeGreaterThan(0);
    expect(in39).toBeGreaterThan(in10);
    expect(expectedPurchases({ x: 2, tx: 2, T: 38.86 }, published, 39)).toBeLessThan(in39);
    expect(expectedPurchases(h, published, 0)).toBe(0);
  });

  it('matches eq. 10 evaluated in mpmath at 30 digits', () => {
    // mpmath: (a+b+x−1)/(a−1)·(1 − ((α+T)/(α+T+t))^(r+x)·hyp2f1(…))/(1 + a/(b+x−1)·…).
    expect(expectedPurchases({ x: 2, tx: 30.43, T: 38.86 }, published, 39)).toBeCloseTo(
      1.22602817476714,
      11,
    );
    expect(expectedPurchases({ x: 0, tx: 0, T: 38.86 }, published, 39)).toBeCloseTo(
      0.195098052011263,
      11,
    );
    expect(expectedPurchases({ x: 7, tx: 35.2, T: 36.1 }, published, 52)).toBeCloseTo(
      6.19951572103696,
      10,
    );
  });

  it('matches the unconditional forecast E[X(t)] at small t, where it is about t·r/α', () => {
    const t = 1e-4;
    expect(expectedPurchasesOfNewCustomer(published, t) / t).toBeCloseTo(
      published.r / published.alpha,
      4,
    );
  });

  it('recovers the parameters of a simulated population (seeded)', () => {
    const truth = { r: 0.5, alpha: 6, a: 0.8, b: 2.5 };
    const histories = simulateHistories(truth, 20_000, 52, seededRandom(20240501));
    const fit = fitBgNbd(histories);
    expect(fit.converged).toBe(true);
    expect(fit.params.r).toBeCloseTo(truth.r, 1);
    expect(fit.params.alpha / truth.alpha).toBeGreaterThan(0.85);
    expect(fit.params.alpha / truth.alpha).toBeLessThan(1.15);
    expect(fit.params.a / truth.a).toBeGreaterThan(0.75);
    expect(fit.params.a / truth.a).toBeLessThan(1.25);
    expect(fit.params.b / truth.b).toBeGreaterThan(0.7);
    expect(fit.params.b / truth.b).toBeLessThan(1.3);
    // The maximum is a maximum: the truth cannot fit the sample better.
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(bgNbdTotalLogLikelihood(histories, truth));
  });

  it('refuses histories that cannot be', () => {
    expect(() => fitBgNbd([])).toThrow(RangeError);
    expect(() => fitBgNbd([{ x: 1, tx: 5, T: 3 }])).toThrow(RangeError);
  });

  describe.skipIf(sharedDataDir === undefined)('on the CDNOW 2,357-customer summary', () => {
    const histories = () =>
      readSummary(join(sharedDataDir ?? '', 'cdnow/cdnow_customers_summary.csv'));

    it('reproduces the published parameters to 3 decimals', () => {
      const data = histories();
      expect(data).toHaveLength(2357);
      const fit = fitBgNbd(data);
      expect(fit.converged).toBe(true);
      expect(Math.abs(fit.params.r - published.r)).toBeLessThan(0.0005);
      expect(Math.abs(fit.params.alpha - published.alpha)).toBeLessThan(0.0005);
      expect(Math.abs(fit.params.a - published.a)).toBeLessThan(0.0005);
      expect(Math.abs(fit.params.b - published.b)).toBeLessThan(0.0005);
      // The paper's log-likelihood, −9582.4.
      expect(fit.logLikelihood).toBeCloseTo(-9582.4, 1);
    });
  });
  if (sharedDataDir === undefined) it.skip(sharedDataNote, () => undefined);
});

import { describe, expect, it } from 'vitest';
import {
  areaUnderRoc,
  brierScore,
  calibrationCurve,
  liftInTopDecile,
} from './classification-metrics.js';

describe('classification metrics', () => {
  it('computes the AUC as the share of correctly ordered pairs, ties half', () => {
    expect(areaUnderRoc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(areaUnderRoc([0.5, 0.5, 0.5], [0, 1, 1])).toBeCloseTo(0.5, 12);
    expect(areaUnderRoc([3, 1], [1, 0])).toBe(1);
    expect(areaUnderRoc([1, 2], [1, 1])).toBeNaN();
  });

  it('computes the Brier score', () => {
    expect(brierScore([0.9, 0.2, 0.5], [1, 0, 1])).toBeCloseTo((0.01 + 0.04 + 0.25) / 3, 12);
  });

  it('bins predictions for a calibration curve', () => {
    const curve = calibrationCurve([0.05, 0.08, 0.95, 1], [0, 1, 1, 1], 10);
    expect(curve).toEqual([
      { from: 0, to: 0.1, count: 2, meanPredicted: 0.065, observedRate: 0.5 },
      { from: 0.9, to: 1, count: 2, meanPredicted: 0.975, observedRate: 1 },
    ]);
  });

  it('measures the lift in the top decile', () => {
    const scores = Array.from({ length: 20 }, (_, i) => i);
    const labels = scores.map((s) => (s >= 18 || s === 3 ? 1 : 0));
    // The top two are both positive; the base rate is 3/20.
    expect(liftInTopDecile(scores, labels)).toBeCloseTo(1 / (3 / 20), 12);
  });

  it('counts scores tied across the cut in proportion, whatever order the rows come in', () => {
    // One score for everyone ranks no one: a lift of 1, churners listed first or last.
    const scores = Array.from({ length: 100 }, () => 0.5);
    const first = Array.from({ length: 100 }, (_, i): 0 | 1 => (i < 20 ? 1 : 0));
    expect(liftInTopDecile(scores, first)).toBeCloseTo(1, 12);
    expect(liftInTopDecile(scores, [...first].reverse())).toBeCloseTo(1, 12);
    // A tie straddling the cut: the top 2 of 20 are one sure positive and a tie of four with
    // two positives, of which one slot takes half.
    const straddling = [0.9, 0.8, 0.8, 0.8, 0.8, ...Array.from({ length: 15 }, () => 0.1)];
    const labels: (0 | 1)[] = [1, 0, 1, 1, 0, ...Array.from({ length: 15 }, (): 0 | 1 => 0)];
    expect(liftInTopDecile(straddling, labels)).toBeCloseTo(1.5 / 2 / (3 / 20), 12);
  });
});

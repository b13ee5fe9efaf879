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
});

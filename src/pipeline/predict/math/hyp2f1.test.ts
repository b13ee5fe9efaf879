import { describe, expect, it } from 'vitest';
import { hyp2f1, SeriesDidNotConverge } from './hyp2f1.js';

describe('hyp2f1', () => {
  it('is 1 at z = 0', () => {
    expect(hyp2f1(0.3, 2, 3, 0)).toBe(1);
  });

  it('matches closed forms', () => {
    // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z (A&S 15.1.3).
    for (const z of [0.1, 0.5, 0.9, 0.99])
      expect(hyp2f1(1, 1, 2, z)).toBeCloseTo(-Math.log(1 - z) / z, 10);
    // ₂F₁(a, b; b; z) = (1 − z)^−a.
    expect(hyp2f1(0.243, 2.426, 2.426, 0.7)).toBeCloseTo(Math.pow(0.3, -0.243), 12);
  });

  it('matches mpmath reference values at BG/NBD-like arguments', () => {
    // mpmath.hyp2f1(2.243, 4.426, 4.219, 0.5) and mpmath.hyp2f1(0.243, 2.426, 2.219, 0.95).
    expect(hyp2f1(2.243, 4.426, 4.219, 0.5)).toBeCloseTo(5.16169390138361, 12);
    expect(hyp2f1(0.243, 2.426, 2.219, 0.95)).toBeCloseTo(2.44618667703099, 11);
  });

  it('sums for c in (−1, 0), as the forecast of a one-order customer needs when a + b < 1', () => {
    // d/dz ₂F₁(a, b; c; z) = (ab/c) ₂F₁(a+1, b+1; c+1; z) (A&S 15.2.1): the right side has c > 0.
    for (const [a, b, c, z] of [
      [0.5, 0.29, -0.21, 0.4],
      [0.74, 0.4, -0.6, 0.8],
    ] as const) {
      const h = 1e-6;
      const slope = (hyp2f1(a, b, c, z + h) - hyp2f1(a, b, c, z - h)) / (2 * h);
      const expected = ((a * b) / c) * hyp2f1(a + 1, b + 1, c + 1, z);
      expect(Math.abs(slope - expected) / Math.abs(expected)).toBeLessThan(1e-6);
    }
    expect(() => hyp2f1(1, 1, 0, 0.5)).toThrow(RangeError);
    expect(() => hyp2f1(1, 1, -1.5, 0.5)).toThrow(RangeError);
  });

  it('refuses z outside [0, 1) and says when it runs out of terms', () => {
    expect(() => hyp2f1(1, 1, 2, 1)).toThrow(RangeError);
    expect(() => hyp2f1(1, 1, 2, 0.999999, { maxTerms: 100 })).toThrow(SeriesDidNotConverge);
  });
});

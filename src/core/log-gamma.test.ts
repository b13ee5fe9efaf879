import { describe, expect, it } from 'vitest';
import { logGamma } from './log-gamma.js';

const logFactorial = (n: number): number => {
  let sum = 0;
  for (let k = 2; k <= n; k++) sum += Math.log(k);
  return sum;
};

describe('logGamma', () => {
  it('matches ln((n − 1)!) at the integers', () => {
    for (const n of [1, 2, 3, 5, 10, 20, 50, 170])
      expect(logGamma(n)).toBeCloseTo(logFactorial(n - 1), 10);
  });

  it('matches Γ(½) = √π and the reflection below ½', () => {
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    // mpmath.loggamma(0.243) and Γ(0.1) = 9.51350769866873.
    expect(logGamma(0.243)).toBeCloseTo(1.31804358469967, 13);
    expect(logGamma(0.1)).toBeCloseTo(Math.log(9.51350769866873), 13);
  });

  it('satisfies Γ(x + 1) = x Γ(x) for non-integers', () => {
    for (const x of [0.01, 0.243, 0.793, 2.426, 4.414, 37.5, 1234.5])
      expect(logGamma(x + 1) - logGamma(x)).toBeCloseTo(Math.log(x), 11);
  });

  it('refuses x ≤ 0', () => {
    expect(() => logGamma(0)).toThrow(RangeError);
  });
});

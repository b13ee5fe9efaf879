import { describe, expect, it } from 'vitest';
import { hashPartsToUnit } from './hash-parts-to-unit.js';

describe('hashPartsToUnit', () => {
  it('matches the documented recipe computed independently with Python hashlib', () => {
    expect(hashPartsToUnit(['assign', 'spring-sale', 'customer-1'])).toBe(0.001531402753055966);
    expect(hashPartsToUnit(['assign', 'spring-sale', 'DE', 'customer-1'])).toBe(0.8599381333813053);
    expect(hashPartsToUnit(['holdout', 'ü-salt', 'anon:42'])).toBe(0.603895702917153);
  });

  it('keeps the boundaries between parts: ("a", "bc") and ("ab", "c") differ', () => {
    expect(hashPartsToUnit(['a', 'bc'])).toBe(0.7078369908673371);
    expect(hashPartsToUnit(['ab', 'c'])).toBe(0.9475650527020565);
  });

  it('spreads values uniformly over [0, 1)', () => {
    const n = 50_000;
    const quarters = [0, 0, 0, 0];
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = hashPartsToUnit(['t', `c${i}`]);
      if (!(u >= 0 && u < 1)) outside++;
      const q = Math.floor(u * 4);
      quarters[q] = (quarters[q] ?? 0) + 1;
    }
    expect(outside).toBe(0);
    // 4 standard deviations of a binomial share at n = 50,000.
    for (const count of quarters) expect(Math.abs(count / n - 0.25)).toBeLessThan(0.0078);
  });
});

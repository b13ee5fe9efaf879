import { describe, expect, it } from 'vitest';
import { createXoshiro128, seededRandom } from './random.js';

describe('createXoshiro128', () => {
  it('reproduces the reference outputs for state (1, 2, 3, 4)', () => {
    // The rand_xoshiro crate's test vector (docs.rs/rand_xoshiro, xoshiro128starstar.rs).
    const next = createXoshiro128([1, 2, 3, 4]);
    expect(Array.from({ length: 10 }, () => next())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597,
      4258142804,
    ]);
  });

  it('refuses the all-zero state, which would only ever produce 0', () => {
    expect(() => createXoshiro128([0, 0, 0, 0])).toThrow(RangeError);
  });
});

describe('seededRandom', () => {
  it('repeats the same sequence for the same seed and a different one for another seed', () => {
    const take = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 5 }, () => random.next());
    };
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
  });

  it('draws uniformly in [0, 1): mean ½, variance 1/12, every decile near 10 %', () => {
    const random = seededRandom(7);
    const n = 200_000;
    const deciles = new Array<number>(10).fill(0);
    let sum = 0;
    let squares = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = random.next();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      squares += u * u;
      const decile = Math.floor(u * 10);
      deciles[decile] = (deciles[decile] ?? 0) + 1;
    }
    const mean = sum / n;
    expect(outside).toBe(0);
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(squares / n - mean * mean - 1 / 12)).toBeLessThan(0.001);
    for (const count of deciles) expect(Math.abs(count / n - 0.1)).toBeLessThan(0.003);
  });

  it('rejects a seed that is not an integer', () => {
    expect(() => seededRandom(1.5)).toThrow(RangeError);
  });
});

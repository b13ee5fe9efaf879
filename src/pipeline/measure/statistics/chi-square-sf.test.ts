import { describe, expect, it } from 'vitest';
import { chiSquareSf } from './chi-square-sf.js';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };

describe('chiSquareSf', () => {
  it('matches scipy chi2.sf to 1e-12 relative and mpmath ln Q to 1e-12 relative', () => {
    for (const row of reference.chiSquare) {
      const tail = chiSquareSf(row.x, row.df);
      if (row.sf > 1e-300) expectClose(tail.p, row.sf, 1e-12, 0, `sf(${row.x}; ${row.df})`);
      expectClose(tail.logP, row.logSf, 1e-12, 1e-15, `logsf(${row.x}; ${row.df})`);
    }
  });

  it('gives ln p ≈ −1004.03 for 2000 on 1 df, where p underflows', () => {
    const tail = chiSquareSf(2000, 1);
    expect(tail.p).toBe(0);
    expect(tail.logP).toBeCloseTo(-1004.0267419589519, 9);
  });

  it('returns p = 1 at and below zero and rejects df ≤ 0', () => {
    expect(chiSquareSf(0, 3)).toEqual({ p: 1, logP: 0 });
    expect(() => chiSquareSf(1, 0)).toThrow(RangeError);
  });
});

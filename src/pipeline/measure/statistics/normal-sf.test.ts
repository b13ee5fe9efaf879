import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };
import { logNormalSf, normalCdf, normalQuantile, normalSf, normalTail } from './normal-sf.js';

// scipy's ndtr/log_ndtr (Cephes erfc with the same exp(−x²) splitting) are good to ~1e-16, so
// 1e-13 relative leaves room only for rounding; the fixture's z values are decimal literals.
const RELATIVE = 1e-13;

describe('normalTail', () => {
  it('matches scipy norm.sf and norm.cdf to 1e-13 relative wherever they are representable', () => {
    for (const row of reference.normal) {
      if (row.sf > 0) expectClose(normalSf(row.z), row.sf, RELATIVE, 0, `sf(${row.z})`);
      if (row.cdf > 0) expectClose(normalCdf(row.z), row.cdf, RELATIVE, 0, `cdf(${row.z})`);
    }
  });

  it('matches scipy norm.logsf and mpmath in log space, including beyond underflow', () => {
    for (const row of reference.normal) {
      expectClose(logNormalSf(row.z), row.logSf, RELATIVE, 1e-15, `logsf(${row.z})`);
      expectClose(logNormalSf(row.z), row.logSfMp, RELATIVE, 1e-15, `mp logsf(${row.z})`);
      expectClose(normalTail(-row.z).logP, row.logCdf, RELATIVE, 1e-15, `logcdf(${row.z})`);
    }
  });

  it('keeps ln p finite at z = 40, where p itself underflows', () => {
    const tail = normalTail(40);
    expect(tail.p).toBe(0);
    expect(tail.logP).toBeCloseTo(-804.6084420137539, 10);
  });

  it('adds up to one and is symmetric', () => {
    for (const z of [-6, -1.7320508, -1, 0, 0.4, 1.7320509, 2.2, 7]) {
      expectClose(normalSf(z) + normalCdf(z), 1, 1e-15, 0, `sum at ${z}`);
      expect(normalSf(-z)).toBe(normalCdf(z));
    }
  });

  it('rejects NaN', () => {
    expect(() => normalTail(Number.NaN)).toThrow(RangeError);
  });
});

describe('normalQuantile', () => {
  it('matches scipy norm.ppf to 1e-14 relative from p = 1e-300 to 0.999', () => {
    for (const row of reference.normalQuantile) {
      expectClose(normalQuantile(row.p), row.z, 1e-14, 1e-16, `ppf(${row.p})`);
    }
  });

  it('inverts the cdf', () => {
    for (const p of [1e-200, 1e-12, 0.01, 0.3, 0.7, 0.99]) {
      expectClose(normalCdf(normalQuantile(p)), p, 1e-13, 0, `cdf(ppf(${p}))`);
    }
  });

  it('rejects probabilities outside (0, 1)', () => {
    for (const p of [0, 1, -0.1, 1.5, Number.NaN]) {
      expect(() => normalQuantile(p)).toThrow(RangeError);
    }
  });
});

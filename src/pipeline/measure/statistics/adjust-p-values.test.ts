import { describe, expect, it } from 'vitest';
import { adjustBenjaminiHochberg, adjustHolm } from './adjust-p-values.js';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };

describe('adjustHolm and adjustBenjaminiHochberg', () => {
  it("match statsmodels multipletests('holm' and 'fdr_bh') in the input order", () => {
    for (const row of reference.adjustments) {
      const holm = adjustHolm(row.p);
      const bh = adjustBenjaminiHochberg(row.p);
      row.holm.forEach((expected, i) => {
        expectClose(holm[i] ?? Number.NaN, expected, 1e-14, 0, `holm ${i}`);
      });
      row.bh.forEach((expected, i) => {
        expectClose(bh[i] ?? Number.NaN, expected, 1e-14, 0, `bh ${i}`);
      });
    }
  });

  it('never gives a Benjamini–Hochberg value above Holm (issue 6 acceptance)', () => {
    for (const row of reference.adjustments) {
      const holm = adjustHolm(row.p);
      adjustBenjaminiHochberg(row.p).forEach((q, i) => {
        expect(q).toBeLessThanOrEqual(holm[i] ?? Number.NaN);
      });
    }
  });

  it('returns an empty list for no p-values and rejects values outside [0, 1]', () => {
    expect(adjustHolm([])).toEqual([]);
    expect(() => adjustBenjaminiHochberg([0.2, 1.5])).toThrow(RangeError);
    expect(() => adjustHolm([Number.NaN])).toThrow(RangeError);
  });
});

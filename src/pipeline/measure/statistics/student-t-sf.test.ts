import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };
import { studentTSf } from './student-t-sf.js';

describe('studentTSf', () => {
  it('matches scipy t.sf to 1e-11 relative and mpmath ln sf to 1e-12 relative', () => {
    for (const row of reference.studentT) {
      const tail = studentTSf(row.t, row.df);
      if (row.sf > 1e-300) expectClose(tail.p, row.sf, 1e-11, 0, `sf(${row.t}; ${row.df})`);
      expectClose(tail.logP, row.logSf, 1e-12, 1e-15, `logsf(${row.t}; ${row.df})`);
    }
  });

  it('is ½ at zero and symmetric', () => {
    expect(studentTSf(0, 4).p).toBe(0.5);
    expectClose(studentTSf(-1.3, 7).p + studentTSf(1.3, 7).p, 1, 1e-15);
  });

  it('rejects df ≤ 0', () => {
    expect(() => studentTSf(1, 0)).toThrow(RangeError);
  });
});

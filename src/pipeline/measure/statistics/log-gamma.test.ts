import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };
import { logGamma } from '../../../core/log-gamma.js';

describe('logGamma', () => {
  it('matches scipy gammaln to 1e-14 relative (1e-14 absolute near its zeros at 1 and 2)', () => {
    for (const row of reference.logGamma) {
      expectClose(logGamma(row.x), row.value, 1e-14, 1e-14, `lnΓ(${row.x})`);
    }
  });

  it('rejects x ≤ 0', () => {
    expect(() => logGamma(0)).toThrow(RangeError);
  });
});

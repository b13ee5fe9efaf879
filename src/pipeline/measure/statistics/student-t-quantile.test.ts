import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import { normalQuantile } from './normal-sf.js';
import { studentTQuantile } from './student-t-quantile.js';
import { studentTSf } from './student-t-sf.js';

describe('studentTQuantile', () => {
  it('matches scipy.stats.t.ppf (scipy 1.17.1)', () => {
    const reference: [number, number, number][] = [
      [0.975, 1, 12.706204736174694],
      [0.975, 2.5, 3.5746548420036817],
      [0.975, 10, 2.228138851986274],
      [0.975, 30, 2.0422724563012378],
      [0.995, 5, 4.032142983555228],
      [0.975, 1e6, 1.959966356814107],
      [0.9, 3, 1.637744353696209],
      [0.999999, 4, 41.5778541501515],
    ];
    for (const [probability, df, expected] of reference) {
      expectClose(studentTQuantile(probability, df), expected, 1e-9, 0, `t(${probability}, ${df})`);
    }
  });

  it('inverts the survival function and is symmetric', () => {
    const t = studentTQuantile(0.99, 7.3);
    expectClose(studentTSf(t, 7.3).p, 0.01, 1e-10);
    expect(studentTQuantile(0.01, 7.3)).toBe(-t);
    expect(studentTQuantile(0.5, 3)).toBe(0);
    expect(studentTQuantile(0.975, 12)).toBeGreaterThan(normalQuantile(0.975));
  });

  it('refuses probabilities outside (0, 1) and df ≤ 0', () => {
    expect(() => studentTQuantile(1, 3)).toThrow(RangeError);
    expect(() => studentTQuantile(0.9, 0)).toThrow(RangeError);
  });
});

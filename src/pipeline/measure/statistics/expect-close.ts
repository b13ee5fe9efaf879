import { expect } from 'vitest';

/**
 * Asserts |actual − expected| ≤ max(relative·|expected|, absolute), printing both numbers and the
 * observed relative error when it fails. Test-only helper.
 */
export const expectClose = (
  actual: number,
  expected: number,
  relative: number,
  absolute = 0,
  label = '',
): void => {
  const error = Math.abs(actual - expected);
  const allowed = Math.max(relative * Math.abs(expected), absolute);
  const observed = expected === 0 ? error : error / Math.abs(expected);
  expect(
    error <= allowed,
    `${label} actual ${actual} vs expected ${expected} (relative error ${observed})`,
  ).toBe(true);
};

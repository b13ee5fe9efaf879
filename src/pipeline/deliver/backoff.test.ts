import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './backoff.js';

const backoff = { baseSeconds: 30, maxSeconds: 3600 };

describe('retry delays', () => {
  it('double per attempt between half and all of the ceiling, capped', () => {
    expect(retryDelayMs(1, null, backoff, () => 0)).toBe(15_000);
    expect(retryDelayMs(1, null, backoff, () => 1)).toBe(30_000);
    expect(retryDelayMs(3, null, backoff, () => 1)).toBe(120_000);
    expect(retryDelayMs(20, null, backoff, () => 1)).toBe(3_600_000);
    expect(retryDelayMs(20, null, backoff, () => 0)).toBe(1_800_000);
  });

  it("wait at least as long as the provider's Retry-After", () => {
    expect(retryDelayMs(1, 90_000, backoff, () => 1)).toBe(90_000);
    expect(retryDelayMs(3, 1_000, backoff, () => 1)).toBe(120_000);
  });
});

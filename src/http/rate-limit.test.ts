import { describe, expect, it } from 'vitest';
import { createRateLimiter, RateLimitedError } from './rate-limit.js';

/** How many of `requests` spread evenly over `spanMs` are let through. */
const accepted = (perMinute: number, requests: number, spanMs: number): number => {
  const limiter = createRateLimiter(perMinute);
  let ok = 0;
  for (let i = 0; i < requests; i += 1) {
    try {
      limiter.take('token', Math.floor((i * spanMs) / requests));
      ok += 1;
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
    }
  }
  return ok;
};

describe('the admin API rate limit', () => {
  it('lets at most the limit through in any minute, a burst or spread out', () => {
    expect(accepted(600, 2000, 59_999)).toBe(600);
    expect(accepted(600, 2000, 0)).toBe(600);
    // Over two minutes and a bit: a minute's worth in each.
    expect(accepted(10, 1000, 120_001)).toBeLessThanOrEqual(30);
    expect(accepted(10, 1000, 120_001)).toBeGreaterThanOrEqual(20);
  });

  it('says when the oldest request of the minute leaves it, and lets the next one in then', () => {
    const limiter = createRateLimiter(7);
    for (let i = 0; i < 7; i += 1) limiter.take('k', i * 1000);
    let waitS = 0;
    try {
      limiter.take('k', 6_500);
    } catch (error) {
      waitS = (error as RateLimitedError).retryAfterSeconds;
    }
    // The first came at 0 s: it leaves the minute at 60 s, 53.5 s from now.
    expect(waitS).toBe(54);
    expect(() => {
      limiter.take('k', 59_999);
    }).toThrow(RateLimitedError);
    expect(() => {
      limiter.take('k', 60_000);
    }).not.toThrow();
    // Each key has its own minute; 0 turns the limit off.
    expect(() => {
      limiter.take('other', 60_000);
    }).not.toThrow();
    const off = createRateLimiter(0);
    for (let i = 0; i < 1000; i += 1) off.take('k', 0);
  });
});

import { AppError } from '../core/errors.js';

/** A token bucket per key: `perMinute` requests a minute, refilled continuously. */
export interface RateLimiter {
  /** Takes one token for `key`, or throws `rate-limited` with the seconds to wait. */
  take(key: string, nowMs: number): void;
}

export class RateLimitedError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, limit: number) {
    super(
      'rate-limited',
      `more than ${String(limit)} requests a minute with this token: retry in ${String(retryAfterSeconds)} s`,
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export const createRateLimiter = (perMinute: number): RateLimiter => {
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  const ratePerMs = perMinute / 60_000;
  return {
    take(key, nowMs) {
      if (perMinute === 0) return;
      const b = buckets.get(key) ?? { tokens: perMinute, atMs: nowMs };
      b.tokens = Math.min(perMinute, b.tokens + Math.max(0, nowMs - b.atMs) * ratePerMs);
      b.atMs = nowMs;
      buckets.set(key, b);
      if (b.tokens < 1)
        throw new RateLimitedError(
          Math.max(1, Math.ceil((1 - b.tokens) / ratePerMs / 1000)),
          perMinute,
        );
      b.tokens -= 1;
    },
  };
};

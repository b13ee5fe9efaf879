import { AppError } from '../core/errors.js';

const WINDOW_MS = 60_000;

/**
 * At most `perMinute` requests per key in any 60 seconds: each key keeps the times of its last
 * `perMinute` requests, and a request is refused while the oldest of them is under a minute old.
 */
export interface RateLimiter {
  /** Counts one request for `key`, or throws `rate-limited` with the seconds to wait. */
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
  // A ring of each key's last `perMinute` request times; `next` is the oldest once it is full.
  const logs = new Map<string, { times: Float64Array; next: number; count: number }>();
  return {
    take(key, nowMs) {
      if (perMinute === 0) return;
      let log = logs.get(key);
      if (log === undefined) {
        log = { times: new Float64Array(perMinute), next: 0, count: 0 };
        logs.set(key, log);
      }
      if (log.count === perMinute) {
        const oldestMs = log.times[log.next] ?? 0;
        if (nowMs - oldestMs < WINDOW_MS)
          throw new RateLimitedError(
            Math.max(1, Math.ceil((oldestMs + WINDOW_MS - nowMs) / 1000)),
            perMinute,
          );
      } else log.count += 1;
      log.times[log.next] = nowMs;
      log.next = (log.next + 1) % perMinute;
    },
  };
};

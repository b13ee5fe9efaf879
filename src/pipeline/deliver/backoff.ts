import type { DeliverPolicy } from './policy.js';

/**
 * How long to wait before attempt `attempt + 1` after a transient failure: exponential from
 * `baseSeconds`, capped at `maxSeconds`, with jitter between half and all of it so a provider
 * outage does not bring every message back at the same instant; a provider's own Retry-After
 * wins when it asks for longer.
 */
export const retryDelayMs = (
  attempt: number,
  providerAfterMs: number | null,
  backoff: DeliverPolicy['backoff'],
  random: () => number,
): number => {
  const ceiling = Math.min(backoff.maxSeconds, backoff.baseSeconds * 2 ** Math.max(0, attempt - 1));
  const jittered = ceiling * 1000 * (0.5 + 0.5 * random());
  // Whole milliseconds: times are stored as integers.
  return Math.round(Math.max(jittered, providerAfterMs ?? 0));
};

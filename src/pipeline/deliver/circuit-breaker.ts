/**
 * One provider's circuit, per process: after `failures` transient failures in a row it opens
 * and nothing is sent to the provider for `cooldownMs`; then one message may try (half-open):
 * success closes it, another failure opens it again. An attempt in flight when it opened that
 * succeeds later does not end the cooldown.
 */
export interface Circuit {
  /** Whether messages may go to the provider now; in half-open, how many (1). */
  allowance(nowMs: number, wanted: number): number;
  success(): void;
  failure(nowMs: number): void;
  /** Opens at once, whatever the count (the provider refuses every message alike). */
  trip(nowMs: number): void;
  /**
   * Opens at once for at least `forMs` (the provider's own rate limit said how long: a 429's
   * Retry-After), or the cooldown when that is longer; a later pause can only lengthen it.
   */
  pause(nowMs: number, forMs: number): void;
  /** The probe found nothing to send: the next round may probe again. */
  unused(): void;
  readonly state: 'closed' | 'open' | 'half-open';
}

export const createCircuit = (failures: number, cooldownMs: number): Circuit => {
  let inARow = 0;
  // While open, the moment a probe may go.
  let openUntilMs: number | null = null;
  let probing = false;
  // A rate limit's wait, apart from the failures' count: an attempt in flight that succeeds
  // after the limit was met does not end it, nor does a failure shorten it.
  let pausedUntilMs = Number.NEGATIVE_INFINITY;
  let lastNowMs = Number.NEGATIVE_INFINITY;
  const circuit: Circuit = {
    get state() {
      if (lastNowMs < pausedUntilMs) return 'open';
      return openUntilMs === null ? 'closed' : probing ? 'half-open' : 'open';
    },
    allowance(nowMs, wanted) {
      lastNowMs = nowMs;
      if (nowMs < pausedUntilMs) return 0;
      if (openUntilMs === null) return wanted;
      if (probing || nowMs < openUntilMs) return 0;
      probing = true;
      return Math.min(1, wanted);
    },
    success() {
      inARow = 0;
      // Open and not probing: an attempt in flight since before it opened succeeded (with 32
      // at once, some do) — the cooldown still runs; only the probe's success closes it.
      if (openUntilMs !== null && !probing) return;
      openUntilMs = null;
      probing = false;
    },
    unused() {
      probing = false;
    },
    trip(nowMs) {
      inARow = Math.max(inARow, failures);
      openUntilMs = nowMs + cooldownMs;
      probing = false;
    },
    pause(nowMs, forMs) {
      lastNowMs = nowMs;
      pausedUntilMs = Math.max(pausedUntilMs, nowMs + Math.max(forMs, cooldownMs));
    },
    failure(nowMs) {
      inARow += 1;
      if (probing || inARow >= failures) {
        openUntilMs = nowMs + cooldownMs;
        probing = false;
      }
    },
  };
  return circuit;
};

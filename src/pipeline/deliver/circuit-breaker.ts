/**
 * One provider's circuit, per process: after `failures` transient failures in a row it opens
 * and nothing is sent to the provider for `cooldownMs`; then one message may try (half-open):
 * success closes it, another failure opens it again.
 */
export interface Circuit {
  /** Whether messages may go to the provider now; in half-open, how many (1). */
  allowance(nowMs: number, wanted: number): number;
  success(): void;
  failure(nowMs: number): void;
  /** Opens at once, whatever the count (the provider refuses every message alike). */
  trip(nowMs: number): void;
  /** The probe found nothing to send: the next round may probe again. */
  unused(): void;
  readonly state: 'closed' | 'open' | 'half-open';
}

export const createCircuit = (failures: number, cooldownMs: number): Circuit => {
  let inARow = 0;
  let openedAtMs: number | null = null;
  let probing = false;
  const circuit: Circuit = {
    get state() {
      return openedAtMs === null ? 'closed' : probing ? 'half-open' : 'open';
    },
    allowance(nowMs, wanted) {
      if (openedAtMs === null) return wanted;
      if (probing || nowMs - openedAtMs < cooldownMs) return 0;
      probing = true;
      return Math.min(1, wanted);
    },
    success() {
      inARow = 0;
      openedAtMs = null;
      probing = false;
    },
    unused() {
      probing = false;
    },
    trip(nowMs) {
      inARow = Math.max(inARow, failures);
      openedAtMs = nowMs;
      probing = false;
    },
    failure(nowMs) {
      inARow += 1;
      if (probing || inARow >= failures) {
        openedAtMs = nowMs;
        probing = false;
      }
    },
  };
  return circuit;
};

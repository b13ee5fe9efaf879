/** A day's traffic weights of an adaptively allocated test, in force from `fromMs`. */
export interface AllocationEntry {
  fromMs: number;
  weights: Record<string, number>;
  /** The policy's state when it set them (`warm-up`, `thompson`, `top-two`, a phase …). */
  mode: string;
  reasons: string[];
}

/** The weights in force at a moment: the latest entry from before it, or null (equal). */
export const weightsAt = (
  history: readonly AllocationEntry[],
  atMs: number,
): Record<string, number> | null =>
  history
    .filter((e) => e.fromMs <= atMs)
    .reduce<AllocationEntry | null>(
      (latest, e) => (latest === null || e.fromMs > latest.fromMs ? e : latest),
      null,
    )?.weights ?? null;

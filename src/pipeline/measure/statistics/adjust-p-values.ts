const assertPValues = (pValues: readonly number[]): void => {
  for (const p of pValues) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values must be in [0, 1], got ${p}`);
  }
};

// Indices of pValues in ascending order of p (stable, so ties keep their input order).
const ascending = (pValues: readonly number[]): number[] =>
  pValues.map((_, i) => i).sort((a, b) => (pValues[a] ?? 0) - (pValues[b] ?? 0));

/**
 * Holm's step-down adjusted p-values, in the input order; rejecting those ≤ α controls the
 * family-wise error rate at α under any dependence.
 * Formula: with p₍₁₎ ≤ … ≤ p₍ₘ₎, p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎) (Holm 1979,
 * "A simple sequentially rejective multiple test procedure", Scand. J. Statist. 6:65–70).
 */
export const adjustHolm = (pValues: readonly number[]): number[] => {
  assertPValues(pValues);
  const m = pValues.length;
  const adjusted = new Array<number>(m).fill(0);
  let running = 0;
  ascending(pValues).forEach((index, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * (pValues[index] ?? 0)));
    adjusted[index] = running;
  });
  return adjusted;
};

/**
 * Benjamini–Hochberg step-up adjusted p-values (q-values), in the input order; rejecting those
 * ≤ q controls the false discovery rate at q for independent or positively dependent tests.
 * Never larger than Holm's. Formula: p̃₍ᵢ₎ = min_{j ≥ i} min(1, m·p₍ⱼ₎ / j) (Benjamini &
 * Hochberg 1995, J. R. Statist. Soc. B 57:289–300).
 */
export const adjustBenjaminiHochberg = (pValues: readonly number[]): number[] => {
  assertPValues(pValues);
  const m = pValues.length;
  const adjusted = new Array<number>(m).fill(0);
  const order = ascending(pValues);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const index = order[rank] ?? 0;
    running = Math.min(running, (m * (pValues[index] ?? 0)) / (rank + 1));
    adjusted[index] = running;
  }
  return adjusted;
};

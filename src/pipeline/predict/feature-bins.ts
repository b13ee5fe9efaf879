import type { CustomerSummary } from './summarise-transactions.js';

/** A feature's distribution: interior cut points and the share of customers in each bin. */
export interface FeatureBins {
  edges: number[];
  shares: number[];
}

/** The features the drift check follows, per customer summary. */
export const driftFeatures = (summaries: readonly CustomerSummary[]): Record<string, number[]> => ({
  frequency: summaries.map((s) => s.x),
  recency: summaries.map((s) => s.tx),
  age: summaries.map((s) => s.T),
  sinceLastPurchase: summaries.map((s) => s.T - s.tx),
  meanSpend: summaries.filter((s) => s.x > 0).map((s) => s.meanSpend),
});

/** Decile cut points (fewer when values repeat) and the shares of `values` in each bin. */
export const toBins = (values: readonly number[], bins = 10): FeatureBins => {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < bins; i += 1) {
    const edge = sorted[Math.floor((i * sorted.length) / bins)];
    if (edge !== undefined && edge !== edges.at(-1)) edges.push(edge);
  }
  return { edges, shares: sharesIn(values, edges) };
};

/** Shares of `values` at or below each edge (bin i holds edges[i-1] < v ≤ edges[i]), and above the last. */
export const sharesIn = (values: readonly number[], edges: readonly number[]): number[] => {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) {
    let i = 0;
    while (i < edges.length && v > (edges[i] ?? Infinity)) i += 1;
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts.map((c) => (values.length === 0 ? 0 : c / values.length));
};

// An empty bin would make ln(a/e) infinite: shares are floored at one in ten thousand.
const FLOOR = 1e-4;

/** PSI = Σ (actual − expected) · ln(actual / expected) over the bins. */
export const populationStability = (
  expected: readonly number[],
  actual: readonly number[],
): number =>
  expected.reduce((sum, e, i) => {
    const a = Math.max(actual[i] ?? 0, FLOOR);
    const x = Math.max(e, FLOOR);
    return sum + (a - x) * Math.log(a / x);
  }, 0);

/** The bins a training run stores with its version, to compare later customers against. */
export const featureBinsOf = (summaries: readonly CustomerSummary[]): Record<string, FeatureBins> =>
  Object.fromEntries(
    Object.entries(driftFeatures(summaries)).map(([name, values]) => [name, toBins(values)]),
  );

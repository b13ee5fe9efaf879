/**
 * The area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting half (the Mann–Whitney U statistic over n₁n₀, with mid-ranks).
 * NaN when either class is absent.
 */
export const areaUnderRoc = (scores: readonly number[], labels: readonly (0 | 1)[]): number => {
  const order = scores.map((s, i) => [s, labels[i] ?? 0] as const).sort((a, b) => a[0] - b[0]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && order[j]?.[0] === order[i]?.[0]) j++;
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++)
      if (order[k]?.[1] === 1) {
        positives++;
        rankSum += midRank;
      }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
};

/** The Brier score: the mean squared difference between probability and outcome (0 is perfect). */
export const brierScore = (
  probabilities: readonly number[],
  labels: readonly (0 | 1)[],
): number => {
  let s = 0;
  probabilities.forEach((p, i) => (s += (p - (labels[i] ?? 0)) ** 2));
  return s / probabilities.length;
};

export interface CalibrationBin {
  /** The bin's range of predicted probabilities, [from, to). */
  from: number;
  to: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

/** Predicted vs observed rates in `bins` equal-width probability bins (empty bins left out). */
export const calibrationCurve = (
  probabilities: readonly number[],
  labels: readonly (0 | 1)[],
  bins = 10,
): CalibrationBin[] => {
  const acc = Array.from({ length: bins }, () => ({ count: 0, predicted: 0, observed: 0 }));
  probabilities.forEach((p, i) => {
    const bin = acc[Math.min(bins - 1, Math.floor(p * bins))];
    if (bin === undefined) return;
    bin.count++;
    bin.predicted += p;
    bin.observed += labels[i] ?? 0;
  });
  return acc.flatMap((b, i) =>
    b.count === 0
      ? []
      : [
          {
            from: i / bins,
            to: (i + 1) / bins,
            count: b.count,
            meanPredicted: b.predicted / b.count,
            observedRate: b.observed / b.count,
          },
        ],
  );
};

/**
 * The positive rate among the top-scored 10 % over the overall rate (1 means no lift). Scores
 * tied across the cut count in proportion: the slots left take that share of the tie's
 * positives (before 2026-12-07 whoever came first in the input did, so a scorer giving everyone
 * one score had a lift of 0 or 5 by the order of its rows).
 */
export const liftInTopDecile = (scores: readonly number[], labels: readonly (0 | 1)[]): number => {
  const order = scores.map((s, i) => [s, labels[i] ?? 0] as const).sort((a, b) => b[0] - a[0]);
  const top = Math.max(1, Math.floor(order.length / 10));
  let hits = 0;
  let taken = 0;
  for (let i = 0; i < order.length && taken < top;) {
    // The run of rows with this score.
    const score = order[i]?.[0];
    let end = i;
    let positives = 0;
    while (end < order.length && order[end]?.[0] === score) positives += order[end++]?.[1] ?? 0;
    const size = end - i;
    const share = Math.min(size, top - taken);
    hits += (positives * share) / size;
    taken += share;
    i = end;
  }
  const base = labels.reduce<number>((s, l) => s + l, 0) / labels.length;
  return base === 0 ? Number.NaN : hits / top / base;
};

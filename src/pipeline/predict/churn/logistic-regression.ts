import { solveLinear } from '../math/solve-linear.js';

/** A fitted logistic regression on standardised features. */
export interface LogisticModel {
  /** Intercept first, then one weight per standardised feature. */
  weights: number[];
  means: number[];
  scales: number[];
  l2: number;
  iterations: number;
  converged: boolean;
}

const sigmoid = (z: number): number =>
  z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));

const standardiser = (rows: readonly (readonly number[])[]) => {
  const d = rows[0]?.length ?? 0;
  const means = Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (const r of rows) s += r[j] ?? 0;
    return s / rows.length;
  });
  const scales = means.map((m, j) => {
    let s = 0;
    for (const r of rows) s += ((r[j] ?? 0) - m) ** 2;
    const sd = Math.sqrt(s / rows.length);
    // A constant feature keeps scale 1: its weight is then held at 0 by the penalty.
    return sd > 0 ? sd : 1;
  });
  return { means, scales };
};

const design = (row: readonly number[], means: number[], scales: number[]): number[] => [
  1,
  ...row.map((v, j) => (v - (means[j] ?? 0)) / (scales[j] ?? 1)),
];

/**
 * Fits P(y = 1 | x) = σ(w₀ + Σ wⱼ zⱼ) on standardised features zⱼ by iteratively reweighted
 * least squares (Newton's method on the log-likelihood, Hastie, Tibshirani & Friedman, ESL
 * §4.4.1) with an L2 penalty (l2/2)·Σ_{j≥1} wⱼ² that leaves the intercept free. The penalised
 * log-likelihood is concave, so Newton converges from zero; it stops when no weight moves by more
 * than 1e-10.
 */
export const fitLogisticRegression = (
  rows: readonly (readonly number[])[],
  labels: readonly (0 | 1)[],
  options: { l2?: number; maxIterations?: number } = {},
): LogisticModel => {
  if (rows.length === 0 || rows.length !== labels.length)
    throw new RangeError('fitLogisticRegression needs as many labels as rows, at least one');
  const l2 = options.l2 ?? 1;
  const { means, scales } = standardiser(rows);
  const x = rows.map((r) => design(r, means, scales));
  const k = means.length + 1;
  let w = new Array<number>(k).fill(0);
  let iterations = 0;
  let converged = false;
  while (iterations < (options.maxIterations ?? 100) && !converged) {
    iterations++;
    const hessian = Array.from({ length: k }, (_, i) =>
      Array.from({ length: k }, (_, j) => (i === j && i > 0 ? l2 : 0)),
    );
    const gradient = w.map((wj, j) => (j > 0 ? -l2 * wj : 0));
    for (let n = 0; n < x.length; n++) {
      const xi = x[n] ?? [];
      let z = 0;
      for (let j = 0; j < k; j++) z += (w[j] ?? 0) * (xi[j] ?? 0);
      const p = sigmoid(z);
      const weight = Math.max(p * (1 - p), 1e-12);
      const residual = (labels[n] ?? 0) - p;
      for (let i = 0; i < k; i++) {
        const xii = xi[i] ?? 0;
        gradient[i] = (gradient[i] ?? 0) + residual * xii;
        const row = hessian[i] ?? [];
        for (let j = 0; j <= i; j++) row[j] = (row[j] ?? 0) + weight * xii * (xi[j] ?? 0);
      }
    }
    for (let i = 0; i < k; i++)
      for (let j = i + 1; j < k; j++) (hessian[i] ?? [])[j] = hessian[j]?.[i] ?? 0;
    const step = solveLinear(hessian, gradient);
    w = w.map((wj, j) => wj + (step[j] ?? 0));
    converged = step.every((s) => Math.abs(s) < 1e-10);
  }
  return { weights: w, means, scales, l2, iterations, converged };
};

/** P(y = 1 | row) under a fitted model. */
export const predictLogistic = (model: LogisticModel, row: readonly number[]): number => {
  const xi = design(row, model.means, model.scales);
  let z = 0;
  for (let j = 0; j < xi.length; j++) z += (model.weights[j] ?? 0) * (xi[j] ?? 0);
  return sigmoid(z);
};

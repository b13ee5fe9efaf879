import numeric from 'numeric';

export interface Minimum {
  /** The arguments at the minimum found. */
  x: number[];
  /** The function's value there. */
  value: number;
  iterations: number;
  /** Whether the optimiser stopped because its step fell below the tolerance. */
  converged: boolean;
  /** The optimiser's own words for why it stopped. */
  message: string;
}

/** Central differences: the error is O(h²) in truncation plus O(ε·|f|/h) in rounding. */
const centralGradient =
  (f: (x: number[]) => number, h: number) =>
  (x: number[]): number[] =>
    x.map((xi, i) => {
      const up = [...x];
      const down = [...x];
      up[i] = xi + h;
      down[i] = xi - h;
      return (f(up) - f(down)) / (2 * h);
    });

/**
 * Minimises a smooth, unconstrained function with numeric.js's BFGS quasi-Newton method
 * (`numeric.uncmin`: inverse-Hessian updates and a backtracking Armijo line search), using
 * `gradient` when given and central differences otherwise. It stops when the Newton step is
 * shorter than `tol`; `converged` says whether that happened within `maxIterations`.
 */
export const minimise = (
  f: (x: number[]) => number,
  x0: readonly number[],
  options: { tol?: number; maxIterations?: number; gradient?: (x: number[]) => number[] } = {},
): Minimum => {
  const tol = options.tol ?? 1e-9;
  const gradient = options.gradient ?? centralGradient(f, 1e-6);
  const result = numeric.uncmin(f, [...x0], tol, gradient, options.maxIterations ?? 2000);
  return {
    x: result.solution,
    value: result.f,
    iterations: result.iterations,
    converged: /smaller than tol/.test(result.message),
    message: result.message,
  };
};

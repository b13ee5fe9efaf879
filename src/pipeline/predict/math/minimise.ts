import numeric from 'numeric';

export interface Minimum {
  /** The arguments at the minimum found. */
  x: number[];
  /** The function's value there. */
  value: number;
  iterations: number;
  /** Whether the optimiser stopped because its step fell below the tolerance where the slope
   * is flat (no direction steeper than 1e-3): a minimum, not a stalled search. */
  converged: boolean;
  /** The optimiser's own words for why it stopped. */
  message: string;
}

/** The largest slope a minimum found may keep in any direction. */
const GRADIENT_TOL = 1e-3;

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
 * shorter than `tol`; `converged` says whether that happened within `maxIterations` at a flat
 * slope. Where `f` throws or is not finite it has no value (NaN), which the search steps back from.
 */
export const minimise = (
  f: (x: number[]) => number,
  x0: readonly number[],
  options: { tol?: number; maxIterations?: number; gradient?: (x: number[]) => number[] } = {},
): Minimum => {
  const tol = options.tol ?? 1e-9;
  // A point where the function has no value — it throws (ln Γ of an argument that underflowed
  // to 0) or is not finite — is one the line search steps back from, not the end of the fit.
  const valueAt = (x: number[]): number => {
    try {
      const value = f(x);
      return Number.isFinite(value) ? value : Number.NaN;
    } catch {
      return Number.NaN;
    }
  };
  const gradient = options.gradient ?? centralGradient(valueAt, 1e-6);
  const result = numeric.uncmin(valueAt, [...x0], tol, gradient, options.maxIterations ?? 2000);
  return {
    x: result.solution,
    value: result.f,
    iterations: result.iterations,
    // numeric.js also stops when its line search cannot go on ("Line search step size smaller
    // than tol"): near the minimum that is rounding, elsewhere it is stuck. The gradient there
    // tells which (the objectives are means per customer, so one scale fits them all).
    converged:
      /smaller than tol/.test(result.message) &&
      gradient(result.solution).every((g) => Math.abs(g) <= GRADIENT_TOL),
    message: result.message,
  };
};

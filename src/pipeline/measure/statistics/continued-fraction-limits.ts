/**
 * Limits of the modified Lentz evaluation of continued fractions (Numerical Recipes 3rd ed.
 * §5.2), shared by the incomplete gamma and beta functions: relative convergence, the stand-in
 * for a zero denominator, and the iteration cap.
 */
export const EPSILON = 1e-16;
export const TINY = 1e-300;
export const MAX_ITERATIONS = 100_000;

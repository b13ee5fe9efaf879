import numeric from 'numeric';

/** Solves A x = b for a square, non-singular A (numeric.js: LU with partial pivoting). */
export const solveLinear = (a: readonly (readonly number[])[], b: readonly number[]): number[] => {
  const x = numeric.solve(
    a.map((row) => [...row]),
    [...b],
  );
  if (!x.every(Number.isFinite)) throw new RangeError('solveLinear: the matrix is singular');
  return x;
};

// Minimal types for the parts of jstat (no published @types) that Herald calls.
declare module 'jstat' {
  interface JStat {
    normal: {
      /** Quantile of N(mean, sd²); accurate to ~1e-15 for p in [1e-3, 1 − 1e-3], poorer beyond. */
      inv(p: number, mean: number, sd: number): number;
    };
  }
  const jStat: JStat;
  export default jStat;
}

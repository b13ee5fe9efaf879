/** A figure that may be unbounded (an interval's end, a lift over nothing): ±∞ shown as such. */
export const bounded = (x: number, f: (x: number) => string): string =>
  x === Infinity ? '∞' : x === -Infinity ? '−∞' : Number.isNaN(x) ? '—' : f(x);

/** An interval's confidence as a reader expects it: `95 %`, `97.5 %`, `99.9999 %` (not 100). */
export const confidenceOf = (alpha: number): string =>
  `${String(Number((100 * (1 - alpha)).toPrecision(6)))} %`;

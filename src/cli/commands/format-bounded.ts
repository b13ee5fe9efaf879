/** A figure that may be unbounded (an interval's end, a lift over nothing): ±∞ shown as such. */
export const bounded = (x: number, f: (x: number) => string): string =>
  x === Infinity ? '∞' : x === -Infinity ? '−∞' : Number.isNaN(x) ? '—' : f(x);

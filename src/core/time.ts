export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Whole and fractional days between two instants (positive when `laterMs` is later). */
export const daysBetween = (earlierMs: number, laterMs: number): number =>
  (laterMs - earlierMs) / DAY_MS;

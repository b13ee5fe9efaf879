import { AppError } from './errors.js';

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Whole and fractional days between two instants (positive when `laterMs` is later). */
export const daysBetween = (earlierMs: number, laterMs: number): number =>
  (laterMs - earlierMs) / DAY_MS;

/**
 * A date a person typed (a CLI option, a query parameter): ISO-8601, a bare date being that
 * day's midnight UTC. One that does not parse is bad input naming where it came from.
 */
export const parseDateInput = (text: string, label: string): number => {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(ms))
    throw new AppError(
      'invalid-input',
      `${label}: "${text}" is not a date (use ISO-8601, e.g. 2026-01-31)`,
    );
  return ms;
};

import { AppError } from './errors.js';

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Whole and fractional days between two instants (positive when `laterMs` is later). */
export const daysBetween = (earlierMs: number, laterMs: number): number =>
  (laterMs - earlierMs) / DAY_MS;

const EARLIEST_INPUT_MS = Date.UTC(1900, 0, 1);
const LATEST_INPUT_MS = Date.UTC(10000, 0, 1);

/**
 * A date a person typed (a CLI option, a query parameter): ISO-8601, a bare date being that
 * day's midnight UTC, in the years 1900 to 9999. One that does not parse, or lies outside them,
 * is bad input naming where it came from.
 */
export const parseDateInput = (text: string, label: string): number => {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(ms))
    throw new AppError(
      'invalid-input',
      `${label}: "${text}" is not a date (use ISO-8601, e.g. 2026-01-31)`,
    );
  // JavaScript reads years to ±275,760; a window counted back from one at the edge is no date.
  if (ms < EARLIEST_INPUT_MS || ms >= LATEST_INPUT_MS)
    throw new AppError('invalid-input', `${label}: "${text}" is outside the years 1900 to 9999`);
  return ms;
};

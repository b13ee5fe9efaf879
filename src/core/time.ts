import { AppError } from './errors.js';

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Whole and fractional days between two instants (positive when `laterMs` is later). */
export const daysBetween = (earlierMs: number, laterMs: number): number =>
  (laterMs - earlierMs) / DAY_MS;

/**
 * Whether text that opens with an ISO date (`YYYY-MM-DD`) names a day the calendar has:
 * `Date.parse` reads 2024-02-30 as the 1st of March and 2024-04-31 as the 1st of May.
 */
export const isCalendarDay = (text: string): boolean => {
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7));
  const day = Number(text.slice(8, 10));
  if (!(Number.isInteger(year) && Number.isInteger(month) && Number.isInteger(day))) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return month >= 1 && month <= 12 && day >= 1 && day <= days;
};

// ISO 8601 as SDKs write it: a date, or a date and time (`T` or a space) with optional seconds,
// fraction and zone (`Z`, `+01:00`, `+0100`, `+01`).
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * An ISO-8601 time in milliseconds, NaN when the text is not one. Only ISO 8601: `Date.parse`
 * alone also reads `"1"` as 2001 and `"March 1"` as a date, and 2024-02-30 as the 1st of
 * March. A date and time without a zone is UTC, as a date alone is — not the server's local
 * time, which would make the stored moment depend on where Herald runs.
 */
export const isoTimeMs = (value: string): number => {
  const text = value.trim();
  const match = ISO_8601.exec(text);
  if (match === null || !isCalendarDay(text)) return Number.NaN;
  const zone = match[1];
  return Date.parse(
    text.length > 10 && zone === undefined
      ? `${text}Z`
      : zone !== undefined && zone.length === 3
        ? `${text}:00`
        : text,
  );
};

const EARLIEST_INPUT_MS = Date.UTC(1900, 0, 1);
const LATEST_INPUT_MS = Date.UTC(10000, 0, 1);

/**
 * A date a person typed (a CLI option, a query parameter): ISO-8601 (`isoTimeMs`: a bare date
 * is that day's midnight UTC, and a time without a zone is UTC, never the server's local time;
 * a year, `2026`, or a month, `2026-06`, is its first day),
 * in the years 1900 to 9999. One that does not parse, or lies outside them, is bad input naming
 * where it came from.
 */
export const parseDateInput = (text: string, label: string): number => {
  // ISO 8601's shortened forms, a year or a month, are their first day.
  const period = /^(\d{4})(?:-(\d{2}))?$/.exec(text.trim());
  const month = Number(period?.[2] ?? '1');
  const ms =
    period === null
      ? isoTimeMs(text)
      : month >= 1 && month <= 12
        ? Date.UTC(Number(period[1]), month - 1, 1)
        : Number.NaN;
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

// A customer's birthday as the `birthday` trait gives it: `YYYY-MM-DD` (what Segment's spec
// asks for; an SDK serialising a date adds its time, `1990-06-10T00:00:00.000Z`, an SQL or CSV
// export `1990-06-10 00:00:00`: the date is read as written), or `MM-DD` (ISO's `--MM-DD`)
// without a year.
const BIRTHDAY =
  /^(?:(\d{4})-|--)?(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export const isLeapYear = (year: number): boolean =>
  (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/**
 * The month and day (`MM-DD`) of a `birthday` trait, or null when it is no calendar day: a
 * month 13, 30 February, 29 February of a year without one, `02/03` (which month?), a number.
 */
export const birthdayMonthDay = (value: unknown): string | null => {
  if (typeof value !== 'string') return null;
  const m = BIRTHDAY.exec(value.trim());
  if (m === null) return null;
  const [, year, month = '', day = '', hour = '0', minute = '0', second = '0'] = m;
  const mm = Number(month);
  const dd = Number(day);
  if (mm < 1 || mm > 12 || dd < 1 || dd > (DAYS_IN_MONTH[mm - 1] ?? 0)) return null;
  // A time that is none (`T25:99`) says the text is not what it seems.
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) return null;
  if (mm === 2 && dd === 29 && year !== undefined && !isLeapYear(Number(year))) return null;
  return `${month}-${day}`;
};

/** How a `birthday` trait is written, for the error that refuses one Herald cannot read. */
export const BIRTHDAY_FORMS =
  'YYYY-MM-DD (or MM-DD without a year; a time after the date is allowed), a day the calendar has';

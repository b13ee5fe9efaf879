import { describe, expect, it } from 'vitest';
import { isCalendarDay, parseDateInput } from './time.js';

describe('days the calendar has', () => {
  it('knows month lengths and leap years', () => {
    expect(['2024-02-29', '2000-02-29', '2023-04-30', '2023-12-31'].map(isCalendarDay)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(
      ['2023-02-29', '1900-02-29', '2024-02-30', '2024-04-31', '2024-13-01', '2024-00-10'].map(
        isCalendarDay,
      ),
    ).toEqual([false, false, false, false, false, false]);
  });

  it('refuses a typed date the calendar lacks instead of moving it to the next month', () => {
    expect(parseDateInput('2024-02-29', '--from')).toBe(Date.UTC(2024, 1, 29));
    expect(() => parseDateInput('2024-02-30', '--from')).toThrow(
      '--from: "2024-02-30" is not a date (use ISO-8601, e.g. 2026-01-31)',
    );
  });

  it('reads a typed time without a zone as UTC, and nothing but ISO-8601', () => {
    expect(parseDateInput('2026-06-01T00:00', '--from')).toBe(Date.UTC(2026, 5, 1));
    expect(parseDateInput('2026-06-01T02:00+02:00', '--from')).toBe(Date.UTC(2026, 5, 1));
    expect(parseDateInput('2026-06', '--from')).toBe(Date.UTC(2026, 5, 1));
    expect(parseDateInput('2026', '--from')).toBe(Date.UTC(2026, 0, 1));
    for (const text of ['1', 'June 1, 2026', '06/01/2026', '2026-13'])
      expect(() => parseDateInput(text, '--at'), text).toThrow(`--at: "${text}" is not a date`);
  });
});

import { describe, expect, it } from 'vitest';
import {
  addLocalDays,
  localDate,
  localHour,
  localHourOfWeek,
  offsetHours,
  startOfNextLocalDay,
} from './local-time.js';

const at = (iso: string): number => Date.parse(iso);

describe('localHour', () => {
  it('is the UTC hour in UTC', () => {
    expect(localHour(at('2026-01-15T12:34:00.000Z'), 'UTC')).toBe(12);
  });

  it('follows standard and daylight time in America/New_York', () => {
    expect(localHour(at('2026-01-15T12:00:00.000Z'), 'America/New_York')).toBe(7);
    expect(localHour(at('2026-07-15T12:00:00.000Z'), 'America/New_York')).toBe(8);
    expect(localHour(at('2026-01-15T02:30:00.000Z'), 'America/New_York')).toBe(21);
  });

  it('follows standard and daylight time in Europe/Berlin', () => {
    expect(localHour(at('2026-01-15T12:00:00.000Z'), 'Europe/Berlin')).toBe(13);
    expect(localHour(at('2026-07-15T12:00:00.000Z'), 'Europe/Berlin')).toBe(14);
    expect(localHour(at('2026-01-15T23:30:00.000Z'), 'Europe/Berlin')).toBe(0);
  });

  it('changes hour with the clocks on the night of a daylight-saving change', () => {
    // Europe/Berlin springs forward at 01:00 UTC on 2026-03-29: 02:00 CET becomes 03:00 CEST.
    expect(localHour(at('2026-03-29T00:30:00.000Z'), 'Europe/Berlin')).toBe(1);
    expect(localHour(at('2026-03-29T01:30:00.000Z'), 'Europe/Berlin')).toBe(3);
  });

  it('treats an unknown zone as UTC', () => {
    expect(localHour(at('2026-01-15T22:10:00.000Z'), 'Mars/Olympus_Mons')).toBe(22);
  });

  it('gives the local hour of a half-hour zone in the first half of the UTC hour', () => {
    // Asia/Kolkata is UTC+5:30: 15:15 UTC is 20:45 local.
    expect(localHour(at('2026-01-15T15:15:00.000Z'), 'Asia/Kolkata')).toBe(20);
  });

  // The offset is kept in minutes: from :30 past each UTC hour a +5:30 zone is in the next hour.
  it('gives the local hour of a half-hour zone in the second half of the UTC hour', () => {
    expect(localHour(at('2026-01-15T15:45:00.000Z'), 'Asia/Kolkata')).toBe(21);
  });

  // St John's and Adelaide change their clocks on the half hour in UTC: the hour after the
  // change follows it from that minute, in every minute of it.
  it('changes hour with a clock change on the half hour of UTC', () => {
    // St John's springs forward at 02:00 NST (05:30 UTC) on 8 March 2026, to 03:00 NDT.
    expect(localHour(at('2026-03-08T05:20:00.000Z'), 'America/St_Johns')).toBe(1);
    expect(localHour(at('2026-03-08T05:35:00.000Z'), 'America/St_Johns')).toBe(3);
    // Adelaide falls back at 03:00 ACDT (16:30 UTC) on 4 April 2026, to 02:00 ACST.
    expect(localHour(at('2026-04-04T16:20:00.000Z'), 'Australia/Adelaide')).toBe(2);
    expect(localHour(at('2026-04-04T16:31:00.000Z'), 'Australia/Adelaide')).toBe(2);
    for (let minute = 0; minute < 120; minute += 1) {
      const ms = at('2026-04-04T16:00:00.000Z') + minute * 60_000;
      const expected = Number(
        new Intl.DateTimeFormat('en-US', {
          timeZone: 'Australia/Adelaide',
          hour: 'numeric',
          hourCycle: 'h23',
        }).format(ms),
      );
      expect(localHour(ms, 'Australia/Adelaide'), new Date(ms).toISOString()).toBe(expected);
    }
  });
});

describe('startOfNextLocalDay', () => {
  it.each([
    ['2026-01-15', 'Asia/Tokyo', '2026-01-15T15:00:00.000Z'],
    ['2026-01-15', 'Pacific/Honolulu', '2026-01-16T10:00:00.000Z'],
    ['2026-01-15', 'Pacific/Kiritimati', '2026-01-15T10:00:00.000Z'],
    ['2026-01-15', 'Asia/Kolkata', '2026-01-15T18:30:00.000Z'],
    ['2026-01-15', 'UTC', '2026-01-16T00:00:00.000Z'],
    ['2026-01-15', 'Berlin time', '2026-01-16T00:00:00.000Z'],
    // The night the clocks go forward in Berlin, and a spring-forward at midnight in Santiago
    // (no 00:00 on 6 September: the day starts at 01:00).
    ['2026-03-29', 'Europe/Berlin', '2026-03-29T22:00:00.000Z'],
    ['2026-09-05', 'America/Santiago', '2026-09-06T04:00:00.000Z'],
  ])('ends %s in %s at %s', (date, timezone, end) => {
    const endMs = at(end);
    expect(new Date(startOfNextLocalDay(date, timezone)).toISOString()).toBe(end);
    expect(localDate(endMs - 1, timezone)).toBe(date);
    expect(localDate(endMs, timezone)).not.toBe(date);
  });
});

describe('addLocalDays', () => {
  const iso = (ms: number) => new Date(ms).toISOString();
  it('counts calendar days on the wall clock over a clock change', () => {
    // 09:00 in New York on Saturday, October 31, 2026; clocks go back on Sunday at 02:00.
    const start = Date.parse('2026-10-31T13:00:00Z');
    expect(iso(addLocalDays(start, 1, 'America/New_York'))).toBe('2026-11-01T14:00:00.000Z');
    expect(iso(addLocalDays(start, 1, 'UTC'))).toBe('2026-11-01T13:00:00.000Z');
  });

  it('ends a short wait begun in the repeated hour after it began', () => {
    // 01:40 EST, the second time the clock reads 01:40 that night (06:40 UTC); 0.01 of a day
    // is 14.4 minutes. Before, the wall time's earlier occurrence (05:54 UTC) came first.
    const start = Date.parse('2026-11-01T06:40:00Z');
    expect(iso(addLocalDays(start, 0.01, 'America/New_York'))).toBe('2026-11-01T06:54:24.000Z');
    // Begun in the first pass, the earlier occurrence is kept.
    const first = Date.parse('2026-11-01T05:40:00Z');
    expect(iso(addLocalDays(first, 0.01, 'America/New_York'))).toBe('2026-11-01T05:54:24.000Z');
  });
});

describe('offsetHours and localHourOfWeek', () => {
  it('agree on the local hour a whole UTC hour starts in, part-hour zones and the week’s wrap too', () => {
    const zones = ['Asia/Kolkata', 'America/St_Johns', 'Australia/Adelaide', 'Asia/Kathmandu'];
    zones.push('America/New_York', 'Pacific/Chatham', 'Pacific/Pago_Pago', 'Pacific/Kiritimati');
    // Monday 00:00 UTC, 5 January 2026, and every hour of that week and the next.
    const monday = Date.UTC(2026, 0, 5);
    for (const zone of zones)
      for (let h = 0; h < 2 * 168; h += 1) {
        const atMs = monday + h * 3_600_000;
        expect(((h % 168) + offsetHours(atMs, zone) + 168) % 168, `${zone} +${h} h`).toBe(
          localHourOfWeek(atMs, zone),
        );
      }
    // 19:00 on a Thursday in New York (EST) is 00:00 UTC on Friday.
    expect(localHourOfWeek(Date.UTC(2026, 0, 9), 'America/New_York')).toBe(3 * 24 + 19);
  });
});

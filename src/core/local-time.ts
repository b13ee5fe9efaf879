import type { Responses } from './profile.js';
import { HOUR_MS, MINUTE_MS } from './time.js';

const formatters = new Map<string, Intl.DateTimeFormat | null>();
// Offsets change at most a few times a year, and always on a quarter of a UTC hour (St John's
// and Adelaide on the half hour): cache them per zone and quarter hour.
const offsets = new Map<string, number>();
const SLOT_MS = 15 * MINUTE_MS;
/** IANA has about 600 names; past this many, the cache of formatters starts over. */
const MAX_CACHED_ZONES = 2000;

/** A formatter of the zone's wall clock, made once per zone and cache; null for no IANA zone. */
const cachedFormatter = (
  cache: Map<string, Intl.DateTimeFormat | null>,
  timezone: string,
  fields: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat | null => {
  let f = cache.get(timezone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', ...fields });
    } catch {
      f = null; // not an IANA zone name: treated as UTC
    }
    // The names come from events: a stream of made-up ones must not grow the cache for ever.
    if (cache.size >= MAX_CACHED_ZONES) cache.clear();
    cache.set(timezone, f);
  }
  return f;
};

const formatterOf = (timezone: string): Intl.DateTimeFormat | null =>
  cachedFormatter(formatters, timezone, { hour: 'numeric', minute: 'numeric' });

/** Whether `timezone` is a zone name Intl knows (`Europe/Berlin`, `PST`; not `Berlin time` or `GMT+25`). */
export const isTimezone = (timezone: string): boolean => formatterOf(timezone) !== null;

const MINUTES_PER_DAY = 24 * 60;

/** The zone's offset from UTC in minutes during the UTC quarter hour that contains `atMs`. */
const offsetMinutes = (atMs: number, timezone: string): number => {
  const slot = Math.floor(atMs / SLOT_MS);
  const key = `${timezone}\u0001${slot}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    const f = formatterOf(timezone);
    if (f === null) offset = 0;
    else {
      const startMs = slot * SLOT_MS;
      const [h = '0', m = '0'] = f.format(startMs).split(':');
      const local = (Number(h) % 24) * 60 + Number(m);
      const utc = Math.floor(startMs / MINUTE_MS) % MINUTES_PER_DAY;
      offset = (local - utc + MINUTES_PER_DAY) % MINUTES_PER_DAY;
    }
    if (offsets.size > 100_000) offsets.clear();
    offsets.set(key, offset);
  }
  return offset;
};

/** Minutes since local midnight at `atMs` in an IANA time zone (UTC for an unknown zone). */
export const localMinuteOfDay = (atMs: number, timezone: string): number => {
  const utcMinute = Math.floor(atMs / MINUTE_MS) % MINUTES_PER_DAY;
  return (utcMinute + offsetMinutes(atMs, timezone)) % MINUTES_PER_DAY;
};

/** The local hour (0–23) at `atMs` in an IANA time zone; UTC for an unknown zone. */
export const localHour = (atMs: number, timezone: string): number =>
  Math.floor(localMinuteOfDay(atMs, timezone) / 60);

const dateFormatters = new Map<string, Intl.DateTimeFormat | null>();
// The zone's signed offset (ms) per zone and UTC quarter hour, as `offsets` keeps its minute of
// the day: reading a date or a wall clock with `formatToParts` costs microseconds, and a sweep
// or a round reads one for every customer.
const signedOffsets = new Map<string, number>();

/** The local wall clock at `atMs` in `timezone`, as the epoch ms of that clock read as UTC. */
const wallClockMs = (atMs: number, timezone: string): number => {
  const slot = Math.floor(atMs / SLOT_MS);
  const key = `${timezone}\u0001${String(slot)}`;
  let offset = signedOffsets.get(key);
  if (offset === undefined) {
    const f = cachedFormatter(dateFormatters, timezone, {
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (f === null) offset = 0;
    else {
      const startMs = slot * SLOT_MS;
      const part: Record<string, number> = {};
      for (const p of f.formatToParts(startMs))
        if (p.type !== 'literal') part[p.type] = Number(p.value);
      const wall = Date.UTC(
        part['year'] ?? 1970,
        (part['month'] ?? 1) - 1,
        part['day'] ?? 1,
        (part['hour'] ?? 0) % 24,
        part['minute'] ?? 0,
        part['second'] ?? 0,
      );
      offset = wall - startMs;
    }
    if (signedOffsets.size > 100_000) signedOffsets.clear();
    signedOffsets.set(key, offset);
  }
  return atMs + offset;
};

/** 0 = Monday 00:00–01:00 UTC … 167 = Sunday 23:00 UTC: where a moment falls in a week's histogram. */
export const hourOfWeek = (atMs: number): number => {
  const hours = Math.floor(atMs / HOUR_MS);
  // 1970-01-01 was a Thursday: Monday-based day index is (days + 3) mod 7.
  return ((Math.floor(hours / 24) + 3) % 7) * 24 + (hours % 24);
};

/**
 * The hour of the week (`hourOfWeek`) on the local wall clock at `atMs` in an IANA time zone
 * (UTC for an unknown zone): where a moment falls in a histogram of local habits.
 */
export const localHourOfWeek = (atMs: number, timezone: string): number =>
  hourOfWeek(wallClockMs(atMs, timezone));

/**
 * The zone's offset from UTC at `atMs` in whole hours, signed, a part hour dropped (India's
 * +5:30 is 5, Newfoundland's −3:30 is −4): the local hour a whole UTC hour starts in, as
 * `localHourOfWeek` reads it.
 */
export const offsetHours = (atMs: number, timezone: string): number =>
  Math.floor((wallClockMs(atMs, timezone) - atMs) / HOUR_MS);

/**
 * A customer's response counts by local hour of the week in `zone`, read at `atMs`: counts kept
 * in another zone (their zone learned or changed since; UTC for counts kept by UTC hour before
 * local hours were counted) move by the difference of the two zones' offsets then (whole hours,
 * as `offsetHours` gives them), keys outside 0–167 dropped. So the counts agree whichever order
 * a customer's responses and the event naming their zone arrive in. Undefined when none are kept.
 */
export const responsesIn = (
  responses: Responses | undefined,
  zone: string,
  atMs: number,
): Readonly<Record<string, number>> | undefined => {
  const local = responses?.byLocalHourOfWeek;
  const counts = local ?? responses?.byHourOfWeek;
  if (counts === undefined) return undefined;
  const countedIn = local === undefined ? 'UTC' : (responses?.zone ?? zone);
  if (countedIn === zone && local !== undefined) return counts;
  const shift = offsetHours(atMs, zone) - offsetHours(atMs, countedIn);
  const moved: Record<string, number> = {};
  for (const [slot, n] of Object.entries(counts)) {
    const i = Number(slot);
    if (!(Number.isInteger(i) && i >= 0 && i < 168)) continue;
    const key = String((i + shift + 168) % 168);
    moved[key] = (moved[key] ?? 0) + n;
  }
  return moved;
};

/** The local calendar date (`YYYY-MM-DD`) at `atMs` in an IANA time zone; UTC for an unknown zone. */
export const localDate = (atMs: number, timezone: string): string =>
  new Date(wallClockMs(atMs, timezone)).toISOString().slice(0, 10);

/**
 * The first moment of the local day after `date` (`YYYY-MM-DD`) in an IANA time zone (UTC for
 * an unknown zone): local midnight, or the first local moment after it where a clock change
 * skips midnight.
 */
export const startOfNextLocalDay = (date: string, timezone: string): number => {
  const midnight = Date.parse(`${date}T00:00:00.000Z`) + MINUTES_PER_DAY * MINUTE_MS;
  // Midnight on the wall clock, less the offset there (read again: the offset may change).
  let t = midnight;
  for (let i = 0; i < 3; i += 1) t = midnight - (wallClockMs(t, timezone) - t);
  // A clock change that skips midnight: the first moment whose local date is the next one.
  while (localDate(t, timezone) <= date) t += 15 * MINUTE_MS;
  while (localDate(t - 15 * MINUTE_MS, timezone) > date) t -= 15 * MINUTE_MS;
  return t;
};

/**
 * The first moment whose wall clock in `timezone` reads `wallMs` (a local time written as if
 * it were UTC): its earlier occurrence where the clocks go back — unless that is before
 * `earliest` — and where they go forward over it, the first moment after the gap.
 */
const instantOfWallClock = (
  wallMs: number,
  timezone: string,
  earliest = Number.NEGATIVE_INFINITY,
): number => {
  // The offsets in force a day either side: the wall time is read under one of them, or falls
  // in the gap between.
  const offsetAt = (atMs: number) => wallClockMs(atMs, timezone) - atMs;
  const [early = wallMs, late = wallMs] = [
    wallMs - offsetAt(wallMs - MINUTES_PER_DAY * MINUTE_MS),
    wallMs - offsetAt(wallMs + MINUTES_PER_DAY * MINUTE_MS),
  ].sort((a, b) => a - b);
  if (wallClockMs(early, timezone) === wallMs && early >= earliest) return early;
  if (wallClockMs(late, timezone) === wallMs) return late;
  // Skipped by a change: the first moment whose wall clock has passed it.
  let lo = early;
  let hi = late;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallClockMs(mid, timezone) >= wallMs) hi = mid;
    else lo = mid;
  }
  return hi;
};

/**
 * `days` calendar days after `atMs` at the same wall-clock time in an IANA time zone (a
 * fraction of a day counts on the wall clock too): over a daylight-saving change a day is 23
 * or 25 hours, not 24. A wall time the change skips that day gives the first moment after it;
 * one it repeats, its earlier occurrence — the later one when the earlier comes before `atMs`
 * (a short wait begun in the repeated hour's second pass ends after it began). Plain 24-hour
 * days in UTC or an unknown zone.
 */
export const addLocalDays = (atMs: number, days: number, timezone: string): number =>
  instantOfWallClock(
    wallClockMs(atMs, timezone) + days * MINUTES_PER_DAY * MINUTE_MS,
    timezone,
    days > 0 ? atMs : Number.NEGATIVE_INFINITY,
  );

import { HOUR_MS, MINUTE_MS } from './time.js';

const formatters = new Map<string, Intl.DateTimeFormat | null>();
// Offsets change at most a few times a year: cache them per zone and UTC hour.
const offsets = new Map<string, number>();

const formatterOf = (timezone: string): Intl.DateTimeFormat | null => {
  let f = formatters.get(timezone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        hour: 'numeric',
        minute: 'numeric',
        hourCycle: 'h23',
      });
    } catch {
      f = null; // not an IANA zone name: treated as UTC
    }
    formatters.set(timezone, f);
  }
  return f;
};

/** Whether `timezone` is a zone name Intl knows (`Europe/Berlin`, `PST`; not `Berlin time` or `GMT+25`). */
export const isTimezone = (timezone: string): boolean => formatterOf(timezone) !== null;

const MINUTES_PER_DAY = 24 * 60;

/** The zone's offset from UTC in minutes during the UTC hour that contains `atMs`. */
const offsetMinutes = (atMs: number, timezone: string): number => {
  const utcHour = Math.floor(atMs / HOUR_MS);
  const key = `${timezone}\u0001${utcHour}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    const f = formatterOf(timezone);
    if (f === null) offset = 0;
    else {
      const [h = '0', m = '0'] = f.format(utcHour * HOUR_MS).split(':');
      const local = (Number(h) % 24) * 60 + Number(m);
      offset = (local - (utcHour % 24) * 60 + MINUTES_PER_DAY) % MINUTES_PER_DAY;
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

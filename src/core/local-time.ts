import { MINUTE_MS } from './time.js';

const formatters = new Map<string, Intl.DateTimeFormat | null>();
// Offsets change at most a few times a year, and always on a quarter of a UTC hour (St John's
// and Adelaide on the half hour): cache them per zone and quarter hour.
const offsets = new Map<string, number>();
const SLOT_MS = 15 * MINUTE_MS;

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

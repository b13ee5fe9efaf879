import { Type, type Static } from '@sinclair/typebox';
import { countryCode } from './country.js';
import { zoneOfCountry, zoneOfRegion } from './country-zones.js';
import { isTimezone, localHour, localMinuteOfDay } from './local-time.js';
import type { Location } from './profile.js';
import { HOUR_MS, MINUTE_MS } from './time.js';

/** Local hours in which no marketing message is sent; decide schedules around them, guard holds. */
export const quietHoursSchema = Type.Object(
  {
    startHour: Type.Integer({ minimum: 0, maximum: 23, default: 21 }),
    endHour: Type.Integer({ minimum: 0, maximum: 23, default: 8 }),
    defaultTimezone: Type.String({
      default: 'UTC',
      description:
        'Used when neither the profile nor its region or country gives a timezone (IANA name): set it to where most customers of a country spread over several zones live when their region is not known.',
    }),
  },
  {
    default: {},
    description:
      'Local quiet hours (start inclusive, end exclusive; equal hours turn them off), in the customer’s timezone: the profile’s, else its state’s or province’s in the US, Canada, Australia, Brazil and Mexico, else its country’s when the country has one zone, else the default.',
  },
);

export type QuietHours = Static<typeof quietHoursSchema>;

/** Where a timezone came from, for the reasons a decision or verdict gives. */
export interface ResolvedTimezone {
  timezone: string;
  source: 'profile' | 'region' | 'country' | 'default';
}

/**
 * The customer's timezone: profile (a zone Intl knows) → region (a state or province of a
 * country spread over several zones) → country (one zone, or nearly all its people in one) →
 * configured default.
 */
export const resolveTimezone = (
  location: Location,
  q: Pick<QuietHours, 'defaultTimezone'>,
): ResolvedTimezone => {
  // A zone Intl cannot read (`Berlin time`, a typo) would count as UTC: the country decides.
  const own = location.timezone?.trim() ?? '';
  if (own !== '' && isTimezone(own)) return { timezone: own, source: 'profile' };
  const code = countryCode(location.country);
  if (code === null) return { timezone: q.defaultTimezone, source: 'default' };
  const ofRegion = zoneOfRegion(code, location.region);
  if (ofRegion !== null) return { timezone: ofRegion, source: 'region' };
  const ofCountry = zoneOfCountry(code);
  if (ofCountry !== null) return { timezone: ofCountry, source: 'country' };
  return { timezone: q.defaultTimezone, source: 'default' };
};

export const isQuietHour = (hour: number, q: QuietHours): boolean =>
  q.startHour <= q.endHour
    ? hour >= q.startHour && hour < q.endHour
    : hour >= q.startHour || hour < q.endHour;

/**
 * The first moment at or after `atMs` outside local quiet hours in `timezone`: `atMs` itself,
 * or local `endHour`:00 (re-checked, in case a daylight-saving change falls in between). An
 * unknown zone name counts as UTC.
 */
export const afterQuietHours = (atMs: number, timezone: string, q: QuietHours): number => {
  if (q.startHour === q.endHour) return atMs;
  let t = atMs;
  for (let i = 0; i < 3; i += 1) {
    if (!isQuietHour(localHour(t, timezone), q)) return earliestAfter(t, atMs, timezone, q);
    const minutesToEnd = (q.endHour * 60 - localMinuteOfDay(t, timezone) + 24 * 60) % (24 * 60);
    t = Math.floor(t / MINUTE_MS) * MINUTE_MS + minutesToEnd * MINUTE_MS;
  }
  return earliestAfter(t, atMs, timezone, q);
};

/** The step `earliestAfter` moves back by: clocks change by an hour, or half of one. */
const STEP_BACK_MS = 15 * MINUTE_MS;

/**
 * `t` moved back, a quarter of an hour at a time (up to two hours), while the moment before it
 * is still outside quiet hours and after `atMs`: the wall-clock minutes to `endHour` overshoot
 * by the change on the night the clocks go forward — an hour in most zones (23:00 to 08:00 is
 * 8 hours then, not 9), half an hour on Lord Howe Island.
 */
const earliestAfter = (t: number, atMs: number, timezone: string, q: QuietHours): number => {
  let at = t;
  for (let i = 0; i < (2 * HOUR_MS) / STEP_BACK_MS && at - STEP_BACK_MS >= atMs; i += 1) {
    if (isQuietHour(localHour(at - STEP_BACK_MS, timezone), q)) break;
    at -= STEP_BACK_MS;
  }
  return at;
};

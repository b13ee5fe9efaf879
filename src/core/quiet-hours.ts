import { Type, type Static } from '@sinclair/typebox';
import { canonicalZone, countryCode } from './country.js';
import { zoneOfCountry, zoneOfRegion, zonesOfSpreadCountry } from './country-zones.js';
import { isTimezone, localHour, localMinuteOfDay } from './local-time.js';
import { keptIn } from './kept.js';
import { placeOfPhone } from './phone-country.js';
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
      'Local quiet hours (start inclusive, end exclusive; equal hours turn them off), in the customer’s timezone: the profile’s, else its state’s or province’s in the US, Canada, Australia, Brazil and Mexico, else its country’s when the country has one zone (every zone of one spread over several, for a customer whose state is not known), else the default.',
  },
);

export type QuietHours = Static<typeof quietHoursSchema>;

/** Where a timezone came from, for the reasons a decision or verdict gives. */
export interface ResolvedTimezone {
  timezone: string;
  source: 'profile' | 'region' | 'country' | 'default';
}

/**
 * Whether a zone is UTC under any of its names (`UTC`, `Etc/UCT`, `GMT0`, `Greenwich`, `Zulu`
 * …: the runtime reads each as `UTC`): a zone an SDK or a server states by default, not where a
 * customer is, so a profile's `UTC` beside a country that lies in zones of its own is that
 * country's customer. Before 2026-12-07 only eight spellings were known, and a Californian whose
 * profile said `Etc/UCT` (some servers' default) was sent texts at 02:00.
 */
const isNowhereZone = (zone: string): boolean => canonicalZone(zone) === 'UTC';

/** Whether the location's country is known to lie in zones of its own (one, or several). */
const namesZones = (location: Location): boolean => {
  const code = countryCode(location.country);
  return code !== null && (zoneOfCountry(code) !== null || zonesOfSpreadCountry(code).length > 0);
};

/**
 * The customer's timezone: profile (a zone Intl knows; `UTC` only when their country
 * names none) → region (a state or province of a country spread over several zones) → country
 * (one zone, or nearly all its people in one) → configured default.
 */
export const resolveTimezone = (
  location: Location,
  q: Pick<QuietHours, 'defaultTimezone'>,
): ResolvedTimezone => {
  // A zone Intl cannot read (`Berlin time`, a typo) would count as UTC: the country decides.
  const own = location.timezone?.trim() ?? '';
  if (own !== '' && isTimezone(own) && !(isNowhereZone(own) && namesZones(location)))
    return { timezone: own, source: 'profile' };
  const code = countryCode(location.country);
  if (code === null) return { timezone: q.defaultTimezone, source: 'default' };
  const ofRegion = zoneOfRegion(code, location.region);
  if (ofRegion !== null) return { timezone: ofRegion, source: 'region' };
  const ofCountry = zoneOfCountry(code);
  if (ofCountry !== null) return { timezone: ofCountry, source: 'country' };
  return { timezone: q.defaultTimezone, source: 'default' };
};

/** The zones quiet hours hold in for a customer, and where they came from. */
export interface QuietZones {
  zones: readonly string[];
  source: ResolvedTimezone['source'] | 'phone' | 'country, every zone';
}

/**
 * The zones a marketing message must be outside quiet hours in: the customer's zone
 * (`resolveTimezone`), else — their country or state naming none — the zone of the country their
 * international phone number is in, or every zone of a country spread over several (the US, a
 * customer with no state: a text at 08:00 UTC was 04:00 in New York), else the default.
 */
export const quietZonesOf = (
  location: Location,
  phone: unknown,
  q: Pick<QuietHours, 'defaultTimezone'>,
): QuietZones => {
  const resolved = resolveTimezone(location, q);
  const stated = countryCode(location.country);
  // The profile's own zone stands, unless it is an SDK's `UTC` with no country beside it:
  // then a phone number may place them.
  const nowhere =
    resolved.source === 'profile' && stated === null && isNowhereZone(resolved.timezone);
  if (resolved.source !== 'default' && !nowhere)
    return { zones: [resolved.timezone], source: resolved.source };
  const code = stated ?? placeOfPhone(phone).country;
  if (code === null) return { zones: [resolved.timezone], source: resolved.source };
  const one = stated === null ? zoneOfCountry(code) : null;
  if (one !== null) return { zones: [one], source: 'phone' };
  const every = zonesOfSpreadCountry(code);
  return every.length > 0
    ? { zones: every, source: stated === null ? 'phone' : 'country, every zone' }
    : { zones: [resolved.timezone], source: resolved.source };
};

/**
 * The zone a customer's calendar (a birthday's date, its end) is read in: the one zone quiet
 * hours hold them in when there is one (their profile's, their phone number's country), else
 * `resolveTimezone`'s — so a greeting's day and the hours it may go in are one day's. A `+81`
 * number's birthday was the UTC date, held by Tokyo's quiet hours into the next Tokyo day.
 */
export const calendarZoneOf = (
  location: Location,
  phone: unknown,
  q: Pick<QuietHours, 'defaultTimezone'>,
  // The zones quiet hours hold in, when the caller has them already.
  zones: readonly string[] = quietZonesOf(location, phone, q).zones,
): string => {
  const [only] = zones;
  return zones.length === 1 && only !== undefined ? only : resolveTimezone(location, q).timezone;
};

/**
 * The first moment at or after `atMs` outside quiet hours in every one of `zones` (each zone's
 * `afterQuietHours` in turn, until none moves it). Should quiet hours leave no such moment
 * (hours set longer than the zones' spread allows), the first zone's.
 */
export const afterQuietHoursIn = (
  atMs: number,
  zones: readonly string[],
  q: QuietHours,
): number => {
  const [only] = zones;
  if (zones.length === 1 && only !== undefined) return afterQuietHours(atMs, only, q);
  // Within a UTC quarter hour the answer is the same for every moment of it (clocks change,
  // and zones are offset, by whole quarter hours): the moment itself when it is outside quiet
  // hours everywhere, else when they end. Kept per zone list and quiet hours, so a country's
  // customers ask each zone once a quarter hour.
  // One number: the quarter hour (about two million since 1970) and the hours (below 10,000).
  const key = Math.floor(atMs / QUARTER_HOUR_MS) * 10_000 + q.startHour * 100 + q.endHour;
  const kept = keptIn(perList(allowedBySlot, zones), key, () => {
    const allowed = firstAllowedIn(atMs, zones, q);
    return allowed === atMs ? 'now' : allowed;
  });
  return kept === 'now' ? atMs : kept;
};

/** The cache `caches` keeps for a zone list (a country's list is one array, kept per list). */
const perList = <K, V>(
  caches: WeakMap<readonly string[], Map<K, V>>,
  zones: readonly string[],
): Map<K, V> => {
  let cache = caches.get(zones);
  if (cache === undefined) caches.set(zones, (cache = new Map<K, V>()));
  return cache;
};

const QUARTER_HOUR_MS = 15 * MINUTE_MS;

/** A zone list as a verdict names it (`America/New_York, America/Chicago, …`), per list. */
export const zonesText = (zones: readonly string[]): string => {
  const [only] = zones;
  if (zones.length === 1 && only !== undefined) return only;
  let text = zoneTexts.get(zones);
  if (text === undefined) zoneTexts.set(zones, (text = zones.join(', ')));
  return text;
};

const zoneTexts = new WeakMap<readonly string[], string>();

/** The local hours of a zone list's quarter hours, per list, as `localHoursIn` gives them. */
const hoursBySlot = new WeakMap<readonly string[], Map<number, string>>();

/**
 * The local hour at `atMs` in each zone, for a verdict's figures: the hour, for one zone; for
 * several, the hours in their order (`4, 3, 2, 1, 1, 0, 22`), kept per list and quarter hour.
 */
export const localHoursIn = (atMs: number, zones: readonly string[]): number | string => {
  const [only] = zones;
  if (zones.length === 1 && only !== undefined) return localHour(atMs, only);
  return keptIn(perList(hoursBySlot, zones), Math.floor(atMs / QUARTER_HOUR_MS), () =>
    zones.map((zone) => localHour(atMs, zone)).join(', '),
  );
};

/** What `afterQuietHoursIn` gave for each quarter hour, per zone list and quiet hours. */
const allowedBySlot = new WeakMap<readonly string[], Map<number, number | 'now'>>();

/** `afterQuietHoursIn` worked out: each zone's `afterQuietHours` in turn until none moves it. */
const firstAllowedIn = (atMs: number, zones: readonly string[], q: QuietHours): number => {
  let t = atMs;
  for (let round = 0; round <= zones.length * 2; round += 1) {
    let moved = false;
    for (const zone of zones) {
      const after = afterQuietHours(t, zone, q);
      if (after > t) {
        t = after;
        moved = true;
      }
    }
    if (!moved) return t;
  }
  return afterQuietHours(atMs, zones[0] ?? q.defaultTimezone, q);
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

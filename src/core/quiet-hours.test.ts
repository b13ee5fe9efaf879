import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import {
  afterQuietHours,
  afterQuietHoursIn,
  isQuietHour,
  quietHoursSchema,
  resolveTimezone,
  type QuietHours,
} from './quiet-hours.js';
import { zonesNamed, zonesOfSpreadCountry } from './country-zones.js';
import { localHour } from './local-time.js';
import { HOUR_MS, MINUTE_MS } from './time.js';

const q = { ...(Value.Default(quietHoursSchema, {}) as QuietHours), defaultTimezone: 'UTC' };
const at = (country: string | null, timezone: string | null) =>
  resolveTimezone({ country, region: null, city: null, timezone }, q);

describe('resolveTimezone', () => {
  it('takes the profile’s zone when Intl knows it', () => {
    expect(at('US', 'America/Los_Angeles')).toEqual({
      timezone: 'America/Los_Angeles',
      source: 'profile',
    });
  });

  it('falls back to the country, read as sources write it, for a zone Intl does not know', () => {
    // `Berlin time` would count as UTC: 22:00 in Berlin would pass as 21:00 (20:00 in summer).
    expect(at('Germany', 'Berlin time')).toEqual({ timezone: 'Europe/Berlin', source: 'country' });
    expect(at('DE', 'GMT+25')).toEqual({ timezone: 'Europe/Berlin', source: 'country' });
    // ICU knows some abbreviations: `PST` is Los Angeles.
    expect(at('US', 'PST')).toEqual({ timezone: 'PST', source: 'profile' });
    expect(at('UK', ' ')).toEqual({ timezone: 'Europe/London', source: 'country' });
    expect(at('Atlantis', 'Mars/Olympus_Mons')).toEqual({ timezone: 'UTC', source: 'default' });
  });

  it('takes the zone of a state or province in a country spread over several', () => {
    const inRegion = (country: string, region: string | null) =>
      resolveTimezone({ country, region, city: null, timezone: null }, q);
    // A New Yorker's quiet hours were 21:00–08:00 UTC: 16:00–03:00 at home.
    expect(inRegion('US', 'NY')).toEqual({ timezone: 'America/New_York', source: 'region' });
    expect(inRegion('United States', ' california ').timezone).toBe('America/Los_Angeles');
    expect(inRegion('US', 'US-AZ').timezone).toBe('America/Phoenix');
    expect(inRegion('CA', 'Québec').timezone).toBe('America/Toronto');
    expect(inRegion('AU', 'nsw').timezone).toBe('Australia/Sydney');
    expect(inRegion('AU', 'WA').timezone).toBe('Australia/Perth');
    expect(inRegion('BR', 'SP').timezone).toBe('America/Sao_Paulo');
    expect(inRegion('BR', 'Amazonas').timezone).toBe('America/Manaus');
    expect(inRegion('MX', 'SON').timezone).toBe('America/Hermosillo');
    expect(inRegion('MX', 'JAL').timezone).toBe('America/Mexico_City');
    // Names as geo-IP writes them, accents or not.
    expect(inRegion('BR', 'São Paulo').timezone).toBe('America/Sao_Paulo');
    expect(inRegion('BR', 'Rio de Janeiro').timezone).toBe('America/Sao_Paulo');
    expect(inRegion('BR', 'Rondônia').timezone).toBe('America/Porto_Velho');
    expect(inRegion('MX', 'Ciudad de México').timezone).toBe('America/Mexico_City');
    expect(inRegion('MX', 'Nuevo León').timezone).toBe('America/Mexico_City');
    expect(inRegion('CA', 'Île-du-Prince-Édouard').timezone).toBe('America/Halifax');
    // A region read for another country's codes is no answer: WA is Washington only in the US.
    expect(inRegion('US', 'WA').timezone).toBe('America/Los_Angeles');
    // No region, or one not known, leaves the configured default, as before.
    expect(inRegion('US', null)).toEqual({ timezone: 'UTC', source: 'default' });
    expect(inRegion('US', 'Narnia')).toEqual({ timezone: 'UTC', source: 'default' });
    // A country with one zone does not need the region.
    expect(inRegion('ES', 'Madrid')).toEqual({ timezone: 'Europe/Madrid', source: 'country' });
  });

  it('names only zones Intl can read', () => {
    for (const zone of zonesNamed())
      expect(() => new Intl.DateTimeFormat('en-US', { timeZone: zone }), zone).not.toThrow();
  });
});

describe('afterQuietHours', () => {
  const berlin = (iso: string) =>
    new Date(afterQuietHours(Date.parse(iso), 'Europe/Berlin', q)).toISOString();

  it('releases at 08:00 local on the nights the clocks change, and on any other', () => {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST. 23:00 CET is 22:00Z; 08:00 CEST is 06:00Z.
    expect(berlin('2026-03-28T22:00:00.000Z')).toBe('2026-03-29T06:00:00.000Z');
    // 2026-10-25: 03:00 CEST becomes 02:00 CET. 23:00 CEST is 21:00Z; 08:00 CET is 07:00Z.
    expect(berlin('2026-10-24T21:00:00.000Z')).toBe('2026-10-25T07:00:00.000Z');
    // An ordinary night, and a moment outside quiet hours.
    expect(berlin('2026-06-10T21:30:00.000Z')).toBe('2026-06-11T06:00:00.000Z');
    expect(berlin('2026-06-10T12:15:00.000Z')).toBe('2026-06-10T12:15:00.000Z');
    // 07:30 local: held half an hour, not moved back before it.
    expect(berlin('2026-06-10T05:30:00.000Z')).toBe('2026-06-10T06:00:00.000Z');
  });

  it('releases at 08:00 local where the clocks move by half an hour, and in zones off the hour', () => {
    const at = (iso: string, zone: string) =>
      new Date(afterQuietHours(Date.parse(iso), zone, q)).toISOString();
    // Lord Howe Island, 2026-10-04: 02:00 +10:30 becomes 02:30 +11. 21:30 local on the 3rd is
    // 11:00Z; 08:00 at +11 is 21:00Z.
    expect(at('2026-10-03T11:00:00.000Z', 'Australia/Lord_Howe')).toBe('2026-10-03T21:00:00.000Z');
    // A week later, an ordinary night at +11.
    expect(at('2026-10-10T11:00:00.000Z', 'Australia/Lord_Howe')).toBe('2026-10-10T21:00:00.000Z');
    // Kathmandu, +5:45: 23:00 local is 17:15Z; 08:00 is 02:15Z.
    expect(at('2026-06-10T17:15:00.000Z', 'Asia/Kathmandu')).toBe('2026-06-11T02:15:00.000Z');
  });
});

describe('afterQuietHoursIn', () => {
  const us = zonesOfSpreadCountry('US');
  /** The first minute at or after `atMs` outside quiet hours in every zone, minute by minute. */
  const bruteForce = (atMs: number): number => {
    for (let t = atMs; ; t += MINUTE_MS)
      if (us.every((zone) => !isQuietHour(localHour(t, zone), q))) return t;
  };

  it('gives the first moment outside quiet hours in every zone, asked again and again', () => {
    // Across the nights the US clocks go back (1 November 2026) and forward (8 March), every 7
    // minutes, twice over: the second pass answers from what the first kept.
    for (const from of [Date.UTC(2026, 10, 1, 0), Date.UTC(2026, 2, 8, 0)])
      for (const pass of [1, 2])
        for (let atMs = from; atMs < from + 30 * HOUR_MS; atMs += 7 * MINUTE_MS)
          expect(
            afterQuietHoursIn(atMs, us, q),
            `${String(pass)} ${new Date(atMs).toISOString()}`,
          ).toBe(bruteForce(atMs));
  });
});

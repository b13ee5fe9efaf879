import { describe, expect, it } from 'vitest';
import type { Location } from '../../../core/profile.js';
import { HOUR_MS } from '../../../core/time.js';
import type { GuardMessage } from '../guard-types.js';
import { aContext, aMessage, aProfile, defaultGuardPolicy } from '../test-builders.js';
import { quietHoursGuardrail } from './quiet-hours.js';

const policy = defaultGuardPolicy();

/** 2026-06-03 at a local wall-clock time in a zone `offsetHours` from UTC on that day. */
const localAt = (hour: number, minute: number, offsetHours: number): number =>
  Date.UTC(2026, 5, 3, hour, minute) - offsetHours * HOUR_MS;

const NEW_YORK = -4; // EDT
const BERLIN = 2; // CEST

const judge = (message: Partial<GuardMessage>, location?: Location) => {
  const context = aContext(location === undefined ? {} : { profile: aProfile({ location }) });
  const [only, ...rest] = quietHoursGuardrail.check(aMessage(message), context, policy);
  expect(rest).toEqual([]);
  if (only === undefined) throw new Error('no verdict');
  return only;
};

describe('quietHoursGuardrail', () => {
  it('holds a 02:00 marketing email until 08:00 local time', () => {
    const v = judge({ sendAtMs: localAt(2, 0, NEW_YORK) });
    expect(v).toMatchObject({
      outcome: 'hold',
      code: 'quiet_hours',
      holdUntilMs: localAt(8, 0, NEW_YORK),
      figures: { timezone: 'America/New_York', timezoneSource: 'profile', localHour: 2 },
    });
  });

  it.each([
    [20, 59, 'pass', null],
    [21, 0, 'hold', localAt(8, 0, NEW_YORK) + 24 * HOUR_MS],
    [7, 59, 'hold', localAt(8, 0, NEW_YORK)],
    [8, 0, 'pass', null],
  ])('judges %i:%i local by the 21:00–08:00 bounds', (hour, minute, outcome, untilMs) => {
    const v = judge({ sendAtMs: localAt(hour, minute, NEW_YORK) });
    expect(v.outcome).toBe(outcome);
    expect(v.holdUntilMs ?? null).toBe(untilMs);
    expect(v.figures['localHour']).toBe(hour);
  });

  it('takes the timezone of a single-zone country when the profile has none', () => {
    const germany: Location = { country: 'DE', region: null, city: null, timezone: null };
    const v = judge({ sendAtMs: localAt(6, 30, BERLIN) }, germany);
    expect(v).toMatchObject({
      outcome: 'hold',
      holdUntilMs: localAt(8, 0, BERLIN),
      figures: { timezone: 'Europe/Berlin', timezoneSource: 'country', localHour: 6 },
    });
    // 06:30 in Berlin is 00:30 in New York: the country's zone, not another, decided.
    expect(judge({ sendAtMs: localAt(9, 0, BERLIN) }, germany).outcome).toBe('pass');
  });

  it('falls back to the configured default zone without a timezone or a country', () => {
    const unknown: Location = { country: null, region: null, city: null, timezone: null };
    const v = judge({ sendAtMs: Date.UTC(2026, 5, 3, 22, 15) }, unknown);
    expect(v).toMatchObject({
      outcome: 'hold',
      holdUntilMs: Date.UTC(2026, 5, 4, 8),
      figures: { timezone: 'UTC', timezoneSource: 'default', localHour: 22 },
    });
    expect(judge({ sendAtMs: Date.UTC(2026, 5, 3, 12) }, unknown).outcome).toBe('pass');
  });

  it('holds a customer of a country of several zones, state unknown, until quiet hours end in every one', () => {
    const us: Location = { country: 'US', region: null, city: null, timezone: null };
    // 08:00 UTC is 04:00 in New York and 22:00 in Honolulu: the last to wake is Hawaii, at
    // 18:00 UTC (14:00 in New York).
    expect(judge({ sendAtMs: Date.UTC(2026, 5, 3, 8) }, us)).toMatchObject({
      outcome: 'hold',
      holdUntilMs: Date.UTC(2026, 5, 3, 18),
      figures: { timezoneSource: 'country, every zone' },
    });
    expect(judge({ sendAtMs: Date.UTC(2026, 5, 3, 20) }, us).outcome).toBe('pass');
    // An SDK's UTC beside the country is no zone of the customer's: still every US zone, and
    // beside a state, the state's.
    expect(judge({ sendAtMs: Date.UTC(2026, 5, 3, 8) }, { ...us, timezone: 'UTC' })).toMatchObject({
      holdUntilMs: Date.UTC(2026, 5, 3, 18),
    });
    expect(
      judge({ sendAtMs: Date.UTC(2026, 5, 3, 8) }, { ...us, region: 'NY', timezone: 'Etc/UTC' }),
    ).toMatchObject({
      holdUntilMs: Date.UTC(2026, 5, 3, 12),
      figures: { timezone: 'America/New_York' },
    });
  });

  it('places a customer of no country by the country of their international phone number', () => {
    const nowhere: Location = { country: null, region: null, city: null, timezone: null };
    const judged = (phone: string, sendAtMs: number) =>
      quietHoursGuardrail.check(
        aMessage({ sendAtMs, channel: 'sms' }),
        aContext({ profile: aProfile({ location: nowhere, traits: { phone } }) }),
        defaultGuardPolicy(),
      )[0];
    // 06:30 UTC is 08:30 in Paris; a +1 number may be anywhere in the US: held until 18:00 UTC.
    expect(judged('+33 6 12 34 56 78', Date.UTC(2026, 5, 3, 6, 30))).toMatchObject({
      outcome: 'pass',
      figures: { timezone: 'Europe/Paris', timezoneSource: 'phone' },
    });
    expect(judged('+1 212 555 0123', Date.UTC(2026, 5, 3, 8))).toMatchObject({
      outcome: 'hold',
      holdUntilMs: Date.UTC(2026, 5, 3, 18),
      figures: { timezoneSource: 'phone' },
    });
    // A territory with a code of its own: 08:30 UTC is 04:30 in Puerto Rico, 21:30 (June) in
    // Guernsey at 20:30 UTC.
    expect(judged('+1 787 555 0123', Date.UTC(2026, 5, 3, 8, 30))).toMatchObject({
      outcome: 'hold',
      figures: { timezone: 'America/Puerto_Rico' },
    });
    expect(judged('+44 7781 123456', Date.UTC(2026, 5, 3, 20, 30))?.outcome).toBe('hold');
    // An SDK's UTC with no country beside it gives way to the number.
    expect(
      quietHoursGuardrail.check(
        aMessage({ sendAtMs: Date.UTC(2026, 5, 3, 8), channel: 'sms' }),
        aContext({
          profile: aProfile({
            location: { ...nowhere, timezone: 'UTC' },
            traits: { phone: '+1 212 555 0123' },
          }),
        }),
        defaultGuardPolicy(),
      )[0],
    ).toMatchObject({ outcome: 'hold', figures: { timezoneSource: 'phone' } });
  });

  it('takes the zones the runtime knows for a country the tables do not name', () => {
    const of = (country: string): Location => ({
      country,
      region: null,
      city: null,
      timezone: null,
    });
    // 16:00 UTC is 22:00 in Dhaka (UTC+6): held to 08:00 there, 02:00 UTC. It was UTC's 16:00.
    for (const country of ['BD', 'Bangladesh'])
      expect(judge({ sendAtMs: Date.UTC(2026, 5, 3, 16) }, of(country))).toMatchObject({
        outcome: 'hold',
        holdUntilMs: Date.UTC(2026, 5, 4, 2),
        figures: { timezone: 'Asia/Dhaka', timezoneSource: 'country' },
      });
    // Tehran is UTC+3:30: 20:00 UTC is 23:30 there, for a customer placed by a +98 number too.
    const byPhone = quietHoursGuardrail.check(
      aMessage({ sendAtMs: Date.UTC(2026, 5, 3, 20), channel: 'sms' }),
      aContext({ profile: aProfile({ location: of(''), traits: { phone: '+98 912 345 6789' } }) }),
      policy,
    )[0];
    expect(byPhone).toMatchObject({
      outcome: 'hold',
      figures: { timezone: 'Asia/Tehran', timezoneSource: 'phone' },
    });
    // Russia spans Kaliningrad (UTC+2) to Kamchatka (UTC+12): 12:00 UTC is 22:00 and later east
    // of Yakutsk, so a customer of no known region waits for 06:00 UTC, 08:00 in Kaliningrad.
    expect(judge({ sendAtMs: Date.UTC(2026, 5, 3, 12) }, of('RU'))).toMatchObject({
      outcome: 'hold',
      holdUntilMs: Date.UTC(2026, 5, 4, 6),
      figures: { timezoneSource: 'country, every zone' },
    });
  });

  it.each(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Etc/GMT0', 'Etc/GMT+0', 'Greenwich', 'zulu'])(
    'reads %s, a name of UTC, as no zone of a Californian’s',
    (timezone) => {
      // 09:00 UTC is 02:00 in Los Angeles.
      expect(
        judge(
          { sendAtMs: Date.UTC(2026, 5, 3, 9) },
          { country: 'US', region: 'CA', city: null, timezone },
        ),
      ).toMatchObject({ outcome: 'hold', figures: { timezone: 'America/Los_Angeles' } });
    },
  );

  it('lets transactional messages and web personalisation through at night', () => {
    const night = localAt(2, 0, NEW_YORK);
    expect(judge({ sendAtMs: night, class: 'transactional' }).outcome).toBe('pass');
    expect(judge({ sendAtMs: night, channel: 'web' }).outcome).toBe('pass');
    expect(judge({ sendAtMs: night, channel: 'push' }).outcome).toBe('hold');
  });
});

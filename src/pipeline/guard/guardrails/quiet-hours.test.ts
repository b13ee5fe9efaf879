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

  it('falls back to the configured default zone without a timezone or a single-zone country', () => {
    const unknown: Location = { country: 'US', region: null, city: null, timezone: null };
    const v = judge({ sendAtMs: Date.UTC(2026, 5, 3, 22, 15) }, unknown);
    expect(v).toMatchObject({
      outcome: 'hold',
      holdUntilMs: Date.UTC(2026, 5, 4, 8),
      figures: { timezone: 'UTC', timezoneSource: 'default', localHour: 22 },
    });
    expect(judge({ sendAtMs: Date.UTC(2026, 5, 3, 12) }, unknown).outcome).toBe('pass');
  });

  it('lets transactional messages and web personalisation through at night', () => {
    const night = localAt(2, 0, NEW_YORK);
    expect(judge({ sendAtMs: night, class: 'transactional' }).outcome).toBe('pass');
    expect(judge({ sendAtMs: night, channel: 'web' }).outcome).toBe('pass');
    expect(judge({ sendAtMs: night, channel: 'push' }).outcome).toBe('hold');
  });
});

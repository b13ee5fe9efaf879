import { describe, expect, it } from 'vitest';
import type { DecidePolicy } from '../policy.js';
import { aState, defaultDecidePolicy, hoursMs, t0 } from '../test-builders.js';
import { afterQuietHours } from '../../../core/quiet-hours.js';
import { bestSendHour, scheduleSend } from './schedule-send.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();
const quiet = defaultDecidePolicy().quietHours; // 21:00–08:00, UTC by default
const sendTime = defaultDecidePolicy().sendTime;

/** t0 is Thursday 12:00 UTC: hour of week 3 × 24 + 12 (0 = Monday 00:00 UTC). */
const t0Slot = 3 * 24 + 12;

const histogram = (counts: Record<number, number>): Record<string, number> => {
  const hours: Record<string, number> = {};
  for (const [slot, n] of Object.entries(counts)) hours[slot] = n;
  return hours;
};

const responding = (counts: Record<number, number>) =>
  aState({ responses: { byChannel: { email: 10 }, byHourOfWeek: histogram(counts) } });

describe('afterQuietHours', () => {
  it('keeps a moment outside quiet hours as it is', () => {
    const ms = at('2026-01-15T12:34:56.000Z');
    expect(afterQuietHours(ms, quiet.defaultTimezone, quiet)).toBe(ms);
  });

  it('holds an evening send in America/New_York until 08:00 local the next morning', () => {
    // 02:30 UTC on the 15th is 21:30 EST on the 14th.
    const held = afterQuietHours(at('2026-01-15T02:30:00.000Z'), 'America/New_York', quiet);
    expect(iso(held)).toBe('2026-01-15T13:00:00.000Z');
  });

  it('holds a send after local midnight in Europe/Berlin until 08:00 local', () => {
    const held = afterQuietHours(at('2026-01-15T23:30:00.000Z'), 'Europe/Berlin', quiet);
    expect(iso(held)).toBe('2026-01-16T07:00:00.000Z');
    const late = afterQuietHours(at('2026-01-15T21:30:00.000Z'), 'Europe/Berlin', quiet);
    expect(iso(late)).toBe('2026-01-16T07:00:00.000Z');
  });

  it('lets a send at 08:00 local go at once', () => {
    const ms = at('2026-07-15T06:00:00.000Z'); // 08:00 CEST
    expect(afterQuietHours(ms, 'Europe/Berlin', quiet)).toBe(ms);
  });

  it('holds a send in Asia/Kolkata until quiet hours end there', () => {
    // 16:00 UTC is 21:30 IST; quiet hours end at 08:00 IST = 02:30 UTC.
    const held = afterQuietHours(at('2026-01-15T16:00:00.000Z'), 'Asia/Kolkata', quiet);
    expect(iso(held)).toBe('2026-01-16T02:30:00.000Z');
  });

  it('holds a send at 21:15 in Asia/Kolkata until 08:00 there', () => {
    const ms = at('2026-01-15T15:45:00.000Z');
    expect(iso(afterQuietHours(ms, 'Asia/Kolkata', quiet))).toBe('2026-01-16T02:30:00.000Z');
  });

  it('treats an unknown zone as UTC', () => {
    const held = afterQuietHours(at('2026-01-15T22:10:00.000Z'), 'Not/A_Zone', quiet);
    expect(iso(held)).toBe('2026-01-16T08:00:00.000Z');
  });

  it('uses the default zone for a customer without one', () => {
    const berlin = { ...quiet, defaultTimezone: 'Europe/Berlin' };
    const held = afterQuietHours(at('2026-01-15T07:30:00.000Z'), berlin.defaultTimezone, berlin); // 08:30 CET
    expect(iso(held)).toBe('2026-01-15T07:30:00.000Z');
    expect(
      iso(afterQuietHours(at('2026-01-15T06:30:00.000Z'), berlin.defaultTimezone, berlin)),
    ).toBe('2026-01-15T07:00:00.000Z');
  });

  it('handles quiet hours within one day', () => {
    const night = { ...quiet, startHour: 1, endHour: 5 };
    expect(iso(afterQuietHours(at('2026-01-15T03:20:00.000Z'), night.defaultTimezone, night))).toBe(
      '2026-01-15T05:00:00.000Z',
    );
    const evening = at('2026-01-15T22:00:00.000Z');
    expect(afterQuietHours(evening, night.defaultTimezone, night)).toBe(evening);
  });

  it('has no quiet hours when they start and end at the same hour', () => {
    const ms = at('2026-01-15T23:00:00.000Z');
    expect(afterQuietHours(ms, 'UTC', { ...quiet, startHour: 22, endHour: 22 })).toBe(ms);
  });
});

describe('bestSendHour', () => {
  it('has nothing to say without responses or with too few', () => {
    expect(bestSendHour(t0, aState(), null, sendTime)).toBeNull();
    expect(bestSendHour(t0, responding({ [t0Slot + 6]: 2 }), null, sendTime)).toBeNull();
  });

  it("moves to the customer's own best hour within the allowed delay", () => {
    const best = bestSendHour(t0, responding({ [t0Slot + 6]: 3 }), null, sendTime);
    expect(best?.atMs).toBe(t0 + hoursMs(6));
  });

  it('looks no further than maxDelayHours', () => {
    const state = responding({ [t0Slot + 30]: 20 });
    expect(bestSendHour(t0, state, null, sendTime)?.atMs).toBe(t0);
    expect(bestSendHour(t0, state, null, { ...sendTime, maxDelayHours: 30 })?.atMs).toBe(
      t0 + hoursMs(30),
    );
  });

  it('looks no further than maxDelayHours where quiet hours end on a half hour', () => {
    // Thursday 07:30 in Kolkata, quiet until 08:00; the customer responds on Fridays at 07:00
    // local. The last hour scored starts at 07:30 Friday, and its allowed part, 08:00, is 24.5 h on.
    const policy = defaultDecidePolicy();
    const state = aState({
      location: { country: 'IN', region: null, city: null, timezone: 'Asia/Kolkata' },
      responses: {
        byChannel: { email: 10 },
        byLocalHourOfWeek: { [String(4 * 24 + 7)]: 10 },
        zone: 'Asia/Kolkata',
      },
    });
    const ms = at('2026-01-15T02:00:00.000Z');
    const when = scheduleSend(ms, 'email', state, { policy, population: null }, true);
    expect(when.atMs - ms).toBeLessThanOrEqual(hoursMs(policy.sendTime.maxDelayHours));
  });

  it('never moves earlier than asked within the current hour', () => {
    const ms = t0 + 20 * 60 * 1000;
    expect(bestSendHour(ms, responding({ [t0Slot]: 5 }), null, sendTime)?.atMs).toBe(ms);
  });

  it('is smoothed toward the population by priorWeight pseudo-responses', () => {
    const state = responding({ [t0Slot + 6]: 3 });
    const population = Array.from({ length: 168 }, (_, i) => (i === t0Slot + 2 ? 1 : 0));
    const heavyPrior = { ...sendTime, priorWeight: 1000 };
    expect(bestSendHour(t0, state, population, heavyPrior)?.atMs).toBe(t0 + hoursMs(2));
    const noPrior = { ...sendTime, priorWeight: 0 };
    expect(bestSendHour(t0, state, population, noPrior)?.atMs).toBe(t0 + hoursMs(6));
  });

  it('reads the population at the customer’s local hour', () => {
    // Everyone reads at 19:00 Thursday, their time. A New Yorker with three responses at 14:00
    // UTC (09:00 EST) and a heavy prior is moved to 19:00 New York time, 00:00 UTC Friday —
    // not to 19:00 UTC, the population's hour had it been counted by UTC hours.
    const population = Array.from({ length: 168 }, (_, i) => (i === 3 * 24 + 19 ? 1 : 0));
    const newYorker = aState({
      location: { country: 'US', region: null, city: null, timezone: 'America/New_York' },
      responses: { byChannel: { email: 3 }, byHourOfWeek: histogram({ [t0Slot + 2]: 3 }) },
    });
    const policy = defaultDecidePolicy();
    const env = {
      policy: { ...policy, sendTime: { ...policy.sendTime, priorWeight: 1000 } },
      population,
    };
    const when = scheduleSend(t0, 'email', newYorker, env, true);
    expect(iso(when.atMs)).toBe('2026-01-16T00:00:00.000Z');
  });

  it('scores the best slot as the smoothed share of responses', () => {
    const best = bestSendHour(t0, responding({ [t0Slot + 6]: 5 }), null, sendTime);
    expect(best?.score).toBeCloseTo((5 + 5 / 168) / 10, 10);
  });
});

describe('scheduleSend', () => {
  const env = (policy: DecidePolicy = defaultDecidePolicy()) => ({ policy, population: null });
  const eveningFan = responding({ [t0Slot + 10]: 8 }); // Thursday 22:00 UTC

  it('proposes no time the guard would hold: every zone of a country whose state is not known', () => {
    // 09:00 UTC in January: 04:00 in New York, 23:00 in Honolulu; the last to wake is Hawaii at
    // 18:00 UTC.
    const american = aState({
      location: { country: 'US', region: null, city: null, timezone: null },
    });
    const when = scheduleSend(at('2026-01-15T09:00:00.000Z'), 'sms', american, env(), false);
    expect(iso(when.atMs)).toBe('2026-01-15T18:00:00.000Z');
    expect(when.reasons[0]).toMatch(
      /in America\/New_York, .*Pacific\/Honolulu \(country, every zone\)/,
    );
  });

  it('sends at once outside quiet hours when not optimised', () => {
    expect(scheduleSend(t0, 'email', eveningFan, env(), false)).toEqual({ atMs: t0, reasons: [] });
  });

  it('moves to the best hour, then out of quiet hours', () => {
    const dayFan = responding({ [t0Slot + 5]: 8 });
    const moved = scheduleSend(t0, 'email', dayFan, env(), true);
    expect(moved.atMs).toBe(t0 + hoursMs(5));
    expect(moved.reasons).toEqual([
      "send time: moved to the customer's best hour (2026-01-15T17:00:00.000Z)",
    ]);
  });

  it('moves no later than the latest time it is given', () => {
    const dayFan = responding({ [t0Slot + 5]: 8, [t0Slot + 2]: 4 });
    const latest = { atMs: t0 + hoursMs(3), why: 'the end of the day' };
    const moved = scheduleSend(t0, 'email', dayFan, env(), true, latest);
    expect(moved.atMs).toBe(t0 + hoursMs(2));
    expect(moved.reasons).toEqual([
      'send time: not moved past 2026-01-15T15:00:00.000Z (the end of the day)',
      "send time: moved to the customer's best hour (2026-01-15T14:00:00.000Z)",
    ]);
    // A latest time already past: not moved at all.
    const past = { atMs: t0 - 1, why: 'the end of the day' };
    expect(scheduleSend(t0, 'email', dayFan, env(), true, past).atMs).toBe(t0);
  });

  it('chooses the best hour outside quiet hours, not one quiet hours would hold 10 h more', () => {
    // Their responses come at 22:00, a quiet hour: moving there would hold the message until
    // 08:00 the next day, 20 h after now. The hours outside quiet hours score alike: now.
    const held = scheduleSend(t0, 'email', eveningFan, env(), true);
    expect(iso(held.atMs)).toBe(iso(t0));
    expect(held.reasons).toEqual([]);
    // Asked at 20:30, a message is not moved into the night either.
    const late = at('2026-01-15T20:30:00.000Z');
    expect(iso(scheduleSend(late, 'email', eveningFan, env(), true).atMs)).toBe(iso(late));
  });

  it.each([
    // zone, the UTC hour of week 08:00 local falls in, 08:00 local in UTC
    ['Asia/Kolkata', 4 * 24 + 2, '2026-01-16T02:30:00.000Z'],
    ['Asia/Kathmandu', 4 * 24 + 2, '2026-01-16T02:15:00.000Z'],
    ['America/St_Johns', 4 * 24 + 11, '2026-01-16T11:30:00.000Z'],
    ['Australia/Adelaide', 3 * 24 + 21, '2026-01-15T21:30:00.000Z'],
    ['Asia/Dhaka', 4 * 24 + 2, '2026-01-16T02:00:00.000Z'],
  ])(
    'can choose the hour quiet hours end in, in %s: from 08:00 local',
    (timezone, slot, expected) => {
      // Decided Thursday 14:30 UTC; the customer responds in the hour their morning begins.
      const state = aState({
        location: { country: null, region: null, city: null, timezone },
        responses: { byChannel: { email: 12 }, byHourOfWeek: { [String(slot)]: 12 } },
      });
      const sent = scheduleSend(at('2026-01-15T14:30:00.000Z'), 'email', state, env(), true);
      expect(iso(sent.atMs)).toBe(expected);
      expect(sent.reasons).toEqual([`send time: moved to the customer's best hour (${expected})`]);
    },
  );

  it.each([
    // Asked at 08:00 on a Monday in Berlin.
    ['winter (CET)', '2026-01-12T07:00:00.000Z', '2026-01-12T09:00:00.000Z'],
    ['summer (CEST)', '2026-07-06T06:00:00.000Z', '2026-07-06T08:00:00.000Z'],
  ])('moves a Berliner who opens at 10:00 on Mondays to 10:00 local in %s', (_, asked, best) => {
    const state = aState({
      location: { country: 'DE', region: null, city: null, timezone: 'Europe/Berlin' },
      // Monday 10:00–11:00 on their own clock, hour 10 of the week.
      responses: { byChannel: { email: 10 }, byLocalHourOfWeek: { '10': 10 } },
    });
    expect(iso(scheduleSend(at(asked), 'email', state, env(), true).atMs)).toBe(best);
  });

  it('reads counts kept in another zone (the customer’s learned since) in theirs', () => {
    // Counted before their zone was known: Mondays at 15:00 UTC, 10:00 in New York.
    const state = aState({
      location: { country: 'US', region: null, city: null, timezone: 'America/New_York' },
      responses: { byChannel: { email: 10 }, byLocalHourOfWeek: { '15': 10 }, zone: 'UTC' },
    });
    // Asked at 08:00 on a Monday in New York.
    const sent = scheduleSend(at('2026-01-12T13:00:00.000Z'), 'email', state, env(), true);
    expect(iso(sent.atMs)).toBe('2026-01-12T15:00:00.000Z');
  });

  it('does not choose an hour that is quiet to its end', () => {
    // 07:00–08:00 UTC is quiet throughout: its moment after quiet hours is the next hour's.
    const earlyBird = responding({ [4 * 24 + 7]: 8 }); // Friday 07:00 UTC
    const ms = at('2026-01-15T14:30:00.000Z');
    expect(iso(scheduleSend(ms, 'email', earlyBird, env(), true).atMs)).toBe(iso(ms));
  });

  it('does not move sends when send-time optimisation is off', () => {
    const policy = { ...defaultDecidePolicy(), sendTime: { ...sendTime, enabled: false } };
    const dayFan = responding({ [t0Slot + 5]: 8 });
    expect(scheduleSend(t0, 'email', dayFan, env(policy), true).atMs).toBe(t0);
  });

  it('never holds or moves web content', () => {
    const lateEvening = at('2026-01-15T23:00:00.000Z');
    expect(scheduleSend(lateEvening, 'web', eveningFan, env(), true)).toEqual({
      atMs: lateEvening,
      reasons: [],
    });
  });

  it("holds by the customer's own time zone", () => {
    const ny = aState({
      location: { country: 'US', region: null, city: null, timezone: 'America/New_York' },
    });
    const sent = scheduleSend(at('2026-01-15T02:30:00.000Z'), 'email', ny, env(), false);
    expect(iso(sent.atMs)).toBe('2026-01-15T13:00:00.000Z');
    expect(sent.reasons[0]).toContain('in America/New_York');
  });
});

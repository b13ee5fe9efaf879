import { describe, expect, it } from 'vitest';
import { localDate, startOfNextLocalDay } from '../../core/local-time.js';
import type { ProfileState } from '../../core/profile.js';
import {
  SWEEP_GRACE_DAYS,
  birthdayAfterSweep,
  celebratedDay,
  sweepCustomer,
} from './sweep-customer.js';
import {
  aState,
  c1,
  daysMs,
  defaultDecidePolicy,
  marksOf,
  t0,
  toComputed,
} from './test-builders.js';

const policy = defaultDecidePolicy();
const quiet = policy.quietHours;
const sweep = (state: ProfileState, nowMs = t0, marks = marksOf(state, nowMs)) =>
  sweepCustomer(c1, state, toComputed(state, nowMs), marks, policy, nowMs);
const inactiveFor = (days: number) => aState({ lastActiveAtMs: t0 - daysMs(days) });

describe('sweepCustomer', () => {
  describe('inactivity', () => {
    it.each([30, 33, 30 + SWEEP_GRACE_DAYS - 0.01])('raises inactive 30 at %d days', (days) => {
      const lastActive = t0 - daysMs(days);
      expect(sweep(inactiveFor(days))).toEqual([
        {
          key: `c1|inactive|30|${lastActive}`,
          customerId: c1,
          dueAtMs: t0,
          trigger: { kind: 'inactive', days: 30 },
          mode: 'once',
        },
      ]);
    });

    it.each([29.9, 37, 60, 89.9, 97, 200])('raises nothing at %d days', (days) => {
      expect(sweep(inactiveFor(days))).toEqual([]);
    });

    it('raises inactive 90 alone at 90 days', () => {
      expect(sweep(inactiveFor(90)).map((w) => w.trigger)).toEqual([
        { kind: 'inactive', days: 90 },
      ]);
    });

    it('starts one dormant path per silence, the next 90 days after one that was ended early', () => {
      const state = inactiveFor(95);
      const marksWith = (dormantPathAtMs: number, nowMs: number) => ({
        ...marksOf(state, nowMs),
        dormantPathAtMs,
      });
      const dormant = (pathAtMs: number, nowMs: number) =>
        sweep(state, nowMs, marksWith(pathAtMs, nowMs))
          .filter((w) => w.key.includes('|inactive|90|'))
          .map((w) => w.key);
      // The path began 91 days into this silence: it was this silence's own, none follows.
      for (const later of [0, 86, 200])
        expect(dormant(t0 - daysMs(4), t0 + daysMs(later))).toEqual([]);
      // It began 89 days in (a visit known only later): ended early, the next comes 90 days on.
      const early = t0 - daysMs(6);
      expect(dormant(early, t0)).toEqual([]);
      expect(dormant(early, early + daysMs(90))).toEqual([`c1|inactive|90|${early}`]);
      // One before the last activity (they came back since) changes nothing.
      expect(dormant(t0 - daysMs(200), t0 - daysMs(5))).toEqual([
        `c1|inactive|90|${t0 - daysMs(95)}`,
      ]);
    });

    it('counts a customer who never acted as inactive since first seen', () => {
      const firstSeenAtMs = t0 - daysMs(31);
      const state = aState({ lastActiveAtMs: null, firstSeenAtMs, signedUpAtMs: null });
      expect(sweep(state).map((w) => w.key)).toEqual([`c1|inactive|30|${firstSeenAtMs}`]);
    });

    it('keys each period of inactivity apart, so a later one fires again', () => {
      const first = sweep(inactiveFor(30))[0]?.key;
      const later = sweep(aState({ lastActiveAtMs: t0 + daysMs(50) }), t0 + daysMs(80))[0]?.key;
      expect(first).toBeDefined();
      expect(later).toBeDefined();
      expect(later).not.toBe(first);
      expect(sweep(inactiveFor(30), t0 + daysMs(1))[0]?.key).toBe(
        sweep(aState({ lastActiveAtMs: t0 - daysMs(30) }), t0 + daysMs(2))[0]?.key,
      );
    });
  });

  describe('birthdays and anniversaries', () => {
    const born = (birthday: unknown) => aState({ traits: { email: 'c1@example.com', birthday } });

    it.each(['1990-01-15', '01-15', ' 1985-01-15T00:00:00Z'])('raises a birthday for %s', (day) => {
      expect(sweep(born(day))).toEqual([
        {
          key: 'c1|birthday|2026',
          customerId: c1,
          dueAtMs: t0,
          trigger: { kind: 'birthday' },
          mode: 'once',
        },
      ]);
    });

    it('celebrates the day swept when the sweep runs late, after midnight', () => {
      // The sweep for 15 January runs at 01:00 on the 16th (the worker was down).
      const late = t0 + daysMs(0.54);
      const state = born('1990-01-15');
      const day = Math.floor(t0 / daysMs(1)) * daysMs(1);
      expect(
        sweepCustomer(c1, state, toComputed(state, late), marksOf(state, late), policy, late, day),
      ).toMatchObject([{ key: 'c1|birthday|2026', trigger: { kind: 'birthday' } }]);
    });

    it.each(['1990-01-16', '01-14', 'January 15', 19900115, null])('raises none for %s', (day) => {
      expect(sweep(born(day))).toEqual([]);
    });

    it('raises none when birthdays are off', () => {
      const off = { ...policy, birthdays: false };
      const state = born('01-15');
      expect(sweepCustomer(c1, state, toComputed(state, t0), marksOf(state, t0), off, t0)).toEqual(
        [],
      );
    });

    it('raises a signup anniversary from the first year on', () => {
      const state = aState({ signedUpAtMs: Date.parse('2024-01-15T18:00:00.000Z') });
      expect(sweep(state)).toEqual([
        {
          key: 'c1|anniversary|2026',
          customerId: c1,
          dueAtMs: t0,
          trigger: { kind: 'anniversary', years: 2 },
          mode: 'once',
        },
      ]);
    });

    it('raises no anniversary on the signup day itself or another day', () => {
      expect(sweep(aState({ signedUpAtMs: t0 - 3_600_000 }))).toEqual([]);
      expect(sweep(aState({ signedUpAtMs: Date.parse('2024-01-16T12:00:00.000Z') }))).toEqual([]);
    });

    it('raises no anniversary from a signup time no calendar has, and looks at the rest', () => {
      // Stored from a createdAt in nanoseconds before such numbers were refused.
      const state = aState({
        lastActiveAtMs: t0 - daysMs(30),
        signedUpAtMs: 1_780_488_000_000_000_000,
      });
      expect(sweep(state).map((w) => w.trigger)).toEqual([{ kind: 'inactive', days: 30 }]);
    });
  });

  describe("in the customer's time zone", () => {
    const at = (iso: string) => Date.parse(iso);
    /** The sweep of a UTC day, on time (06:00 UTC, the default sweep hour). */
    const sweepOf = (date: string) => at(`${date}T06:00:00.000Z`);
    const living = (timezone: string, overrides: Partial<ProfileState> = {}) =>
      aState({
        location: { country: null, region: null, city: null, timezone },
        lastActiveAtMs: null,
        firstSeenAtMs: at('2026-01-01T00:00:00.000Z'),
        ...overrides,
      });
    const bornIn = (timezone: string, birthday: string) =>
      living(timezone, { traits: { email: 'c1@example.com', birthday } });
    const keysAt = (state: ProfileState, nowMs: number, days: number | number[] = nowMs) =>
      sweepCustomer(c1, state, toComputed(state, nowMs), marksOf(state, nowMs), policy, nowMs, days)
        .filter((w) => w.trigger.kind === 'birthday' || w.trigger.kind === 'anniversary')
        .map((w) => w.key);

    it('greets a customer west of UTC on the sweep of their birthday, though their day begins after it', () => {
      // 06:00 UTC on 15 June is 20:00 on 14 June in Honolulu: their day opens at 08:00 HST.
      const state = bornIn('Pacific/Honolulu', '1990-06-15');
      expect(keysAt(state, sweepOf('2026-06-14'))).toEqual([]);
      expect(keysAt(state, sweepOf('2026-06-15'))).toEqual(['c1|birthday|2026']);
      expect(keysAt(state, sweepOf('2026-06-16'))).toEqual([]);
      expect(celebratedDay('birthday', state, quiet, sweepOf('2026-06-15'))).toEqual({
        date: '2026-06-15',
        timezone: 'Pacific/Honolulu',
        opensAtMs: at('2026-06-15T18:00:00.000Z'),
        endsAtMs: at('2026-06-16T10:00:00.000Z'),
      });
    });

    it('greets a customer east of UTC by the sweep before their day opens', () => {
      // Tokyo's 15 January opens at 08:00 JST, 23:00 UTC on the 14th: before the sweep of the 15th.
      const state = bornIn('Asia/Tokyo', '01-15');
      expect(keysAt(state, sweepOf('2026-01-14'))).toEqual(['c1|birthday|2026']);
      expect(keysAt(state, sweepOf('2026-01-15'))).toEqual([]);
      expect(celebratedDay('birthday', state, quiet, sweepOf('2026-01-14'))).toEqual({
        date: '2026-01-15',
        timezone: 'Asia/Tokyo',
        opensAtMs: at('2026-01-14T23:00:00.000Z'),
        endsAtMs: at('2026-01-15T15:00:00.000Z'),
      });
    });

    it('reads the time zone as quiet hours do: the country when the profile has none', () => {
      const state = aState({
        traits: { email: 'c1@example.com', birthday: '01-15' },
        location: { country: 'JP', region: null, city: null, timezone: null },
      });
      expect(keysAt(state, sweepOf('2026-01-14'))).toEqual(['c1|birthday|2026']);
    });

    it("takes the anniversary from the signup date in the customer's zone, not in UTC", () => {
      // 20:00 PDT on 15 March 2025 is 03:00 UTC on the 16th.
      const state = living('America/Los_Angeles', { signedUpAtMs: at('2025-03-16T03:00:00Z') });
      expect(keysAt(state, sweepOf('2026-03-15'))).toEqual(['c1|anniversary|2026']);
      expect(keysAt(state, sweepOf('2026-03-16'))).toEqual([]);
      const work = sweepCustomer(
        c1,
        state,
        toComputed(state, sweepOf('2026-03-15')),
        undefined,
        policy,
        sweepOf('2026-03-15'),
      );
      expect(work.map((w) => w.trigger)).toEqual([{ kind: 'anniversary', years: 1 }]);
    });

    it.each([
      ['Pacific/Pago_Pago'],
      ['Pacific/Honolulu'],
      ['America/Los_Angeles'],
      ['America/New_York'],
      ['America/St_Johns'],
      ['UTC'],
      ['Europe/London'],
      ['Europe/Berlin'],
      ['Asia/Kolkata'],
      ['Asia/Tokyo'],
      ['Australia/Lord_Howe'],
      ['Pacific/Kiritimati'],
    ])(
      'greets a customer in %s once a year, never before their day opens, whatever the sweep hour',
      (timezone) => {
        // Birthdays on and around the clock changes of both hemispheres, and at the year's turn.
        const birthdays = ['01-01', '03-08', '03-29', '04-05', '10-04', '10-25', '11-01', '12-31'];
        for (const sweepHourUtc of [0, 6, 13, 23]) {
          const hourly = { ...policy, sweepHourUtc };
          for (const md of birthdays) {
            // Born on the day, and signed up at 23:30 local on it two years before (the next
            // UTC day west of UTC).
            const state = living(timezone, {
              traits: { email: 'c1@example.com', birthday: md },
              signedUpAtMs: startOfNextLocalDay(`2024-${md}`, timezone) - 30 * 60_000,
            });
            const greeted: { key: string; nowMs: number }[] = [];
            // The daily sweeps of the ten UTC days around the birthday, each on time.
            const around = Date.parse(`2026-${md}T00:00:00.000Z`);
            for (let d = -5; d < 5; d += 1) {
              const nowMs = around + daysMs(d) + sweepHourUtc * 3_600_000;
              for (const w of sweepCustomer(
                c1,
                state,
                toComputed(state, nowMs),
                marksOf(state, nowMs),
                hourly,
                nowMs,
              ))
                if (w.trigger.kind === 'birthday' || w.trigger.kind === 'anniversary')
                  greeted.push({ key: `${w.key} ${JSON.stringify(w.trigger)}`, nowMs });
            }
            expect(
              greeted.map((g) => g.key),
              `${md}, sweep at ${sweepHourUtc}:00 UTC`,
            ).toEqual([
              'c1|birthday|2026 {"kind":"birthday"}',
              'c1|anniversary|2026 {"kind":"anniversary","years":2}',
            ]);
            const nowMs = greeted[0]?.nowMs ?? 0;
            const day = celebratedDay('birthday', state, hourly.quietHours, nowMs);
            expect(day?.date, `${md}, sweep at ${sweepHourUtc}:00 UTC`).toBe(`2026-${md}`);
            // Decided before the day's sending hours open, and for then.
            expect(day?.opensAtMs).toBeGreaterThanOrEqual(nowMs);
            expect(localDate(day?.opensAtMs ?? 0, timezone)).toBe(`2026-${md}`);
          }
        }
      },
    );

    it('celebrates 29 February on 28 February in other years, locally', () => {
      const state = bornIn('Pacific/Honolulu', '2000-02-29');
      expect(keysAt(state, sweepOf('2027-02-28'))).toEqual(['c1|birthday|2027']);
      expect(keysAt(state, sweepOf('2027-03-01'))).toEqual([]);
      expect(keysAt(state, sweepOf('2028-02-28'))).toEqual([]);
      expect(keysAt(state, sweepOf('2028-02-29'))).toEqual(['c1|birthday|2028']);
      expect(celebratedDay('birthday', state, quiet, sweepOf('2027-02-28'))?.date).toBe(
        '2027-02-28',
      );
      expect(celebratedDay('birthday', state, quiet, sweepOf('2028-02-29'))?.date).toBe(
        '2028-02-29',
      );
    });

    it('greets a day that opened while sweeps were missed, from the days swept', () => {
      // The sweep of the 15th, catching up on the 13th and 14th.
      const state = bornIn('America/New_York', '01-13');
      const days = [13, 14, 15].map((d) => Date.parse(`2026-01-${d}T00:00:00.000Z`));
      expect(keysAt(state, sweepOf('2026-01-15'))).toEqual([]);
      expect(keysAt(state, sweepOf('2026-01-15'), days)).toEqual(['c1|birthday|2026']);
    });
  });

  describe('celebratedDay', () => {
    const born = (birthday: string) => aState({ traits: { birthday } });
    const dateOf = (kind: 'birthday' | 'anniversary', state: ProfileState, nowMs = t0) =>
      celebratedDay(kind, state, quiet, nowMs)?.date ?? null;

    it('finds the local day celebrated: the next, today, or one a catching-up sweep looked at', () => {
      expect(dateOf('birthday', born('1990-01-15'))).toBe('2026-01-15');
      expect(dateOf('birthday', born('01-16'))).toBe('2026-01-16');
      expect(dateOf('birthday', born('01-12'))).toBe('2026-01-12');
      expect(dateOf('birthday', born('01-17'))).toBeNull();
      expect(dateOf('birthday', born('01-11'))).toBeNull();
    });

    it('opens the day when quiet hours end, and at midnight without them', () => {
      const day = celebratedDay('birthday', born('01-15'), quiet, t0);
      expect(day?.opensAtMs).toBe(Date.parse('2026-01-15T08:00:00.000Z'));
      const off = { ...quiet, startHour: 0, endHour: 0 };
      expect(celebratedDay('birthday', born('01-15'), off, t0)?.opensAtMs).toBe(
        Date.parse('2026-01-15T00:00:00.000Z'),
      );
    });

    it('finds the day of a signup anniversary', () => {
      const state = aState({ signedUpAtMs: Date.parse('2024-01-14T18:00:00.000Z') });
      expect(dateOf('anniversary', state)).toBe('2026-01-14');
      expect(dateOf('anniversary', aState({ signedUpAtMs: null }))).toBeNull();
      expect(
        dateOf('anniversary', aState({ signedUpAtMs: -1_780_488_000_000_000_000 })),
      ).toBeNull();
    });
  });

  describe('stage and segment', () => {
    it('schedules a check when time alone moved the stage or segment', () => {
      const state = inactiveFor(40);
      const marks = { ...marksOf(state, t0), stage: 'active' };
      expect(sweep(state, t0, marks)).toEqual([
        { key: 'c1|check', customerId: c1, dueAtMs: t0, trigger: { kind: 'profile-changed' } },
      ]);
    });

    it('leaves a customer never looked at to the event path', () => {
      const state = inactiveFor(40);
      expect(sweepCustomer(c1, state, toComputed(state, t0), undefined, policy, t0)).toEqual([]);
    });
  });
});

describe('birthdayAfterSweep', () => {
  const tokyo = { country: null, region: null, city: null, timezone: 'Asia/Tokyo' };
  const without = aState({ traits: { email: 'c1@example.com' }, location: tokyo });
  const withBirthday = aState({
    traits: { email: 'c1@example.com', birthday: '1990-01-15' },
    location: tokyo,
  });
  const at = (iso: string) => Date.parse(iso);

  it('greets a birthday given after the sweep whose span its day opens in', () => {
    // The 14 January sweep (06:00 UTC) ran without it; given at 10:00 UTC (19:00 in Tokyo),
    // before the 15th opens at 23:00 UTC. No later sweep's span holds that opening.
    expect(
      sweepCustomer(
        c1,
        withBirthday,
        toComputed(withBirthday, at('2026-01-15T06:00:00Z')),
        undefined,
        policy,
        at('2026-01-15T06:00:00Z'),
      ).filter((w) => w.trigger.kind === 'birthday'),
    ).toEqual([]);
    const work = birthdayAfterSweep(c1, without, withBirthday, policy, at('2026-01-14T10:00:00Z'));
    expect(work.map((w) => [w.key, w.mode])).toEqual([['c1|birthday|2026', 'once']]);
    // A customer seen for the first time with it, too.
    expect(
      birthdayAfterSweep(c1, null, withBirthday, policy, at('2026-01-14T10:00:00Z')),
    ).toHaveLength(1);
  });

  it('also greets for the sweep about to begin, whose clock may be ahead of the batch’s', () => {
    // A UTC customer whose birthday opens at 08:00 on the 15th, in the 15th's span; given at
    // 05:58 UTC on the 15th, two minutes before that sweep, which may already hold their lock.
    const utc = { country: null, region: null, city: null, timezone: 'UTC' };
    const given = aState({ traits: { birthday: '1990-01-15' }, location: utc });
    const before = aState({ traits: {}, location: utc });
    expect(
      birthdayAfterSweep(c1, before, given, policy, at('2026-01-15T05:58:00Z')).map((w) => w.key),
    ).toEqual(['c1|birthday|2026']);
  });

  it('leaves a birthday to the next sweep, and a profile whose birthday did not change', () => {
    // Given on the 13th: the 14th's sweep greets it.
    expect(
      birthdayAfterSweep(c1, without, withBirthday, policy, at('2026-01-13T10:00:00Z')),
    ).toEqual([]);
    expect(
      birthdayAfterSweep(c1, withBirthday, withBirthday, policy, at('2026-01-14T10:00:00Z')),
    ).toEqual([]);
  });
});

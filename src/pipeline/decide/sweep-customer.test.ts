import { describe, expect, it } from 'vitest';
import type { ProfileState } from '../../core/profile.js';
import { SWEEP_GRACE_DAYS, celebratedDayMs, sweepCustomer } from './sweep-customer.js';
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

  describe('celebratedDayMs', () => {
    const day = (iso: string) => Date.parse(`${iso}T00:00:00.000Z`);
    const born = (birthday: string) => aState({ traits: { birthday } });

    it('finds the UTC day celebrated: today, or one a late or catching-up sweep looked at', () => {
      expect(celebratedDayMs('birthday', born('1990-01-15'), t0)).toBe(day('2026-01-15'));
      expect(celebratedDayMs('birthday', born('01-13'), t0)).toBe(day('2026-01-13'));
      expect(celebratedDayMs('birthday', born('01-16'), t0)).toBeNull();
      expect(celebratedDayMs('birthday', born('01-10'), t0)).toBeNull();
      const leap = born('2000-02-29');
      expect(celebratedDayMs('birthday', leap, Date.parse('2027-02-28T06:00:00Z'))).toBe(
        day('2027-02-28'),
      );
    });

    it('finds the day of a signup anniversary', () => {
      const state = aState({ signedUpAtMs: Date.parse('2024-01-14T18:00:00.000Z') });
      expect(celebratedDayMs('anniversary', state, t0)).toBe(day('2026-01-14'));
      expect(celebratedDayMs('anniversary', aState({ signedUpAtMs: null }), t0)).toBeNull();
      expect(
        celebratedDayMs('anniversary', aState({ signedUpAtMs: -1_780_488_000_000_000_000 }), t0),
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

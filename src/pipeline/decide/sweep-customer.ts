import { birthdayMonthDay, isLeapYear } from '../../core/birthday.js';
import type { CustomerId } from '../../core/ids.js';
import type { ComputedProfile, ProfileState } from '../../core/profile.js';
import { localDate, startOfNextLocalDay } from '../../core/local-time.js';
import { afterQuietHours, calendarZoneOf, type QuietHours } from '../../core/quiet-hours.js';
import { DAY_MS, HOUR_MS } from '../../core/time.js';
import type { CustomerMarks, WorkDraft } from '../../ports/decide-store.js';
import { segmentCustomer } from './agents/segment-customer.js';
import type { DecidePolicy } from './policy.js';

/** Days after a threshold during which crossing it still raises its trigger (missed sweeps). */
export const SWEEP_GRACE_DAYS = 7;

/**
 * Days back a sweep looks for birthdays and anniversaries it missed (the worker down on the
 * day): its own day and the two before (and a greeting's local day, three days before the one
 * it is decided on, at the most). A greeting later than that is no greeting.
 */
export const CELEBRATION_GRACE_DAYS = 3;

/** The calendar date (`YYYY-MM-DD`) `days` after `date`. */
const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00.000Z`) + days * DAY_MS).toISOString().slice(0, 10);

/** Whether a month-day (`MM-DD`) falls on a date; 29 February is celebrated on the 28th in other years. */
const fallsOn = (md: string, date: string): boolean => {
  const day = date.slice(5);
  if (md === day) return true;
  return md === '02-29' && day === '02-28' && !isLeapYear(Number(date.slice(0, 4)));
};

/**
 * The local date (`YYYY-MM-DD`) of the signup in the customer's zone, or null when no calendar
 * has it: a signup time stored before such numbers were refused (a trait in nanoseconds) is no
 * anniversary.
 */
const signupDate = (state: ProfileState, timezone: string): string | null => {
  const at = state.signedUpAtMs;
  if (at === null || Number.isNaN(new Date(at).getTime())) return null;
  return localDate(at, timezone);
};

/** The month-day (`MM-DD`) a customer celebrates: their birthday, or their signup's, locally. */
const monthDayOf = (
  kind: 'birthday' | 'anniversary',
  state: ProfileState,
  timezone: string,
): string | null =>
  kind === 'birthday'
    ? birthdayMonthDay(state.traits['birthday'])
    : (signupDate(state, timezone)?.slice(5) ?? null);

/** The dates a sweep of `days` looks at, and the month-days that fall on one of them. */
interface SweptDates {
  dates: string[];
  monthDays: Set<string>;
}

/**
 * The local dates whose days may open in the spans of the sweep days (`dayIndexes`, UTC days
 * since the epoch): from two days before the first to three after the last, at the most
 * (offsets from UTC-12 to UTC+14, a sweep and quiet hours at any hour). The same for every
 * customer of a sweep: the last one is kept.
 */
let lastSwept: { key: string; swept: SweptDates } | null = null;
const sweptDatesOf = (dayIndexes: readonly number[]): SweptDates => {
  const key = dayIndexes.join(',');
  if (lastSwept?.key === key) return lastSwept.swept;
  const first = new Date((Math.min(...dayIndexes) - 2) * DAY_MS).toISOString().slice(0, 10);
  const span = Math.max(...dayIndexes) - Math.min(...dayIndexes) + 6;
  const dates = Array.from({ length: span }, (_, i) => addDays(first, i));
  const monthDays = new Set<string>();
  for (const date of dates) {
    monthDays.add(date.slice(5));
    if (fallsOn('02-29', date)) monthDays.add('02-29');
  }
  lastSwept = { key, swept: { dates, monthDays } };
  return lastSwept.swept;
};

/**
 * Whether a signup's UTC date, or a day either side of it (where a time zone may put it), is a
 * month-day of the dates swept.
 */
const isNearSignup = (atMs: number | null, monthDays: ReadonlySet<string>): boolean => {
  if (atMs === null) return false;
  for (const k of [-1, 0, 1]) {
    const at = new Date(atMs + k * DAY_MS);
    if (Number.isNaN(at.getTime())) continue;
    const md = `${String(at.getUTCMonth() + 1).padStart(2, '0')}-${String(at.getUTCDate()).padStart(2, '0')}`;
    if (monthDays.has(md)) return true;
  }
  return false;
};

/** A birthday or signup anniversary as the customer lives it: a date of their own time zone. */
export interface CelebratedDay {
  /** The local date, `YYYY-MM-DD`. */
  date: string;
  timezone: string;
  /** When sending may begin that day: local midnight, or the end of quiet hours when they span it. */
  opensAtMs: number;
  /** The first moment of the next local day. */
  endsAtMs: number;
}

const celebratedDayOf = (date: string, timezone: string, q: QuietHours): CelebratedDay => ({
  date,
  timezone,
  opensAtMs: afterQuietHours(startOfNextLocalDay(addDays(date, -1), timezone), timezone, q),
  endsAtMs: startOfNextLocalDay(date, timezone),
});

/**
 * The local day a `birthday` or `anniversary` trigger decided at `nowMs` celebrates, in the
 * customer's time zone (as quiet hours resolve it): the latest date, from the local day after
 * `nowMs`'s (a sweep greets days whose sending hours open before the next sweep) back over the
 * days a sweep catches up on, that is the customer's birthday or signup anniversary. Null when
 * none is (the trait changed since).
 */
export const celebratedDay = (
  kind: 'birthday' | 'anniversary',
  state: ProfileState,
  q: QuietHours,
  nowMs: number,
): CelebratedDay | null => {
  const timezone = calendarZoneOf(state.location, state.traits['phone'], q);
  const md = monthDayOf(kind, state, timezone);
  if (md === null) return null;
  const earliest = addDays(localDate(nowMs, timezone), -CELEBRATION_GRACE_DAYS);
  for (let date = localDate(nowMs + DAY_MS, timezone); date >= earliest; date = addDays(date, -1))
    if (fallsOn(md, date)) return celebratedDayOf(date, timezone, q);
  return null;
};

/**
 * A birthday or signup anniversary whose sending hours open (`CelebratedDay.opensAtMs`) in the
 * days swept, keyed to fire once a year. Sweep day `d` greets the local days that open from its
 * sweep hour to the next day's: every local day opens in exactly one of them, so a customer west
 * of UTC whose day begins after the sweep is greeted by it (for later that day), one east of it
 * by the sweep before, and none twice or never, whatever the sweep hour.
 */
const celebrations = (
  customerId: CustomerId,
  state: ProfileState,
  policy: DecidePolicy,
  nowMs: number,
  days: readonly number[],
  /** Only days a greeting can still go on by then (a birthday given late). */
  ongoingAtMs: number | null = null,
): WorkDraft[] => {
  const work: WorkDraft[] = [];
  if (days.length === 0) return work;
  const sweepDays = days.map((d) => Math.floor(d / DAY_MS));
  const { dates, monthDays } = sweptDatesOf(sweepDays);
  // Most customers have neither day near the days swept: nothing more to read of them.
  const birthday = birthdayMonthDay(state.traits['birthday']);
  const nearBirthday = birthday !== null && monthDays.has(birthday);
  // An anniversary comes a year after the signup at the soonest (300 days: any time zone).
  const signedUpAtMs = state.signedUpAtMs;
  const nearSignup =
    signedUpAtMs !== null &&
    signedUpAtMs <= Math.max(...days) - 300 * DAY_MS &&
    isNearSignup(signedUpAtMs, monthDays);
  if (!nearBirthday && !nearSignup) return work;
  const timezone = calendarZoneOf(state.location, state.traits['phone'], policy.quietHours);
  const opening = sweepDays.map((d) => d * DAY_MS + policy.sweepHourUtc * HOUR_MS);
  const swept = (atMs: number) => opening.some((from) => atMs >= from && atMs < from + DAY_MS);
  for (const kind of ['birthday', 'anniversary'] as const) {
    // Reading the signup's date in a time zone costs microseconds: only near the days swept.
    if (kind === 'birthday' ? !nearBirthday : !nearSignup) continue;
    const md = monthDayOf(kind, state, timezone);
    if (md === null) continue;
    for (const date of dates) {
      if (!fallsOn(md, date)) continue;
      const day = celebratedDayOf(date, timezone, policy.quietHours);
      if (!swept(day.opensAtMs)) continue;
      // Given late, a day is greeted only while a greeting can still go on it: not once it is
      // over, nor when the rest of it is quiet hours (it would go the next morning).
      if (
        ongoingAtMs !== null &&
        afterQuietHours(Math.max(ongoingAtMs, day.opensAtMs), timezone, policy.quietHours) >=
          day.endsAtMs
      )
        continue;
      const year = Number(date.slice(0, 4));
      if (kind === 'birthday')
        work.push({
          key: `${customerId}|birthday|${year}`,
          customerId,
          dueAtMs: nowMs,
          trigger: { kind: 'birthday' },
          mode: 'once',
        });
      else {
        const years = year - Number(signupDate(state, timezone)?.slice(0, 4));
        if (years >= 1)
          work.push({
            key: `${customerId}|anniversary|${year}`,
            customerId,
            dueAtMs: nowMs,
            trigger: { kind: 'anniversary', years },
            mode: 'once',
          });
      }
    }
  }
  return work;
};

/** The latest UTC day (days since the epoch) whose sweep hour has passed at `nowMs`. */
export const sweepDayDue = (nowMs: number, sweepHourUtc: number): number => {
  const day = Math.floor(nowMs / DAY_MS);
  return nowMs - day * DAY_MS >= sweepHourUtc * HOUR_MS ? day : day - 1;
};

/** How far ahead of a batch's clock a sweep may have begun (lock waits, clocks apart). */
const SWEEP_CLOCK_SLACK_MS = 5 * 60_000;

/**
 * A birthday the latest sweep could not see: given (or moved, or the customer's time zone moved)
 * after the sweep of the day whose span it opens in ran — a Tokyo customer who gives their
 * 15 January birthday at 19:00 local on the 14th, after that day's 06:00 UTC sweep, whose 15th
 * opens at 23:00 UTC. Greeted as that sweep would have, keyed alike (once a year); nothing when
 * the day opens outside the latest sweep's span (the next sweep greets it).
 */
export const birthdayAfterSweep = (
  customerId: CustomerId,
  before: ProfileState | null,
  after: ProfileState,
  policy: DecidePolicy,
  nowMs: number,
): WorkDraft[] => {
  const moved =
    before === null ||
    before.traits['birthday'] !== after.traits['birthday'] ||
    ((before.location !== after.location || before.traits['phone'] !== after.traits['phone']) &&
      calendarZoneOf(before.location, before.traits['phone'], policy.quietHours) !==
        calendarZoneOf(after.location, after.traits['phone'], policy.quietHours));
  if (!moved || after.traits['birthday'] === undefined) return [];
  // The latest UTC day whose sweep hour has passed, and the next one when its sweep hour is
  // minutes away: this batch's clock was read before it waited for the customer's lock, which
  // a sweep that began since may have held. The once-a-year key keeps a day both greet to one
  // greeting.
  // And the day before: a day that opened in its span may not be over yet (Tokyo's 7 December
  // opens at 23:00 UTC on the 6th; a birthday given there at 19:00 on the 7th was never greeted).
  const due = sweepDayDue(nowMs, policy.sweepHourUtc);
  const days = [
    ...new Set([due - 1, due, sweepDayDue(nowMs + SWEEP_CLOCK_SLACK_MS, policy.sweepHourUtc)]),
  ];
  return celebrations(
    customerId,
    after,
    policy,
    nowMs,
    days.map((day) => day * DAY_MS),
    nowMs,
  ).filter((w) => w.trigger.kind === 'birthday');
};

/**
 * Where a customer's dormant clock starts: their last activity — one path per period of silence
 * — unless their latest dormant path began in this silence without `dormantDays` of it behind
 * it: history that came later (a second source's import, a phone's batch hours late) showed
 * them active within those days, the agent ended that path early, and the clock starts at its
 * start, so the next path comes `dormantDays` after it, never the next day. Null when the latest
 * path was this silence's own: no other before they act again.
 */
export const dormantSince = (
  lastActiveMs: number,
  pathAtMs: number | null | undefined,
  dormantDays: number,
): number | null => {
  if (pathAtMs === null || pathAtMs === undefined || pathAtMs < lastActiveMs) return lastActiveMs;
  return pathAtMs - lastActiveMs >= dormantDays * DAY_MS ? null : pathAtMs;
};

/**
 * The daily sweep's look at one customer: inactivity thresholds crossed (30 and 90 days by
 * default, each once per period of inactivity; the 90 days from a dormant path ended early too,
 * `dormantSince`), a birthday or signup anniversary of the
 * customer's time zone whose sending hours open in the span of a UTC day swept (`dayMs`, any
 * moment of it, from its sweep hour to the next day's — a sweep that runs late still greets the
 * days it is for; several days when sweeps were missed), and a stage or segment that moved with
 * time alone. Every trigger's key makes it fire once.
 */
export const sweepCustomer = (
  customerId: CustomerId,
  state: ProfileState,
  computed: ComputedProfile,
  marks: CustomerMarks | undefined,
  policy: DecidePolicy,
  nowMs: number,
  dayMs: number | readonly number[] = nowMs,
): WorkDraft[] => {
  const work: WorkDraft[] = [];
  const lastActive = state.lastActiveAtMs ?? state.firstSeenAtMs;
  for (const days of [policy.winBack.inactiveDays, policy.winBack.dormantDays]) {
    const since =
      days === policy.winBack.dormantDays
        ? dormantSince(lastActive, marks?.dormantPathAtMs, days)
        : lastActive;
    if (since === null) continue;
    const inactiveDays = (nowMs - since) / DAY_MS;
    if (inactiveDays >= days && inactiveDays < days + SWEEP_GRACE_DAYS)
      work.push({
        key: `${customerId}|inactive|${days}|${since}`,
        customerId,
        dueAtMs: nowMs,
        trigger: { kind: 'inactive', days },
        mode: 'once',
      });
  }
  if (policy.birthdays)
    work.push(
      ...celebrations(
        customerId,
        state,
        policy,
        nowMs,
        typeof dayMs === 'number' ? [dayMs] : dayMs,
      ),
    );
  const segment = segmentCustomer(state, computed, nowMs, policy.segments);
  if (marks !== undefined && (marks.stage !== computed.lifecycleStage || marks.segment !== segment))
    work.push({
      key: `${customerId}|check`,
      customerId,
      dueAtMs: nowMs,
      trigger: { kind: 'profile-changed' },
    });
  return work;
};

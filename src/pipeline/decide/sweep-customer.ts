import type { CustomerId } from '../../core/ids.js';
import type { ComputedProfile, ProfileState } from '../../core/profile.js';
import { DAY_MS } from '../../core/time.js';
import type { CustomerMarks, WorkDraft } from '../../ports/decide-store.js';
import { segmentCustomer } from './agents/segment-customer.js';
import type { DecidePolicy } from './policy.js';

/** Days after a threshold during which crossing it still raises its trigger (missed sweeps). */
export const SWEEP_GRACE_DAYS = 7;

/**
 * Days back a sweep looks for birthdays and anniversaries it missed (the worker down on the
 * day): today and the two before. A greeting later than that is no greeting.
 */
export const CELEBRATION_GRACE_DAYS = 3;

/**
 * The UTC month and day (`MM-DD`) of an instant, or null when no calendar has it: a signup
 * time stored before such numbers were refused (a trait in nanoseconds) is no anniversary.
 */
const monthDay = (atMs: number): string | null => {
  const at = new Date(atMs);
  if (Number.isNaN(at.getTime())) return null;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`;
};

const isLeapYear = (year: number): boolean =>
  (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Whether a month-day falls today; 29 February is celebrated on the 28th in other years. */
const isToday = (md: string | null, nowMs: number): boolean => {
  if (md === null) return false;
  const today = monthDay(nowMs);
  if (md === today) return true;
  return md === '02-29' && today === '02-28' && !isLeapYear(new Date(nowMs).getUTCFullYear());
};

const birthdayMonthDay = (value: unknown): string | null => {
  if (typeof value !== 'string') return null;
  const m = /^(?:\d{4}-)?(\d{2})-(\d{2})/.exec(value.trim());
  return m === null ? null : `${m[1] ?? ''}-${m[2] ?? ''}`;
};

/**
 * The UTC day (its midnight, epoch ms) a `birthday` or `anniversary` trigger decided at `nowMs`
 * celebrates: the latest day, from `nowMs`'s back over the days a sweep looks at, that is the
 * customer's birthday or signup anniversary. Null when none is (the trait changed since).
 */
export const celebratedDayMs = (
  kind: 'birthday' | 'anniversary',
  state: ProfileState,
  nowMs: number,
): number | null => {
  const md =
    kind === 'birthday'
      ? birthdayMonthDay(state.traits['birthday'])
      : state.signedUpAtMs === null
        ? null
        : monthDay(state.signedUpAtMs);
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  // A late sweep celebrates the day before its own, and looks back the grace days from that.
  for (let d = 0; d <= CELEBRATION_GRACE_DAYS; d += 1)
    if (isToday(md, today - d * DAY_MS)) return today - d * DAY_MS;
  return null;
};

/** A birthday or signup anniversary on the UTC day of `dayMs`, keyed to fire once a year. */
const celebrations = (
  customerId: CustomerId,
  state: ProfileState,
  nowMs: number,
  dayMs: number,
): WorkDraft[] => {
  const work: WorkDraft[] = [];
  const year = new Date(dayMs).getUTCFullYear();
  if (isToday(birthdayMonthDay(state.traits['birthday']), dayMs))
    work.push({
      key: `${customerId}|birthday|${year}`,
      customerId,
      dueAtMs: nowMs,
      trigger: { kind: 'birthday' },
      mode: 'once',
    });
  const signedUp = state.signedUpAtMs;
  if (signedUp !== null && isToday(monthDay(signedUp), dayMs)) {
    const years = year - new Date(signedUp).getUTCFullYear();
    if (years >= 1)
      work.push({
        key: `${customerId}|anniversary|${year}`,
        customerId,
        dueAtMs: nowMs,
        trigger: { kind: 'anniversary', years },
        mode: 'once',
      });
  }
  return work;
};

/**
 * The daily sweep's look at one customer: inactivity thresholds crossed (30 and 90 days by
 * default, each once per period of inactivity), a birthday or signup anniversary on a day
 * swept (UTC; `dayMs`, any moment of it — a sweep that runs late, after midnight, still
 * celebrates the day it is for; several days when sweeps were missed), and a stage or segment
 * that moved with time alone. Every trigger's key makes it fire once.
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
  const inactiveDays = (nowMs - lastActive) / DAY_MS;
  for (const days of [policy.winBack.inactiveDays, policy.winBack.dormantDays]) {
    if (inactiveDays >= days && inactiveDays < days + SWEEP_GRACE_DAYS)
      work.push({
        key: `${customerId}|inactive|${days}|${lastActive}`,
        customerId,
        dueAtMs: nowMs,
        trigger: { kind: 'inactive', days },
        mode: 'once',
      });
  }
  if (policy.birthdays)
    for (const day of typeof dayMs === 'number' ? [dayMs] : dayMs)
      work.push(...celebrations(customerId, state, nowMs, day));
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

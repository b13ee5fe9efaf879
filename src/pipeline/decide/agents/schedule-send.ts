import type { Channel, ProfileState } from '../../../core/profile.js';
import { HOUR_MS, MINUTE_MS } from '../../../core/time.js';
import type { DecidePolicy } from '../policy.js';
import { localHour, localMinuteOfDay } from './local-hour.js';

const hourOfWeek = (atMs: number): number => {
  const hours = Math.floor(atMs / HOUR_MS);
  return ((Math.floor(hours / 24) + 3) % 7) * 24 + (hours % 24);
};

const isQuiet = (hour: number, q: DecidePolicy['quietHours']): boolean =>
  q.startHour <= q.endHour
    ? hour >= q.startHour && hour < q.endHour
    : hour >= q.startHour || hour < q.endHour;

/**
 * The first moment at or after `atMs` outside the customer's local quiet hours: `atMs` itself,
 * or local `endHour`:00 (re-checked once, in case a daylight-saving change falls in between).
 */
export const afterQuietHours = (
  atMs: number,
  timezone: string | null,
  q: DecidePolicy['quietHours'],
): number => {
  if (q.startHour === q.endHour) return atMs;
  const tz = timezone ?? q.defaultTimezone;
  let t = atMs;
  for (let i = 0; i < 3; i += 1) {
    if (!isQuiet(localHour(t, tz), q)) return t;
    const minutesToEnd = (q.endHour * 60 - localMinuteOfDay(t, tz) + 24 * 60) % (24 * 60);
    t = Math.floor(t / MINUTE_MS) * MINUTE_MS + minutesToEnd * MINUTE_MS;
  }
  return t;
};

/**
 * The customer's best hour within `maxDelayHours` of `atMs`: their own responses by hour of
 * week, smoothed toward the population with `priorWeight` pseudo-responses (uniform when the
 * population is unknown). Null when they have too few responses to say.
 */
export const bestSendHour = (
  atMs: number,
  state: ProfileState,
  population: readonly number[] | null,
  s: DecidePolicy['sendTime'],
): { atMs: number; score: number } | null => {
  const own = state.responses?.byHourOfWeek;
  if (own === undefined) return null;
  let total = 0;
  for (const n of Object.values(own)) total += n;
  if (total < s.minResponses) return null;
  let best: { atMs: number; score: number } | null = null;
  const start = Math.floor(atMs / HOUR_MS) * HOUR_MS;
  for (let h = 0; h <= s.maxDelayHours; h += 1) {
    const slotStart = start + h * HOUR_MS;
    const slot = hourOfWeek(slotStart);
    const prior = population?.[slot] ?? 1 / 168;
    const score = ((own[String(slot)] ?? 0) + s.priorWeight * prior) / (total + s.priorWeight);
    if (best === null || score > best.score) best = { atMs: Math.max(atMs, slotStart), score };
  }
  return best;
};

export interface SendTime {
  atMs: number;
  reasons: string[];
}

/** When to send: the best hour when asked for, then out of quiet hours (web is never held). */
export const scheduleSend = (
  atMs: number,
  channel: Channel | undefined,
  state: ProfileState,
  env: { policy: DecidePolicy; population: readonly number[] | null },
  optimise: boolean,
): SendTime => {
  const reasons: string[] = [];
  let when = atMs;
  if (optimise && env.policy.sendTime.enabled && channel !== 'web') {
    const best = bestSendHour(atMs, state, env.population, env.policy.sendTime);
    if (best !== null && best.atMs > atMs) {
      when = best.atMs;
      reasons.push(
        `send time: moved to the customer's best hour (${new Date(when).toISOString()})`,
      );
    }
  }
  if (channel !== 'web') {
    const tz = state.location.timezone;
    const allowed = afterQuietHours(when, tz, env.policy.quietHours);
    if (allowed !== when) {
      reasons.push(
        `quiet hours ${env.policy.quietHours.startHour}:00–${env.policy.quietHours.endHour}:00 in ${tz ?? env.policy.quietHours.defaultTimezone}: held until ${new Date(allowed).toISOString()}`,
      );
      when = allowed;
    }
  }
  return { atMs: when, reasons };
};

import type { Channel, ProfileState } from '../../../core/profile.js';
import { HOUR_MS } from '../../../core/time.js';
import type { DecidePolicy } from '../policy.js';
import { localHourOfWeek, responsesIn } from '../../../core/local-time.js';
import { afterQuietHoursIn, calendarZoneOf, quietZonesOf } from '../../../core/quiet-hours.js';

/**
 * The customer's best hour within `maxDelayHours` of `atMs`: their own responses by local hour of
 * week in `timezone` (`responsesIn`: counts kept in another zone, or by UTC hour, moved to it),
 * smoothed toward the population's by local
 * hour with `priorWeight` pseudo-responses (uniform when the population is unknown), among the
 * hours a send may go in. `firstAllowed` says when that is:
 * the first moment at or after the one it is given outside their quiet hours, or null when none
 * is (past a deadline) — a best hour of 22:00 would otherwise be held until 08:00, later than
 * any hour considered. Null when they have too few responses to say, or no hour is allowed.
 */
export const bestSendHour = (
  atMs: number,
  state: ProfileState,
  population: readonly number[] | null,
  s: DecidePolicy['sendTime'],
  firstAllowed: (fromMs: number) => number | null = (fromMs) => fromMs,
  timezone = 'UTC',
): { atMs: number; score: number } | null => {
  const start = Math.floor(atMs / HOUR_MS) * HOUR_MS;
  const own = responsesIn(state.responses, timezone, start);
  if (own === undefined) return null;
  let total = 0;
  for (const n of Object.values(own)) total += n;
  if (total < s.minResponses) return null;
  let best: { atMs: number; score: number } | null = null;
  const latestMs = atMs + s.maxDelayHours * HOUR_MS;
  for (let h = 0; h <= s.maxDelayHours; h += 1) {
    const slotStart = start + h * HOUR_MS;
    // The slots are whole UTC hours; where quiet hours end on a half hour (India, Newfoundland,
    // South Australia; Nepal on a quarter) the hour they end in starts quiet, and its allowed
    // part — the customer's first morning moment — is what a send there gets.
    const sendAt = firstAllowed(Math.max(atMs, slotStart));
    // The last hour's allowed part can lie past the bound (its quiet hours end on its half).
    if (sendAt === null || sendAt >= slotStart + HOUR_MS || sendAt > latestMs) continue;
    // Both by local hour: the customer's, and the population's (each customer's in their zone).
    const slot = localHourOfWeek(slotStart, timezone);
    const prior = population?.[slot] ?? 1 / 168;
    const score = ((own[String(slot)] ?? 0) + s.priorWeight * prior) / (total + s.priorWeight);
    if (best === null || score > best.score) best = { atMs: sendAt, score };
  }
  return best;
};

export interface SendTime {
  atMs: number;
  reasons: string[];
}

/** The latest moment a send may be moved to, and why (`the end of the birthday`). */
export interface SendDeadline {
  atMs: number;
  why: string;
}

/**
 * When to send: the best hour when asked for — never later than `latest`, when given — then out
 * of quiet hours (web is never held).
 */
export const scheduleSend = (
  atMs: number,
  channel: Channel | undefined,
  state: ProfileState,
  env: { policy: DecidePolicy; population: readonly number[] | null },
  optimise: boolean,
  latest: SendDeadline | null = null,
): SendTime => {
  const reasons: string[] = [];
  let when = atMs;
  // The zones quiet hours hold in, as the guard reads them (every zone of a country whose
  // state is not known, a phone number's country): a time it would hold is not proposed.
  const quiet = quietZonesOf(state.location, state.traits['phone'], env.policy.quietHours);
  if (optimise && env.policy.sendTime.enabled && channel !== 'web') {
    // The customer's habit is counted in the zone their quiet hours hold in, when there is one.
    const zone = calendarZoneOf(
      state.location,
      state.traits['phone'],
      env.policy.quietHours,
      quiet.zones,
    );
    const firstAllowed = (t: number): number | null => {
      const after = afterQuietHoursIn(t, quiet.zones, env.policy.quietHours);
      return latest === null || after <= latest.atMs ? after : null;
    };
    const best = bestSendHour(atMs, state, env.population, env.policy.sendTime, firstAllowed, zone);
    if (
      best !== null &&
      latest !== null &&
      latest.atMs < atMs + env.policy.sendTime.maxDelayHours * HOUR_MS
    )
      reasons.push(
        `send time: not moved past ${new Date(latest.atMs).toISOString()} (${latest.why})`,
      );
    if (best !== null && best.atMs > atMs) {
      when = best.atMs;
      reasons.push(
        `send time: moved to the customer's best hour (${new Date(when).toISOString()})`,
      );
    }
  }
  if (channel !== 'web') {
    const allowed = afterQuietHoursIn(when, quiet.zones, env.policy.quietHours);
    if (allowed !== when) {
      reasons.push(
        `quiet hours ${env.policy.quietHours.startHour}:00–${env.policy.quietHours.endHour}:00 in ${quiet.zones.join(', ')} (${quiet.source}): held until ${new Date(allowed).toISOString()}`,
      );
      when = allowed;
    }
  }
  return { atMs: when, reasons };
};

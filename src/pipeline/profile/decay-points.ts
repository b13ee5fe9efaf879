import { DAY_MS } from '../../core/time.js';

/** Exponential decay: a point is worth `0.5^(ageDays / halfLifeDays)` after `ageDays`. */
export const decayFactor = (ageMs: number, halfLifeDays: number): number =>
  ageMs <= 0 ? 1 : Math.pow(0.5, ageMs / (halfLifeDays * DAY_MS));

/**
 * Adds `points` earned at `atMs` to a decayed total held at `asOfMs`, keeping the total at the
 * later of the two instants; the result does not depend on the order events arrive in.
 */
export const addPoints = (
  total: { points: number; asOfMs: number },
  points: number,
  atMs: number,
  halfLifeDays: number,
): { points: number; asOfMs: number } => {
  // Nothing held yet: the total starts at these points' time, not at whatever event first made
  // the profile (one stamped ahead would otherwise hold back these points' decay).
  if (total.points === 0) return { points, asOfMs: atMs };
  if (atMs >= total.asOfMs) {
    const decayed = total.points * decayFactor(atMs - total.asOfMs, halfLifeDays);
    return { points: decayed + points, asOfMs: atMs };
  }
  return {
    points: total.points + points * decayFactor(total.asOfMs - atMs, halfLifeDays),
    asOfMs: total.asOfMs,
  };
};

import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../core/time.js';
import { addPoints } from './decay-points.js';

describe('addPoints', () => {
  const t0 = Date.UTC(2026, 5, 1);

  it('gives the same total whatever order the points arrive in', () => {
    const a = addPoints(addPoints({ points: 0, asOfMs: t0 }, 0.3, t0, 14), 0.5, t0 + DAY_MS, 14);
    const b = addPoints(addPoints({ points: 0, asOfMs: t0 }, 0.5, t0 + DAY_MS, 14), 0.3, t0, 14);
    expect(a.asOfMs).toBe(b.asOfMs);
    expect(a.points).toBeCloseTo(b.points, 12);
  });

  it('starts an empty total at the points it is given, not at a moment ahead of them', () => {
    // A profile first made by an event stamped 12 hours ahead that earned nothing.
    const ahead = { points: 0, asOfMs: t0 + DAY_MS / 2 };
    expect(addPoints(ahead, 0.3, t0, 14)).toEqual({ points: 0.3, asOfMs: t0 });
  });
});

import type { Clock } from '../../ports/clock.js';

/** A clock that only moves when told: the simulator and tests run on it. */
export interface VirtualClock extends Clock {
  /** Moves to `atMs`; never backwards. */
  set(atMs: number): void;
  advance(ms: number): void;
}

export const createVirtualClock = (startMs: number): VirtualClock => {
  let now = startMs;
  return {
    nowMs: () => now,
    set(atMs) {
      if (atMs < now) throw new RangeError(`the virtual clock cannot go back (${atMs} < ${now})`);
      now = atMs;
    },
    advance(ms) {
      if (ms < 0) throw new RangeError('the virtual clock cannot go back');
      now += ms;
    },
  };
};

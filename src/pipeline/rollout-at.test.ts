import { describe, expect, it } from 'vitest';
import { rolloutAt, type RolloutState } from './rollout.js';

const t0 = Date.UTC(2026, 0, 5, 12);
const dayMs = 86_400_000;

/** Started at t0 (to 5 %), held on day 1, advanced to 20 % on day 2, rolled back on day 3. */
const state: RolloutState = {
  percent: 0,
  salt: 'rollout-1',
  stageStartedAtMs: t0 + 3 * dayMs,
  history: [
    {
      atMs: t0,
      decision: { action: 'advance', fromPercent: 0, toPercent: 5, reasons: [] },
      health: null,
    },
    { atMs: t0 + dayMs, decision: { action: 'hold', percent: 5, reasons: [] }, health: null },
    {
      atMs: t0 + 2 * dayMs,
      decision: { action: 'advance', fromPercent: 5, toPercent: 20, reasons: [] },
      health: null,
    },
    {
      atMs: t0 + 3 * dayMs,
      decision: { action: 'roll-back', fromPercent: 20, toPercent: 0, reasons: [] },
      health: null,
    },
  ],
};

describe('rolloutAt', () => {
  it('rebuilds the cohort in force at each moment of the history', () => {
    expect(rolloutAt(state, t0 - 1)).toBeNull();
    expect(rolloutAt(state, t0 + dayMs + 5)).toMatchObject({
      percent: 5,
      salt: 'rollout-1',
      stageStartedAtMs: t0,
    });
    expect(rolloutAt(state, t0 + dayMs + 5)?.history).toHaveLength(2);
    expect(rolloutAt(state, t0 + 2 * dayMs)).toMatchObject({
      percent: 20,
      stageStartedAtMs: t0 + 2 * dayMs,
    });
    expect(rolloutAt(state, t0 + 10 * dayMs)).toEqual(state);
  });

  it('takes the cohort of the latest start by then, each start with its salt', () => {
    const started = (atMs: number, salt: string) => ({
      atMs,
      decision: { action: 'advance' as const, fromPercent: 0, toPercent: 5, reasons: [] },
      health: null,
      salt,
    });
    const twice: RolloutState = {
      ...state,
      salt: 'rollout-2',
      history: [
        started(t0, 'rollout-1'),
        ...state.history.slice(1),
        started(t0 + 5 * dayMs, 'rollout-2'),
      ],
    };
    expect(rolloutAt(twice, t0 + 3 * dayMs)).toMatchObject({ percent: 0, salt: 'rollout-1' });
    expect(rolloutAt(twice, t0 + 5 * dayMs)).toMatchObject({
      percent: 5,
      salt: 'rollout-2',
      stageStartedAtMs: t0 + 5 * dayMs,
    });
  });
});

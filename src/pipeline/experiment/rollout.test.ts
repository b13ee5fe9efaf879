import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../core/ids.js';
import {
  DEFAULT_ROLLOUT_POLICY,
  decideRollout,
  isInRollout,
  type RolloutHealth,
} from './rollout.js';

const healthy: RolloutHealth = {
  messages: 5000,
  complianceViolations: 0,
  p95LatencyMs: 350,
  uptime: 0.9995,
};

describe('decideRollout', () => {
  it('walks 5 → 20 → 50 → 100 while every check passes, then holds', () => {
    const path = [decideRollout(0, healthy)];
    for (const from of [5, 20, 50]) path.push(decideRollout(from, healthy));
    expect(path.map((d) => (d.action === 'advance' ? d.toPercent : d.action))).toEqual([
      5, 20, 50, 100,
    ]);
    expect(decideRollout(100, healthy)).toMatchObject({ action: 'hold', percent: 100 });
  });

  it('rolls back to 0 % on a single compliance violation, however good the rest', () => {
    expect(decideRollout(50, { ...healthy, complianceViolations: 1 })).toEqual({
      action: 'roll-back',
      fromPercent: 50,
      toPercent: 0,
      reasons: ['1 compliance violations (at most 0 allowed)'],
    });
  });

  it('rolls back one stage when p95 latency or uptime miss their limits, with both reasons', () => {
    const decision = decideRollout(20, { ...healthy, p95LatencyMs: 2500, uptime: 0.99 });
    expect(decision).toEqual({
      action: 'roll-back',
      fromPercent: 20,
      toPercent: 5,
      reasons: ['p95 latency 2500 ms above 2000 ms', 'uptime 0.99 below 0.999'],
    });
    expect(decideRollout(5, { ...healthy, uptime: 0.5 })).toMatchObject({ toPercent: 0 });
    expect(decideRollout(5, { ...healthy, p95LatencyMs: Number.NaN })).toMatchObject({
      action: 'roll-back',
    });
  });

  it('holds until the stage has sent enough messages to judge it', () => {
    expect(decideRollout(5, { ...healthy, messages: 999 })).toMatchObject({
      action: 'hold',
      percent: 5,
    });
  });

  it('follows custom stages and refuses a current percentage that is not one of them', () => {
    const policy = { ...DEFAULT_ROLLOUT_POLICY, stagesPercent: [1, 10, 100] };
    expect(decideRollout(10, healthy, policy)).toMatchObject({ toPercent: 100 });
    expect(() => decideRollout(20, healthy, policy)).toThrow(/not a rollout stage/);
    expect(() =>
      decideRollout(5, healthy, { ...DEFAULT_ROLLOUT_POLICY, stagesPercent: [5, 50] }),
    ).toThrow(/end at 100/);
    expect(() =>
      decideRollout(5, healthy, { ...DEFAULT_ROLLOUT_POLICY, stagesPercent: [5, 5, 100] }),
    ).toThrow(/increase/);
  });
});

describe('isInRollout', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => toCustomerId(`c${i}`));

  it('nests the cohorts: everyone in 5 % is in 20 %, everyone in 20 % in 50 %', () => {
    const cohort = (percent: number) => ids.filter((id) => isInRollout(id, percent, 'r1'));
    const [five, twenty, fifty] = [cohort(5), cohort(20), cohort(50)];
    for (const id of five) expect(isInRollout(id, 20, 'r1')).toBe(true);
    for (const id of twenty) expect(isInRollout(id, 50, 'r1')).toBe(true);
    expect(Math.abs(five.length / ids.length - 0.05)).toBeLessThan(0.007);
    expect(Math.abs(twenty.length / ids.length - 0.2)).toBeLessThan(0.012);
    expect(Math.abs(fifty.length / ids.length - 0.5)).toBeLessThan(0.015);
    expect(cohort(100)).toHaveLength(ids.length);
  });

  it('refuses a percentage outside 0–100', () => {
    expect(() => isInRollout(toCustomerId('c'), -1, 'r1')).toThrow(RangeError);
  });
});

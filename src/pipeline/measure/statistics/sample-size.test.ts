import { describe, expect, it } from 'vitest';
import { expectClose } from './expect-close.js';
import reference from './fixtures/reference.json' with { type: 'json' };
import { powerForSampleSize, sampleSizePerArm } from './sample-size.js';

describe('sampleSizePerArm and powerForSampleSize', () => {
  it('match the power.prop.test formula evaluated with scipy', () => {
    for (const row of reference.sampleSize) {
      const minimumEffect = {
        kind: 'absolute',
        difference: row.treatmentRate - row.baselineRate,
      } as const;
      const size = sampleSizePerArm({
        baselineRate: row.baselineRate,
        minimumEffect,
        alpha: row.alpha,
        power: row.power,
      });
      expectClose(size.exact, row.nPerArm, 1e-10, 0, 'n');
      expect(size.perArm).toBe(Math.ceil(row.nPerArm));
      for (const at of row.powerAt) {
        const power = powerForSampleSize({
          baselineRate: row.baselineRate,
          minimumEffect,
          perArm: at.n,
          alpha: row.alpha,
        });
        expectClose(power, at.power, 1e-10, 1e-15, `power at ${at.n}`);
      }
    }
  });

  it('reads a relative effect as a lift over the baseline', () => {
    const relative = sampleSizePerArm({
      baselineRate: 0.1,
      minimumEffect: { kind: 'relative', lift: 0.1 },
    });
    const absolute = sampleSizePerArm({
      baselineRate: 0.1,
      minimumEffect: { kind: 'absolute', difference: 0.01 },
    });
    expectClose(relative.treatmentRate, 0.11, 1e-15);
    expectClose(relative.exact, absolute.exact, 1e-12);
  });

  it('reaches the requested power at the computed size', () => {
    const input = { baselineRate: 0.04, minimumEffect: { kind: 'relative', lift: -0.2 } } as const;
    const size = sampleSizePerArm({ ...input, power: 0.9 });
    expectClose(powerForSampleSize({ ...input, perArm: size.exact }), 0.9, 1e-12);
  });

  it('rejects effects that leave (0, 1) or change nothing', () => {
    const effect = (difference: number) => ({ kind: 'absolute', difference }) as const;
    expect(() => sampleSizePerArm({ baselineRate: 0.5, minimumEffect: effect(0) })).toThrow(
      RangeError,
    );
    expect(() => sampleSizePerArm({ baselineRate: 0.9, minimumEffect: effect(0.2) })).toThrow(
      RangeError,
    );
    expect(() =>
      powerForSampleSize({ baselineRate: 0.1, minimumEffect: effect(0.1), perArm: 0 }),
    ).toThrow(RangeError);
  });
});

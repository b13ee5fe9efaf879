import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../core/ids.js';
import { assignArm, type ArmDesign } from './assign-arm.js';
import { assignBalanced } from './assign-balanced.js';

const design: ArmDesign = {
  salt: 'spring-sale',
  arms: [
    { name: 'control', weight: 2 },
    { name: 'discount', weight: 1 },
    { name: 'story', weight: 1 },
  ],
};
const ids = (n: number, prefix = 'c') =>
  Array.from({ length: n }, (_, i) => toCustomerId(`${prefix}${i}`));
const countArms = (arms: Iterable<string>) => {
  const counts = new Map<string, number>();
  for (const arm of arms) counts.set(arm, (counts.get(arm) ?? 0) + 1);
  return counts;
};

describe('assignArm', () => {
  it('gives a customer the same arm on every call (sticky across sends)', () => {
    for (const id of ids(200)) {
      const first = assignArm(id, design);
      expect(assignArm(id, { salt: design.salt, arms: [...design.arms] })).toBe(first);
    }
  });

  it('splits customers in proportion to the weights', () => {
    const n = 40_000;
    const counts = countArms(ids(n).map((id) => assignArm(id, design)));
    // Within 4 binomial standard deviations of 50 %, 25 %, 25 %.
    for (const [arm, share] of [
      ['control', 0.5],
      ['discount', 0.25],
      ['story', 0.25],
    ] as const) {
      const sd = Math.sqrt((share * (1 - share)) / n);
      expect(Math.abs((counts.get(arm) ?? 0) / n - share)).toBeLessThan(4 * sd);
    }
  });

  it('never assigns an arm of weight 0', () => {
    const arms = [
      { name: 'a', weight: 0 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 0 },
    ];
    for (const id of ids(2000)) expect(assignArm(id, { salt: 's', arms })).toBe('b');
  });

  it('reshuffles with a new salt, independently of the old split', () => {
    const n = 20_000;
    const other = { ...design, salt: 'summer-sale' };
    const same = ids(n).filter((id) => assignArm(id, design) === assignArm(id, other)).length;
    // Independent splits agree with probability Σ w² = 0.25 + 0.0625 + 0.0625.
    expect(Math.abs(same / n - 0.375)).toBeLessThan(0.015);
  });

  it('splits each stratum independently of the others, each near the weights', () => {
    const n = 20_000;
    const inDe = ids(n).map((id) => assignArm(id, design, 'DE'));
    const inFr = ids(n).map((id) => assignArm(id, design, 'FR'));
    const agree = inDe.filter((arm, i) => arm === inFr[i]).length;
    expect(Math.abs(agree / n - 0.375)).toBeLessThan(0.015);
    for (const arms of [inDe, inFr]) {
      expect(Math.abs((countArms(arms).get('control') ?? 0) / n - 0.5)).toBeLessThan(0.015);
    }
    // With a stratum the hash input differs from the unstratified one.
    const plain = ids(n).map((id) => assignArm(id, design));
    expect(plain.filter((arm, i) => arm === inDe[i]).length / n).toBeLessThan(0.4);
  });

  it('refuses designs that cannot be assigned, naming the problem', () => {
    const id = toCustomerId('c1');
    expect(() => assignArm(id, { salt: 's', arms: [] })).toThrow(/at least one arm/);
    expect(() => assignArm(id, { salt: '', arms: design.arms })).toThrow(/salt/);
    expect(() =>
      assignArm(id, {
        salt: 's',
        arms: [
          { name: 'a', weight: 1 },
          { name: 'a', weight: 1 },
        ],
      }),
    ).toThrow(/"a" appears twice/);
    expect(() => assignArm(id, { salt: 's', arms: [{ name: 'a', weight: -1 }] })).toThrow(
      RangeError,
    );
    expect(() => assignArm(id, { salt: 's', arms: [{ name: 'a', weight: Number.NaN }] })).toThrow(
      /weight must be a finite number/,
    );
    expect(() => assignArm(id, { salt: 's', arms: [{ name: 'a', weight: 0 }] })).toThrow(
      /sum to more than 0/,
    );
  });
});

describe('assignBalanced', () => {
  it('gives every stratum the designed counts, rounded, and stays reproducible', () => {
    const customers = [
      ...ids(1001, 'de').map((customerId) => ({ customerId, stratum: 'DE' })),
      ...ids(37, 'fr').map((customerId) => ({ customerId, stratum: 'FR' })),
    ];
    const arms = assignBalanced(customers, design);
    expect(arms.size).toBe(1038);
    for (const [stratum, m] of [
      ['DE', 1001],
      ['FR', 37],
    ] as const) {
      const counts = countArms(
        customers.filter((c) => c.stratum === stratum).map((c) => arms.get(c.customerId) ?? ''),
      );
      expect(Math.abs((counts.get('control') ?? 0) - m / 2)).toBeLessThanOrEqual(1);
      expect(Math.abs((counts.get('discount') ?? 0) - m / 4)).toBeLessThanOrEqual(1);
      expect(Math.abs((counts.get('story') ?? 0) - m / 4)).toBeLessThanOrEqual(1);
    }
    expect(assignBalanced([...customers].reverse(), design)).toEqual(arms);
  });

  it('refuses a customer listed twice', () => {
    const customerId = toCustomerId('c1');
    expect(() =>
      assignBalanced(
        [
          { customerId, stratum: 'DE' },
          { customerId, stratum: 'FR' },
        ],
        design,
      ),
    ).toThrow(/appears twice/);
  });
});

import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../ports/random.js';
import { clusterRfm, type Rfm } from './cluster-rfm.js';

const blob = (n: number, centre: Rfm, spread: number, seed: number): Rfm[] => {
  const random = seededRandom(seed);
  const jitter = () => (random.next() - 0.5) * spread;
  return Array.from({ length: n }, () => ({
    recencyDays: Math.max(0, centre.recencyDays + jitter() * 10),
    frequency: Math.max(0, Math.round(centre.frequency * (1 + jitter() * 0.1))),
    monetary: Math.max(0, centre.monetary * (1 + jitter() * 0.1)),
  }));
};

describe('clusterRfm', () => {
  const loyal = blob(60, { recencyDays: 5, frequency: 20, monetary: 2000 }, 1, 1);
  const lapsed = blob(50, { recencyDays: 200, frequency: 2, monetary: 80 }, 1, 2);
  const fresh = blob(40, { recencyDays: 3, frequency: 1, monetary: 30 }, 1, 3);
  const all = [...loyal, ...lapsed, ...fresh];

  it('finds three well-separated groups of customers', () => {
    const result = clusterRfm(all, 3, seededRandom(7));
    const groupOf = (from: number, to: number) => new Set(result.assignment.slice(from, to));
    expect(groupOf(0, 60).size).toBe(1);
    expect(groupOf(60, 110).size).toBe(1);
    expect(groupOf(110, 150).size).toBe(1);
    expect(new Set(result.assignment).size).toBe(3);
    expect(result.clusters.map((c) => c.size).sort((a, b) => a - b)).toEqual([40, 50, 60]);
    const big = result.clusters.find((c) => c.size === 60);
    expect(big?.centroid.monetary).toBeGreaterThan(1500);
  });

  it('gives the same clustering for the same seed', () => {
    expect(clusterRfm(all, 4, seededRandom(11))).toEqual(clusterRfm(all, 4, seededRandom(11)));
  });

  it('lowers the inertia as k grows', () => {
    const two = clusterRfm(all, 2, seededRandom(5)).inertia;
    const three = clusterRfm(all, 3, seededRandom(5)).inertia;
    expect(three).toBeLessThan(two);
  });

  it('refuses a k it cannot honour', () => {
    expect(() => clusterRfm(all.slice(0, 2), 3, seededRandom(1))).toThrow(/at least k = 3/);
    expect(() => clusterRfm(all, 0, seededRandom(1))).toThrow(/positive integer/);
  });
});

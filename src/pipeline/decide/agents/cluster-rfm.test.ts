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

  it('reports the inertia of the clusters it gives, each customer in its nearest', () => {
    for (let seed = 0; seed < 20; seed += 1) {
      const random = seededRandom(seed);
      const customers = Array.from({ length: 30 }, () => ({
        recencyDays: Math.round(random.next() * 200),
        frequency: Math.round(random.next() * 10),
        monetary: Math.round(random.next() * 1000),
      }));
      const before = JSON.stringify(customers);
      const result = clusterRfm(customers, 4, seededRandom(seed + 100));
      expect(JSON.stringify(customers)).toBe(before);
      // The same space as the clustering: standardised features.
      const features = customers.map((r) => [
        Math.min(r.recencyDays, 365),
        Math.log1p(r.frequency),
        Math.log1p(r.monetary),
      ]);
      const mean = [0, 1, 2].map((d) => features.reduce((s, f) => s + (f[d] ?? 0), 0) / 30);
      const sd = [0, 1, 2].map((d) =>
        Math.sqrt(features.reduce((s, f) => s + ((f[d] ?? 0) - (mean[d] ?? 0)) ** 2, 0) / 30),
      );
      const points = features.map((f) => f.map((x, d) => (x - (mean[d] ?? 0)) / (sd[d] ?? 1)));
      const centres = result.clusters.map((_, j) => {
        const members = points.filter((__, i) => result.assignment[i] === j);
        return [0, 1, 2].map((d) => members.reduce((s, p) => s + (p[d] ?? 0), 0) / members.length);
      });
      const d2 = (a: number[], b: number[]) => a.reduce((s, x, d) => s + (x - (b[d] ?? 0)) ** 2, 0);
      const inertia = points.reduce(
        (s, p, i) => s + d2(p, centres[result.assignment[i] ?? 0] ?? []),
        0,
      );
      expect(result.inertia).toBeCloseTo(inertia, 9);
      points.forEach((p, i) => {
        const own = d2(p, centres[result.assignment[i] ?? 0] ?? []);
        for (const c of centres)
          if (!Number.isNaN(c[0])) expect(own).toBeLessThanOrEqual(d2(p, c) + 1e-9);
      });
    }
  });

  it('gives as many clusters as there are distinct customers when fewer than k', () => {
    const same = Array.from({ length: 5 }, () => ({ recencyDays: 10, frequency: 2, monetary: 50 }));
    const result = clusterRfm(same, 3, seededRandom(1));
    expect(result.clusters).toEqual([
      { size: 5, centroid: { recencyDays: 10, frequency: 2, monetary: 50 } },
    ]);
    expect(result.inertia).toBe(0);
  });

  it('moves a centre that lost its customers instead of reporting an empty cluster', () => {
    // Seven different customers; from this seed's start, one centre ends with none of them.
    const seven: Rfm[] = [
      [365, 2, 0],
      [365, 1, 0],
      [30, 1, 50],
      [0, 2, 50],
      [30, 2, 1000],
      [0, 2, 1000],
      [30, 0, 1000],
    ].map(([recencyDays = 0, frequency = 0, monetary = 0]) => ({
      recencyDays,
      frequency,
      monetary,
    }));
    const result = clusterRfm(seven, 3, seededRandom(0));
    expect(result.clusters.map((c) => c.size)).not.toContain(0);
    expect(result.clusters).toHaveLength(3);
    expect(new Set(result.assignment)).toEqual(new Set([0, 1, 2]));
    // Customers with few distinct values, as real order counts are: never an empty cluster,
    // and k of them whenever k customers differ.
    for (let seed = 0; seed < 300; seed += 1) {
      const random = seededRandom(seed);
      const pick = (values: number[]) => values[Math.floor(random.next() * values.length)] ?? 0;
      const customers = Array.from({ length: 8 }, () => ({
        recencyDays: pick([0, 30, 365]),
        frequency: pick([0, 1, 2]),
        monetary: pick([0, 50, 1000]),
      }));
      const distinct = new Set(customers.map((c) => JSON.stringify(c))).size;
      const clustered = clusterRfm(customers, 4, seededRandom(seed));
      expect(clustered.clusters.map((c) => c.size)).not.toContain(0);
      expect(clustered.clusters).toHaveLength(Math.min(4, distinct));
      expect(clustered.clusters.reduce((n, c) => n + c.size, 0)).toBe(8);
    }
  });

  it('refuses a k it cannot honour', () => {
    expect(() => clusterRfm(all.slice(0, 2), 3, seededRandom(1))).toThrow(/at least k = 3/);
    expect(() => clusterRfm(all, 0, seededRandom(1))).toThrow(/positive integer/);
  });
});

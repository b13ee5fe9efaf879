import type { Random } from '../../../ports/random.js';

/** One customer's RFM: days since the last order (or activity), order count, net revenue. */
export interface Rfm {
  recencyDays: number;
  frequency: number;
  monetary: number;
}

export interface RfmCluster {
  size: number;
  /** The cluster's mean in the original units. */
  centroid: Rfm;
}

export interface RfmClustering {
  clusters: RfmCluster[];
  /** Cluster index per input customer, in input order. */
  assignment: number[];
  iterations: number;
  /** Sum of squared distances to the nearest centroid, in standardised units. */
  inertia: number;
}

// Frequency and revenue are heavy-tailed: log1p keeps a few big spenders from owning the space.
const toFeatures = (r: Rfm): number[] => [
  Math.min(r.recencyDays, 365),
  Math.log1p(Math.max(0, r.frequency)),
  Math.log1p(Math.max(0, r.monetary)),
];

const distance2 = (a: readonly number[], b: readonly number[]): number => {
  let d = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = (a[i] ?? 0) - (b[i] ?? 0);
    d += x * x;
  }
  return d;
};

/**
 * k-means over RFM (recency capped at 365 days, log1p of frequency and revenue, each
 * standardised to mean 0 and variance 1), seeded with k-means++ from `random` and iterated
 * (Lloyd) until no customer changes cluster or `maxIterations`. A centre left without customers
 * moves to the customer farthest from theirs. Deterministic for a seed and the customers'
 * order. Fewer clusters than `k` only when fewer customers than `k` differ; none is empty.
 */
export const clusterRfm = (
  customers: readonly Rfm[],
  k: number,
  random: Random,
  maxIterations = 100,
): RfmClustering => {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (customers.length < k)
    throw new RangeError(`k-means needs at least k = ${k} customers, got ${customers.length}`);
  const raw = customers.map(toFeatures);
  const dims = 3;
  const mean = Array.from(
    { length: dims },
    (_, d) => raw.reduce((s, p) => s + (p[d] ?? 0), 0) / raw.length,
  );
  const sd = Array.from({ length: dims }, (_, d) => {
    const m = mean[d] ?? 0;
    const v = raw.reduce((s, p) => s + ((p[d] ?? 0) - m) ** 2, 0) / raw.length;
    return v > 0 ? Math.sqrt(v) : 1;
  });
  const points = raw.map((p) => p.map((x, d) => (x - (mean[d] ?? 0)) / (sd[d] ?? 1)));

  // k-means++: each next centre drawn with probability proportional to its squared distance.
  // Centres are copies: they move to their clusters' means, and the points must not.
  const first = [...(points[Math.floor(random.next() * points.length)] ?? [])];
  const centres: number[][] = [first];
  const nearest = points.map((p) => distance2(p, first));
  while (centres.length < k) {
    const total = nearest.reduce((a, b) => a + b, 0);
    // Every point sits on a centre already: fewer distinct customers than k, fewer clusters.
    if (total === 0) break;
    let target = random.next() * total;
    let index = 0;
    for (; index < points.length - 1; index += 1) {
      target -= nearest[index] ?? 0;
      if (target <= 0) break;
    }
    const centre = [...(points[index] ?? [])];
    centres.push(centre);
    points.forEach((p, i) => {
      nearest[i] = Math.min(nearest[i] ?? Infinity, distance2(p, centre));
    });
  }

  const assignment = new Array<number>(points.length).fill(-1);
  /** Each customer to their nearest centre; how many changed cluster. */
  const assign = (): number => {
    let moved = 0;
    points.forEach((p, i) => {
      let best = 0;
      let bestD = Infinity;
      centres.forEach((c, j) => {
        const d = distance2(p, c);
        if (d < bestD) {
          bestD = d;
          best = j;
        }
      });
      if (assignment[i] !== best) moved += 1;
      assignment[i] = best;
    });
    return moved;
  };
  let iterations = 0;
  // Ends on an assignment, so every customer is in the cluster of the centre nearest them.
  while (assign() > 0 && iterations < maxIterations) {
    iterations += 1;
    const empty: number[] = [];
    centres.forEach((c, j) => {
      const members = points.filter((_, i) => assignment[i] === j);
      if (members.length === 0) empty.push(j);
      else
        for (let d = 0; d < dims; d += 1)
          c[d] = members.reduce((s, p) => s + (p[d] ?? 0), 0) / members.length;
    });
    reseed(empty, centres, points, assignment);
  }
  // A centre that no customer chose even after reseeding (every customer sits on another
  // centre) is not a cluster: it is dropped, never reported as an empty one at the origin.
  const sizes = centres.map((_, j) => assignment.filter((a) => a === j).length);
  const kept = centres.flatMap((_, j) => ((sizes[j] ?? 0) > 0 ? [j] : []));
  const renumber = new Map(kept.map((j, index) => [j, index]));
  const inertia = points.reduce(
    (s, p, i) => s + distance2(p, centres[assignment[i] ?? 0] ?? []),
    0,
  );
  const clusters = kept.map((j) => {
    const members = customers.filter((__, i) => assignment[i] === j);
    const avg = (f: (r: Rfm) => number) => members.reduce((s, r) => s + f(r), 0) / members.length;
    return {
      size: members.length,
      centroid: {
        recencyDays: avg((r) => r.recencyDays),
        frequency: avg((r) => r.frequency),
        monetary: avg((r) => r.monetary),
      },
    };
  });
  return {
    clusters,
    assignment: assignment.map((a) => renumber.get(a) ?? 0),
    iterations,
    inertia,
  };
};

/**
 * Moves each centre that lost every customer onto the customer farthest from its own centre
 * (the usual repair: it splits the cluster that fits worst), so the next iteration has k
 * clusters to fill. A customer already chosen is not chosen twice, and one sitting on its
 * centre is never chosen: with fewer distinct customers than centres, some stay empty.
 */
const reseed = (
  empty: readonly number[],
  centres: number[][],
  points: readonly (readonly number[])[],
  assignment: number[],
): void => {
  if (empty.length === 0) return;
  const far = points
    .map((p, i) => ({ i, d: distance2(p, centres[assignment[i] ?? 0] ?? []) }))
    .filter((x) => x.d > 0)
    .sort((a, b) => b.d - a.d || a.i - b.i);
  empty.forEach((j, n) => {
    const pick = far[n];
    if (pick === undefined) return;
    centres[j] = [...(points[pick.i] ?? [])];
    // Counted as a move, so the loop goes on and the customer joins the new centre.
    assignment[pick.i] = -1;
  });
};

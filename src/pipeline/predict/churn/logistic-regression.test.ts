import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../ports/random.js';
import { fitLogisticRegression, predictLogistic } from './logistic-regression.js';

describe('fitLogisticRegression', () => {
  it('recovers the coefficients of simulated data (seeded)', () => {
    const random = seededRandom(5);
    const rows: number[][] = [];
    const labels: (0 | 1)[] = [];
    for (let i = 0; i < 20_000; i++) {
      const a = random.next() * 4 - 2;
      const b = random.next() * 4 - 2;
      const p = 1 / (1 + Math.exp(-(0.5 + 1.5 * a - 1 * b)));
      rows.push([a, b]);
      labels.push(random.next() < p ? 1 : 0);
    }
    const model = fitLogisticRegression(rows, labels, { l2: 0 });
    expect(model.converged).toBe(true);
    // Back from standardised weights to the raw scale.
    const [w0 = 0, wa = 0, wb = 0] = model.weights;
    const [ma = 0, mb = 0] = model.means;
    const [sa = 1, sb = 1] = model.scales;
    expect(wa / sa).toBeCloseTo(1.5, 1);
    expect(wb / sb).toBeCloseTo(-1, 1);
    expect(w0 - (wa * ma) / sa - (wb * mb) / sb).toBeCloseTo(0.5, 1);
    expect(predictLogistic(model, [0, 0])).toBeCloseTo(1 / (1 + Math.exp(-0.5)), 1);
  });

  it('sets the gradient of the penalised log-likelihood to zero', () => {
    const rows = [[1], [2], [3], [4], [5], [6]];
    const labels: (0 | 1)[] = [0, 0, 1, 0, 1, 1];
    const model = fitLogisticRegression(rows, labels, { l2: 2 });
    const z = rows.map(([v = 0]) => (v - (model.means[0] ?? 0)) / (model.scales[0] ?? 1));
    const p = rows.map((r) => predictLogistic(model, r));
    const g0 = labels.reduce<number>((s, y, i) => s + y - (p[i] ?? 0), 0);
    const g1 =
      labels.reduce<number>((s, y, i) => s + (y - (p[i] ?? 0)) * (z[i] ?? 0), 0) -
      2 * (model.weights[1] ?? 0);
    expect(Math.abs(g0)).toBeLessThan(1e-9);
    expect(Math.abs(g1)).toBeLessThan(1e-9);
  });

  it('stays finite on separable data thanks to the penalty', () => {
    const model = fitLogisticRegression([[0], [1], [2], [3]], [0, 0, 1, 1], { l2: 1 });
    expect(model.converged).toBe(true);
    expect(model.weights.every(Number.isFinite)).toBe(true);
  });
});

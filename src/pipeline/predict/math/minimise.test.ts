import { describe, expect, it } from 'vitest';
import { minimise } from './minimise.js';

describe('minimise', () => {
  it('finds the minimum of the Rosenbrock function from the textbook start', () => {
    const rosenbrock = ([x = 0, y = 0]: number[]) => 100 * (y - x * x) ** 2 + (1 - x) ** 2;
    const found = minimise(rosenbrock, [-1.2, 1]);
    expect(found.converged).toBe(true);
    expect(found.x[0]).toBeCloseTo(1, 5);
    expect(found.x[1]).toBeCloseTo(1, 5);
  });

  it('uses an analytic gradient when given one', () => {
    let calls = 0;
    const found = minimise(([x = 0]) => (x - 3) ** 2, [0], {
      gradient: ([x = 0]) => {
        calls++;
        return [2 * (x - 3)];
      },
    });
    expect(found.x[0]).toBeCloseTo(3, 8);
    expect(calls).toBeGreaterThan(0);
  });

  it('reports when it stops before converging', () => {
    const found = minimise(([x = 0, y = 0]) => 100 * (y - x * x) ** 2 + (1 - x) ** 2, [-1.2, 1], {
      maxIterations: 3,
    });
    expect(found.converged).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import type { ExperimentResults } from '../../pipeline/experiment-results.js';
import { analyzeUnits, type ArmSums } from '../../pipeline/measure/index.js';
import { formatResults } from './format-experiment-results.js';

const arm = (name: string, units: number, buyers: number): ArmSums => ({
  arm: name,
  units,
  converted: buyers,
  revenueCents: buyers * 5_000,
  revenueSquares: buyers * 5_000 ** 2,
});

describe('campaign results as text', () => {
  it('shows a lift over a holdout with no buyers as unbounded, never as Infinity', () => {
    const analysis = analyzeUnits('holdout', [arm('holdout', 400, 0), arm('treatment', 400, 40)], {
      holdout: 1,
      treatment: 1,
    });
    if (!analysis.ok) throw new Error(analysis.reason);
    const results = {
      experimentId: 'exp-1',
      kind: 'holdout',
      arms: [],
      test: null,
      holdout: { analysis: analysis.analysis, incrementalRevenue: null },
      segments: [],
      promotion: null,
    } as unknown as ExperimentResults;
    const text = formatResults(results);
    expect(text).toMatch(/treatment vs holdout: .*\(relative ∞ \[/);
    expect(text).not.toMatch(/Infinity|NaN/);
    // 10 % against 0 %: ten percentage points, not "10 %" of anything; the level is said.
    expect(text).toMatch(/treatment vs holdout: 10\.00 pt \[/);
    expect(text).toContain('estimates with 95 % intervals in brackets');
  });

  it('says why a revenue figure is missing, and how the variants were compared', () => {
    // 30 buyers among 1,000 held out: too few for a revenue test or interval.
    const analysis = analyzeUnits(
      'holdout',
      [arm('holdout', 1000, 30), arm('treatment', 9000, 300)],
      {
        holdout: 1,
        treatment: 9,
      },
    );
    if (!analysis.ok) throw new Error(analysis.reason);
    const results = {
      experimentId: 'exp-2',
      kind: 'journey',
      estimator: 'day-stratified',
      arms: [],
      test: { analysis: analysis.analysis },
      holdout: {
        analysis: analysis.analysis,
        incrementalRevenue: {
          estimate: 1500,
          lower: -Infinity,
          upper: Infinity,
          note: 'too few buyers in an arm for a revenue interval',
        },
      },
      segments: [],
      promotion: null,
    } as unknown as ExperimentResults;
    const text = formatResults(results);
    expect(text).toContain('incremental revenue: 1500.00 [−∞, ∞] — too few buyers');
    expect(text).toMatch(/treatment vs holdout: .* — .*buyers/);
    expect(text).toContain('conversion compared within assignment days');
  });
});

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
  });
});

import { describe, expect, it } from 'vitest';
import {
  analyzeExperiment,
  describeBlocks,
  formatP,
  type ExperimentData,
} from './analyze-experiment.js';
import { expectClose } from './statistics/expect-close.js';
import reference from './statistics/fixtures/reference.json' with { type: 'json' };
import { adjustHolm } from './statistics/index.js';

// Per-arm figures of the Hillstrom e-mail experiment and scipy/statsmodels results on its raw
// rows (scripts/reference/statistics_reference.py), plus intervals computed here with scipy 1.17.1.
const hillstrom = reference.hillstrom;
const arm = (name: 'Mens E-Mail' | 'Womens E-Mail' | 'No E-Mail') => hillstrom.arms[name];
const hillstromData: ExperimentData = {
  control: 'No E-Mail',
  arms: (['Mens E-Mail', 'Womens E-Mail', 'No E-Mail'] as const).map((name) => ({
    name,
    n: arm(name).n,
  })),
  metrics: [
    {
      name: 'conversion',
      kind: 'binary',
      arms: Object.fromEntries(
        Object.entries(hillstrom.arms).map(([name, a]) => [
          name,
          { successes: a.conversions, trials: a.n },
        ]),
      ),
    },
    {
      name: 'spend',
      kind: 'numeric',
      arms: Object.fromEntries(
        Object.entries(hillstrom.arms).map(([name, a]) => [
          name,
          { n: a.n, mean: a.spendMean, variance: a.spendVariance },
        ]),
      ),
    },
  ],
};

describe('analyzeExperiment', () => {
  const analysis = analyzeExperiment(hillstromData);
  const conversion = analysis.metrics[0];
  const spend = analysis.metrics[1];

  it('reproduces the reference tests on the Hillstrom experiment', () => {
    expect(analysis.arms.map((a) => [a.name, a.n])).toEqual([
      ['No E-Mail', 21_306],
      ['Mens E-Mail', 21_307],
      ['Womens E-Mail', 21_387],
    ]);
    expectClose(analysis.sampleRatio.p, hillstrom.sampleRatio.p, 1e-12);
    expect(analysis.sampleRatio.alarm).toBe(false);
    for (const row of hillstrom.comparisons) {
      const rate = conversion?.comparisons.find((c) => c.treatment === row.treatment);
      const mean = spend?.comparisons.find((c) => c.treatment === row.treatment);
      expectClose(rate?.p ?? Number.NaN, row.conversionP, 1e-9, 0, `${row.treatment} z p`);
      const [lower = Number.NaN, upper = Number.NaN] = row.conversionNewcombe;
      expectClose(rate?.absoluteLift.lower ?? Number.NaN, lower, 1e-10);
      expectClose(rate?.absoluteLift.upper ?? Number.NaN, upper, 1e-10);
      expectClose(mean?.p ?? Number.NaN, row.spendP, 1e-9, 0, `${row.treatment} Welch p`);
    }
    const mens = spend?.comparisons.find((c) => c.treatment === 'Mens E-Mail');
    // scipy: difference ∓ t.ppf(0.975, ν)·SE
    expectClose(mens?.absoluteLift.lower ?? Number.NaN, 0.4851397325684075, 1e-9);
    expectClose(mens?.absoluteLift.upper ?? Number.NaN, 1.0545145792206658, 1e-9);
  });

  it('reports per-arm rates and means with intervals that contain them', () => {
    const control = conversion?.arms[0];
    expect(control).toMatchObject({ arm: 'No E-Mail', n: 21_306, successes: 122 });
    expect(control?.estimate).toBe(122 / 21_306);
    for (const metric of analysis.metrics) {
      for (const a of metric.arms) {
        expect(a.lower).toBeLessThan(a.estimate);
        expect(a.upper).toBeGreaterThan(a.estimate);
      }
    }
    expect(spend?.arms[0]?.standardDeviation).toBeCloseTo(Math.sqrt(134.28637185302165), 12);
  });

  it('adjusts p-values across treatments × metrics, Holm never below BH', () => {
    const comparisons = analysis.metrics.flatMap((m) => m.comparisons);
    expect(comparisons).toHaveLength(4);
    const holm = adjustHolm(comparisons.map((c) => c.p));
    comparisons.forEach((c, i) => {
      expect(c.holmP).toBe(holm[i]);
      expect(c.holmP).toBeGreaterThanOrEqual(c.benjaminiHochbergP);
      expect(c.benjaminiHochbergP).toBeGreaterThanOrEqual(c.p);
      expect(c.alwaysValidHolmP).toBeGreaterThanOrEqual(c.alwaysValidP);
      // The always-valid p pays for peeking: never below the fixed-horizon one here.
      expect(c.alwaysValidP).toBeGreaterThanOrEqual(c.p);
    });
  });

  it('promotes the e-mail with the largest significant conversion lift', () => {
    expect(analysis.promotion).toEqual({
      allowed: true,
      winner: 'Mens E-Mail',
      metric: 'conversion',
    });
    const mens = conversion?.comparisons.find((c) => c.treatment === 'Mens E-Mail');
    expect(mens?.chanceToBeatControl).toBeGreaterThan(0.999_999);
    expect(mens?.relativeLift.estimate).toBeCloseTo(267 / 21_307 / (122 / 21_306) - 1, 12);
  });

  it('blocks promotion on a sample-ratio mismatch: 50/50 designed, 52/48 observed at n = 20,000', () => {
    const data: ExperimentData = {
      control: 'control',
      arms: [
        { name: 'control', n: 10_400 },
        { name: 'treatment', n: 9_600 },
      ],
      metrics: [
        {
          name: 'conversion',
          kind: 'binary',
          arms: {
            control: { successes: 1040, trials: 10_400 },
            treatment: { successes: 1440, trials: 9_600 },
          },
        },
      ],
    };
    const result = analyzeExperiment(data, { designedWeights: { control: 0.5, treatment: 0.5 } });
    // scipy.stats.chisquare([10400, 9600]).pvalue
    expectClose(result.sampleRatio.p, 1.5417257900280013e-8, 1e-9);
    expect(result.sampleRatio.alarm).toBe(true);
    // The treatment is far better (15 % vs 10 %), yet nothing may be promoted.
    expect(result.metrics[0]?.comparisons[0]?.alwaysValidHolmP).toBeLessThan(1e-10);
    expect(result.promotion).toEqual({
      allowed: false,
      blocks: [
        { kind: 'sample-ratio-mismatch', p: result.sampleRatio.p, logP: result.sampleRatio.logP },
      ],
    });
    // The same counts designed 52/48 are fine.
    const designed = analyzeExperiment(data, { designedWeights: { control: 52, treatment: 48 } });
    expect(designed.promotion).toMatchObject({ allowed: true, winner: 'treatment' });
  });

  it('uses t intervals, the Welch interval and the normal chance to beat for numeric metrics', () => {
    const result = analyzeExperiment({
      control: 'b',
      arms: [
        { name: 'a', n: 12 },
        { name: 'b', n: 15 },
      ],
      metrics: [
        {
          name: 'revenue',
          kind: 'numeric',
          arms: { a: { n: 12, mean: 5.5, variance: 4 }, b: { n: 15, mean: 4, variance: 9 } },
        },
      ],
    });
    const metric = result.metrics[0];
    const a = metric?.arms.find((x) => x.arm === 'a');
    // scipy: 5.5 ∓ t.ppf(0.975, 11)·√(4/12); ttest_ind_from_stats(equal_var=False)
    expectClose(a?.lower ?? Number.NaN, 4.229260625338721, 1e-10);
    expectClose(a?.upper ?? Number.NaN, 6.770739374661279, 1e-10);
    const comparison = metric?.comparisons[0];
    expectClose(comparison?.p ?? Number.NaN, 0.13342376588209445, 1e-9);
    expectClose(comparison?.absoluteLift.lower ?? Number.NaN, -0.49251806987388846, 1e-9);
    expectClose(comparison?.absoluteLift.upper ?? Number.NaN, 3.4925180698738885, 1e-9);
    expectClose(comparison?.chanceToBeatControl ?? Number.NaN, 0.9397463154566729, 1e-9);
    expect(result.promotion).toEqual({
      allowed: false,
      blocks: [{ kind: 'no-significant-improvement', metric: 'revenue' }],
    });
  });

  it('gives the relative lift of a numeric metric the sign of its absolute lift when control is negative', () => {
    // Net margin after returns: −10 a customer in control, −5 in treatment, a gain of 5.
    const result = analyzeExperiment({
      control: 'a',
      arms: [
        { name: 'a', n: 1000 },
        { name: 'b', n: 1000 },
      ],
      metrics: [
        {
          name: 'net-margin',
          kind: 'numeric',
          arms: {
            a: { n: 1000, mean: -10, variance: 25 },
            b: { n: 1000, mean: -5, variance: 25 },
          },
        },
      ],
    });
    const comparison = result.metrics[0]?.comparisons[0];
    expect(comparison?.absoluteLift.lower).toBeGreaterThan(0);
    expectClose(comparison?.relativeLift.estimate ?? Number.NaN, 0.5, 1e-12);
    expect(comparison?.relativeLift.lower).toBeGreaterThan(0);
    expect(comparison?.note).toMatch(
      /control mean is negative.*\(treatment − control\) \/ \|control\|/,
    );
  });

  it('refuses data it cannot analyse, naming the problem', () => {
    expect(() => analyzeExperiment({ ...hillstromData, control: 'nope' })).toThrow(/"nope"/);
    expect(() =>
      analyzeExperiment(hillstromData, { designedWeights: { 'No E-Mail': 1, 'Mens E-Mail': 1 } }),
    ).toThrow(/no designed weight for arm "Womens E-Mail"/);
    expect(() =>
      analyzeExperiment(hillstromData, {
        designedWeights: { 'No E-Mail': 1, 'Mens E-Mail': 1, 'Womens E-Mail': 1, x: 1 },
      }),
    ).toThrow(/"x", which has no data/);
    expect(() =>
      analyzeExperiment({
        control: 'a',
        arms: [
          { name: 'a', n: 1 },
          { name: 'b', n: 3 },
        ],
        metrics: [
          {
            name: 'spend',
            kind: 'numeric',
            arms: { a: { n: 1, mean: 1, variance: 0 }, b: { n: 3, mean: 1, variance: 1 } },
          },
        ],
      }),
    ).toThrow(/metric "spend", arm "a": a numeric metric needs at least 2 values/);
  });

  it('writes a p-value that underflowed to 0 from its log, in promotion blocks too', () => {
    expect(formatP(0.0123456, Math.log(0.0123456))).toBe('0.0123');
    expect(formatP(1.5417e-8, Math.log(1.5417e-8))).toBe('1.54e-8');
    // 6.25e-4174: the log of a p far below the smallest double.
    const logP = Math.log(6.25) - 4174 * Math.LN10;
    expect(formatP(0, logP)).toBe('6.25e-4174');
    expect(formatP(0, Math.log(9.999) - 5000 * Math.LN10)).toBe('1.00e-4999');
    expect(describeBlocks([{ kind: 'sample-ratio-mismatch', p: 0, logP }])).toBe(
      'sample-ratio mismatch (p = 6.25e-4174)',
    );
  });
});

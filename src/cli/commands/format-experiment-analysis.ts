import {
  formatP as pValue,
  type ExperimentAnalysis,
  type MetricResult,
} from '../../pipeline/measure/index.js';
import { bounded, confidenceOf } from './format-figures.js';
import type { ExperimentCsv } from './read-experiment-csv.js';

const count = (n: number): string => n.toLocaleString('en-US');
const percent = (x: number, digits = 2): string =>
  bounded(x, (v) => `${(100 * v).toFixed(digits)} %`);
const signed = (text: string, x: number): string => (x > 0 ? `+${text}` : text);
const number = (x: number): string =>
  bounded(x, (v) =>
    Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toPrecision(4),
  );

/** Columns padded to their widest cell; the first left-aligned, the rest right-aligned. */
const table = (rows: readonly (readonly string[])[]): string => {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

const metricSection = (metric: MetricResult, analysis: ExperimentAnalysis): string => {
  const confidence = confidenceOf(analysis.alpha);
  const binary = metric.kind === 'binary';
  // Rates print as percentages and their differences as percentage points.
  const value = (x: number) => (binary ? percent(x, 3) : number(x));
  const difference = (x: number) =>
    signed(binary ? bounded(x, (v) => `${(100 * v).toFixed(3)} pt`) : number(x), x);
  const arms = table([
    ['arm', 'n', binary ? 'rate' : 'mean', `${confidence} interval`],
    ...metric.arms.map((arm) => [
      arm.arm,
      count(arm.n),
      value(arm.estimate),
      `[${value(arm.lower)}, ${value(arm.upper)}]`,
    ]),
  ]);
  const comparisons = table([
    [
      `vs ${analysis.control}`,
      'abs lift',
      `${confidence} interval`,
      'rel lift',
      `${confidence} interval`,
      'p',
      'always-valid p',
      'P(beat ctrl)',
      'Holm p',
      'BH p',
    ],
    ...metric.comparisons.map((c) => [
      c.treatment,
      difference(c.absoluteLift.estimate),
      `[${difference(c.absoluteLift.lower)}, ${difference(c.absoluteLift.upper)}]`,
      signed(percent(c.relativeLift.estimate, 1), c.relativeLift.estimate),
      `[${signed(percent(c.relativeLift.lower, 1), c.relativeLift.lower)}, ${signed(percent(c.relativeLift.upper, 1), c.relativeLift.upper)}]`,
      pValue(c.p, c.logP),
      pValue(c.alwaysValidP, c.alwaysValidLogP),
      c.chanceToBeatControl.toFixed(4),
      c.holmP.toPrecision(3),
      c.benjaminiHochbergP.toPrecision(3),
    ]),
  ]);
  const how = binary
    ? 'binary: Wilson intervals, Newcombe difference, z-test, Beta-Binomial P(beat)'
    : 'numeric: t intervals, Welch difference and test, normal-approximation P(beat)';
  return `${metric.name} (${how})\n${arms}\n\n${comparisons}`;
};

/** The human-readable report of `herald experiment analyze`. */
export const formatExperimentAnalysis = (
  file: string,
  armColumn: string,
  csv: ExperimentCsv,
  analysis: ExperimentAnalysis,
): string => {
  const srm = analysis.sampleRatio;
  const sections = [
    `${file}: ${count(csv.rows)} rows, ${analysis.arms.length} arms in "${armColumn}", control "${analysis.control}"`,
    table([
      ['arm', 'n', 'share', 'designed'],
      ...analysis.arms.map((arm) => [
        arm.name,
        count(arm.n),
        percent(arm.share),
        percent(arm.designedShare),
      ]),
    ]) +
      `\nsample ratio: χ² = ${number(srm.statistic)}, df ${srm.df}, p = ${pValue(srm.p, srm.logP)}` +
      (srm.alarm ? ' — MISMATCH (p < 0.001): assignment is broken, promotion blocked' : ' — ok'),
    ...analysis.metrics.map((metric) => metricSection(metric, analysis)),
  ];
  const promotion = analysis.promotion;
  sections.push(
    promotion.allowed
      ? `promotion: allowed — ${promotion.winner} beats ${analysis.control} on ${promotion.metric} (Holm-adjusted always-valid p < ${analysis.alpha})`
      : `promotion: blocked — ${promotion.blocks
          .map((block) =>
            block.kind === 'sample-ratio-mismatch'
              ? `sample-ratio mismatch (p = ${pValue(block.p, block.logP)})`
              : `no treatment beats control on ${block.metric} with always-valid p < ${analysis.alpha}`,
          )
          .join('; ')}`,
  );
  if (csv.problemCount > 0) {
    const listed = csv.problems.map(
      (problem) =>
        `  line ${problem.line}${problem.column === undefined ? '' : `, column "${problem.column}"`}: ${problem.message}`,
    );
    const more = csv.problemCount - csv.problems.length;
    sections.push(
      [
        `${count(csv.problemCount)} problems in the file:`,
        ...listed,
        ...(more > 0 ? [`  … and ${count(more)} more`] : []),
      ].join('\n'),
    );
  }
  return sections.join('\n\n');
};

import type { ExperimentResults } from '../../pipeline/experiment-results.js';
import {
  describeBlocks,
  formatP,
  type Estimate,
  type ExperimentAnalysis,
} from '../../pipeline/measure/index.js';
import { bounded, confidenceOf } from './format-figures.js';

const pct = (x: number) => bounded(x, (v) => `${(v * 100).toFixed(2)} %`);
// A difference of two rates is in percentage points, not a percentage of anything.
const points = (x: number) => bounded(x, (v) => `${(v * 100).toFixed(2)} pt`);
const interval = (e: Estimate, f: (x: number) => string) =>
  `${bounded(e.estimate, f)} [${bounded(e.lower, f)}, ${bounded(e.upper, f)}]`;

const analysisLines = (a: ExperimentAnalysis): string[] => {
  const lines = [
    `  sample ratio: p = ${formatP(a.sampleRatio.p, a.sampleRatio.logP)}${a.sampleRatio.alarm ? '  ALARM (assignment is broken; no promotion)' : ''}`,
    `  estimates with ${confidenceOf(a.alpha)} intervals in brackets`,
  ];
  for (const metric of a.metrics) {
    const binary = metric.kind === 'binary';
    const f = binary ? pct : (x: number) => x.toFixed(2);
    lines.push(`  ${metric.name}:`);
    for (const arm of metric.arms)
      lines.push(`    ${arm.arm.padEnd(24)} n ${String(arm.n).padStart(8)}  ${interval(arm, f)}`);
    for (const c of metric.comparisons)
      lines.push(
        `    ${c.treatment} vs ${a.control}: ${interval(c.absoluteLift, binary ? points : f)} (relative ${interval(c.relativeLift, pct)}), p ${formatP(c.p, c.logP)}, always-valid p ${formatP(c.alwaysValidP, c.alwaysValidLogP)} (Holm ${formatP(c.alwaysValidHolmP, Math.log(c.alwaysValidHolmP))}), chance to beat ${pct(c.chanceToBeatControl)}${c.note === undefined ? '' : ` — ${c.note}`}`,
      );
  }
  return lines;
};

/** `herald campaigns results` as text: the arms, the variant test, the holdout, the verdict. */
export const formatResults = (r: ExperimentResults): string => {
  const lines = [`experiment ${r.experimentId} (${r.kind})`];
  for (const a of r.arms)
    lines.push(
      `  ${a.arm.padEnd(24)} ${(a.strategy ?? '').padEnd(12)} assigned ${String(a.units).padStart(8)}, exposed ${String(a.exposed).padStart(8)}, converted ${String(a.converted).padStart(6)}, revenue ${a.revenue.toFixed(2)}`,
    );
  if (r.test !== null) {
    lines.push(
      r.estimator === 'day-stratified'
        ? 'variants against control (units the message reached; conversion compared within assignment days, the weights changing daily):'
        : 'variants against control (units the message reached):',
    );
    lines.push(
      ...('reason' in r.test ? [`  not yet: ${r.test.reason}`] : analysisLines(r.test.analysis)),
    );
  }
  if (r.holdout !== null) {
    lines.push('campaign against its holdout (everyone assigned):');
    if ('reason' in r.holdout) lines.push(`  not yet: ${r.holdout.reason}`);
    else {
      lines.push(...analysisLines(r.holdout.analysis));
      const inc = r.holdout.incrementalRevenue;
      if (inc !== null)
        lines.push(
          `  incremental revenue: ${interval(inc, (x) => x.toFixed(2))}${inc.note === undefined ? '' : ` — ${inc.note}`}`,
        );
    }
  }
  if (r.promotion !== null)
    lines.push(
      r.promotion.allowed
        ? `promotion: allowed — ${r.promotion.winner} wins on ${r.promotion.metric}`
        : `promotion: blocked — ${describeBlocks(r.promotion.blocks)}`,
    );
  return lines.join('\n');
};

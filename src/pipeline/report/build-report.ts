// measure ─▶ report: a period's KPIs and its experiments (results and their day-by-day path)
// as one JSON document, and the same as a self-contained HTML page with charts.
import { AppError, isAppError } from '../../core/errors.js';
import { escapeHtml } from '../../core/html.js';
import type { Store } from '../../ports/store.js';
import {
  experimentResults,
  experimentTimeline,
  type ExperimentResults,
  type LiftView,
  type TimelinePoint,
} from '../experiment-results.js';
import { computeKpis, type Kpis, type Rate } from '../kpis.js';
import { describeBlocks, type ExperimentAnalysis } from '../measure/index.js';
import { colour, intervalChart, lineChart, type IntervalRow } from './svg-charts.js';

export interface Report {
  generatedAt: string;
  from: string;
  to: string;
  kpis: Kpis;
  experiments: { results: ExperimentResults; timeline: TimelinePoint[] }[];
  /** Experiments with units that could not be analysed, and why. */
  skipped: { experimentId: string; reason: string }[];
}

const unknownExperiment = (id: string, known: readonly { experimentId: string }[]): string =>
  `no experiment ${JSON.stringify(id)}: it has no stored design and no units` +
  (known.length === 0
    ? ' (no experiment has assigned anyone yet)'
    : ` (known: ${known.map((e) => e.experimentId).join(', ')})`);

/**
 * The report's data: the KPIs of [from, to) and, for the experiments named (or every one that
 * assigned anyone in the period), the results and the timeline.
 */
export const buildReport = async (
  store: Store,
  period: { fromMs: number; toMs: number; nowMs: number },
  options: {
    experimentIds?: readonly string[];
    latency: { p95Ms: number | null; samples: number };
    /** An order within this long after a cart-recovery message counts as a recovered cart. */
    cartRecoveryWindowMs: number;
  },
): Promise<Report> => {
  const known = await store.listExperiments();
  const named = options.experimentIds ?? [];
  // Those whose assignments span the period, then of them those that assigned anyone in it: one
  // that assigned before and after (a campaign relaunched) but not during has no part in it.
  const spanning = known
    .filter((e) => e.firstAssignedAtMs < period.toMs && e.lastAssignedAtMs >= period.fromMs)
    .map((e) => e.experimentId);
  const assigned = new Set(
    named.length > 0 ? [] : await store.experimentsAssignedIn(spanning, period.fromMs, period.toMs),
  );
  const ids = named.length > 0 ? named : spanning.filter((id) => assigned.has(id));
  const experiments = [];
  const skipped: Report['skipped'] = [];
  for (const id of ids) {
    // Units recorded before their experiment's design was stored cannot be analysed: named,
    // not fatal to the rest of the report.
    const results = await experimentResults(store, id, { nowMs: period.nowMs }).catch(
      (error: unknown) => {
        if (isAppError(error) && error.code === 'not-found') return null;
        throw error;
      },
    );
    if (results === null) {
      // A name asked for that nothing knows is a mistake to say, not a report to write.
      if (named.length > 0 && !known.some((e) => e.experimentId === id))
        throw new AppError('not-found', unknownExperiment(id, known));
      skipped.push({ experimentId: id, reason: 'no stored design' });
      continue;
    }
    experiments.push({
      results,
      timeline: await experimentTimeline(store, results.design, period.nowMs),
    });
  }
  return {
    generatedAt: new Date(period.nowMs).toISOString(),
    from: new Date(period.fromMs).toISOString(),
    to: new Date(period.toMs).toISOString(),
    kpis: await computeKpis(
      store,
      period.fromMs,
      period.toMs,
      options.latency,
      options.cartRecoveryWindowMs,
    ),
    experiments,
    skipped,
  };
};

/** An end of an interval may be unbounded: shown as ±∞. */
const bounded = (x: number, f: (x: number) => string) =>
  x === Infinity ? '∞' : x === -Infinity ? '−∞' : f(x);
const pct = (x: number | null) =>
  x === null ? '—' : bounded(x, (v) => `${(v * 100).toFixed(2)} %`);
const money = (x: number | null) => (x === null ? '—' : bounded(x, (v) => v.toFixed(2)));
/**
 * Revenue per touch: cents and below are its usual size (100 over 40,000 emails is 0.0025), so
 * a figure under 1 keeps two significant digits rather than rounding to 0.00.
 */
const perTouch = (x: number | null) =>
  x === null
    ? '—'
    : bounded(x, (v) => (v === 0 || Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2)));
const rate = (r: Rate) =>
  r.rate === null
    ? '—'
    : `${pct(r.rate)} <span class="ci">[${pct(r.lower)}, ${pct(r.upper)}] · ${String(r.numerator)}/${String(r.denominator)}</span>`;
const pValue = (p: number) => (p < 1e-4 ? p.toExponential(2) : p.toFixed(4));
const row = (cells: readonly string[]) => `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
const table = (head: readonly string[], rows: readonly string[]) =>
  `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;

const kpiSection = (k: Kpis) =>
  `<h2>KPIs</h2>${table(
    ['KPI', 'value'],
    [
      row(['Revenue per touch (north star)', perTouch(k.revenuePerTouch)]),
      row([
        'Attributed revenue (the message the order names, else the last touch)',
        money(k.attributedRevenue),
      ]),
      row([
        'Messages sent',
        `${String(k.sent.total)} <span class="ci">${escapeHtml(
          Object.entries(k.sent.byChannel)
            .map(([c, n]) => `${c} ${String(n)}`)
            .join(', '),
        )}</span>`,
      ]),
      row(['Conversion (messages credited with an order)', rate(k.conversion)]),
      row(['Open rate (email)', rate(k.open)]),
      row(['Click-through (email, SMS)', rate(k.clickThrough)]),
      row(['Cart recovery', rate(k.cartRecovery)]),
      row(['Recovered cart revenue', money(k.recoveredCartRevenue)]),
      row([
        'Orders / average order value (net of cancellations)',
        `${String(k.orders)} / ${money(k.averageOrderValue)} <span class="ci">${String(k.cancelledOrders)} cancelled</span>`,
      ]),
      row(['Churned customers (now)', rate(k.churn)]),
      row(['Customer lifetime value (now, customers who ordered)', money(k.customerLifetimeValue)]),
      row([
        'Compliance violations per 100k (spam complaints)',
        `${k.complianceViolationsPer100k === null ? '—' : k.complianceViolationsPer100k.toFixed(1)} <span class="ci">${String(k.complaints)} complaints; stopped by guardrails: ${String(k.prevented.blocked)} blocked, ${String(k.prevented.review)} to review, ${String(k.prevented.heldOut)} held out</span>`,
      ]),
      row(['Human override rate (review queue, all time)', rate(k.humanOverrideRate)]),
      row([
        'Decision latency p95',
        k.decisionLatencyP95Ms === null
          ? '— <span class="ci">no decisions in this process yet</span>'
          : `${k.decisionLatencyP95Ms.toFixed(1)} ms <span class="ci">last ${String(k.decisionLatencySamples)} work items of the reporting process</span>`,
      ]),
    ],
  )}`;

const analysisTables = (a: ExperimentAnalysis) =>
  a.metrics
    .map((m) => {
      const f = m.kind === 'binary' ? pct : money;
      return `<h4>${escapeHtml(m.name)}</h4>${table(
        ['arm', 'n', m.kind === 'binary' ? 'rate' : 'mean', 'interval'],
        m.arms.map((arm) =>
          row([
            escapeHtml(arm.arm),
            String(arm.n),
            f(arm.estimate),
            `[${f(arm.lower)}, ${f(arm.upper)}]`,
          ]),
        ),
      )}${table(
        [
          'treatment',
          'absolute lift',
          'relative lift',
          'p',
          'always-valid p (Holm)',
          'chance to beat',
        ],
        m.comparisons.map((c) =>
          row([
            escapeHtml(c.treatment),
            `${f(c.absoluteLift.estimate)} [${f(c.absoluteLift.lower)}, ${f(c.absoluteLift.upper)}]`,
            `${pct(c.relativeLift.estimate)} [${pct(c.relativeLift.lower)}, ${pct(c.relativeLift.upper)}]`,
            pValue(c.p),
            pValue(c.alwaysValidHolmP),
            `${pct(c.chanceToBeatControl)}${c.note === undefined ? '' : ` — ${escapeHtml(c.note)}`}`,
          ]),
        ),
      )}`;
    })
    .join('');

const armRows = (a: ExperimentAnalysis): IntervalRow[] =>
  (a.metrics[0]?.arms ?? []).map((arm) => ({
    label: arm.arm,
    estimate: arm.estimate,
    lower: arm.lower,
    upper: arm.upper,
  }));

const segmentRows = (
  segments: ExperimentResults['segments'],
  pick: 'test' | 'holdout',
  colourOf: (arm: string) => string | undefined,
) =>
  segments.flatMap((s) =>
    s[pick].map((l: LiftView): IntervalRow => {
      const colour = colourOf(l.treatment);
      return {
        label: `${s.segment} · ${l.treatment}`,
        ...l.absoluteLift,
        ...(colour === undefined ? {} : { colour }),
      };
    }),
  );

const experimentSection = ({ results, timeline }: Report['experiments'][number]) => {
  const parts = [`<h2>Experiment ${escapeHtml(results.experimentId)} (${results.kind})</h2>`];
  // Each arm keeps one colour in every chart.
  const names = results.arms.map((a) => a.arm);
  const tinted = <T extends object>(item: T, arm: string): T & { colour?: string } => {
    const i = names.indexOf(arm);
    return i === -1 ? item : { ...item, colour: colour(i) };
  };
  parts.push(
    table(
      ['arm', 'strategy', 'assigned', 'exposed', 'converted', 'revenue'],
      results.arms.map((a) =>
        row([
          escapeHtml(a.arm),
          escapeHtml(a.strategy ?? ''),
          String(a.units),
          String(a.exposed),
          String(a.converted),
          money(a.revenue),
        ]),
      ),
    ),
  );
  const rows: IntervalRow[] = [];
  if (results.test !== null && 'analysis' in results.test)
    rows.push(...armRows(results.test.analysis).map((r) => tinted(r, r.label)));
  if (results.holdout !== null && 'analysis' in results.holdout)
    rows.push(
      ...armRows(results.holdout.analysis).map((r) =>
        tinted({ ...r, label: `${r.label} (all assigned)` }, r.label),
      ),
    );
  if (rows.length > 0)
    parts.push(intervalChart('Conversion by arm, 95 % intervals', rows, { format: pct }));
  if (results.test !== null) {
    parts.push(
      `<h3>Variants against control (units the message reached)</h3>${results.estimator === 'day-stratified' ? '<p>Conversion compared within assignment days: the step’s weights change daily.</p>' : ''}`,
    );
    parts.push(
      'reason' in results.test
        ? `<p>Not yet: ${escapeHtml(results.test.reason)}</p>`
        : `<p>Sample ratio p = ${pValue(results.test.analysis.sampleRatio.p)}${results.test.analysis.sampleRatio.alarm ? ' — <strong>mismatch: assignment is broken, no promotion</strong>' : ''}</p>${analysisTables(results.test.analysis)}`,
    );
  }
  if (results.holdout !== null) {
    parts.push('<h3>Campaign against its holdout (everyone assigned)</h3>');
    if ('reason' in results.holdout)
      parts.push(`<p>Not yet: ${escapeHtml(results.holdout.reason)}</p>`);
    else {
      const inc = results.holdout.incrementalRevenue;
      parts.push(
        `<p>Incremental revenue: ${inc === null ? '—' : `${money(inc.estimate)} [${money(inc.lower)}, ${money(inc.upper)}]${inc.note === undefined ? '' : ` — ${escapeHtml(inc.note)}`}`}</p>${analysisTables(results.holdout.analysis)}`,
      );
    }
  }
  if (results.promotion !== null)
    parts.push(
      `<p class="verdict">${
        results.promotion.allowed
          ? `Promotion allowed: ${escapeHtml(results.promotion.winner)} wins on ${escapeHtml(results.promotion.metric)}.`
          : `Promotion blocked: ${escapeHtml(describeBlocks(results.promotion.blocks))}.`
      }${results.design.promoted === undefined ? '' : ` Promoted ${escapeHtml(results.design.promoted.winner)} on ${new Date(results.design.promoted.atMs).toISOString().slice(0, 10)}.`}</p>`,
    );
  const seriesOf = (name: string, value: (p: TimelinePoint) => number | undefined) =>
    tinted(
      {
        name,
        points: timeline.flatMap((p) => {
          const y = value(p);
          return y === undefined ? [] : [{ x: p.dayMs, y }];
        }),
      },
      name,
    );
  const treatments = [...new Set(timeline.flatMap((p) => p.lifts.map((l) => l.treatment)))];
  parts.push(
    lineChart(
      'Absolute lift in conversion over time (cumulative, 95 % band)',
      treatments.map((t) => {
        const found = timeline.flatMap((p) => {
          const l = p.lifts.find((x) => x.treatment === t);
          return l === undefined ? [] : [{ x: p.dayMs, l }];
        });
        return tinted(
          {
            name: t,
            points: found.map(({ x, l }) => ({ x, y: l.absoluteLift.estimate })),
            band: found.map(({ x, l }) => ({
              x,
              lower: l.absoluteLift.lower,
              upper: l.absoluteLift.upper,
            })),
          },
          t,
        );
      }),
      { reference: 0, format: pct },
    ),
    lineChart(
      'Always-valid p-value path (running minimum; safe to read any day)',
      treatments.map((t) => seriesOf(t, (p) => p.alwaysValidPath[t])),
      { logY: true, reference: 0.05 },
    ),
  );
  const arms = [...new Set(timeline.flatMap((p) => Object.keys(p.banditWeights ?? {})))];
  if (arms.length > 0)
    parts.push(
      lineChart(
        results.design.allocation === 'thompson' || results.design.allocation === 'three-phase'
          ? `Traffic weights over time (${results.design.allocation}, as the step ran)`
          : 'Thompson-sampling weights over time (what a bandit would allocate)',
        arms.map((a) => seriesOf(a, (p) => p.banditWeights?.[a])),
        { range: { min: 0, max: 1 } },
      ),
    );
  for (const [pick, what] of [
    ['test', 'variants against control'],
    ['holdout', 'campaign against holdout'],
  ] as const) {
    const segments = segmentRows(results.segments, pick, (arm) => tinted({}, arm).colour);
    if (segments.length > 0)
      parts.push(
        intervalChart(`Absolute lift in conversion by segment, ${what}, 95 % intervals`, segments, {
          reference: 0,
          format: pct,
        }),
      );
  }
  return parts.join('\n');
};

/** The last day a period ending at `to` (exclusive, ISO-8601) includes: the day of `to` − 1 ms. */
const lastDayOf = (to: string): string => new Date(Date.parse(to) - 1).toISOString().slice(0, 10);

/** The report as one HTML page: inline CSS and SVG, no script, nothing fetched. */
export const renderReport = (report: Report): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Herald report ${escapeHtml(report.from.slice(0, 10))} – ${escapeHtml(lastDayOf(report.to))}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left}
.ci{color:#777;font-size:12px}.verdict{font-weight:600}svg{display:block;margin:1rem 0}
svg .title{font-weight:600;font-size:13px}svg .axis,svg .label{font-size:11px;fill:#555}svg .legend{font-size:11px}
svg .ref{stroke:#999;stroke-dasharray:4 3}
</style></head><body>
<h1>Herald report</h1>
<p>${escapeHtml(report.from)} to ${escapeHtml(report.to)}, exclusive (generated ${escapeHtml(report.generatedAt)}). Intervals are 95 %; p-values for promotion are always-valid (mixture SPRT) and Holm-adjusted.</p>
${kpiSection(report.kpis)}
${report.experiments.length === 0 ? '<p>No experiment assigned anyone in this period.</p>' : report.experiments.map(experimentSection).join('\n')}
${report.skipped.map((s) => `<p>Experiment ${escapeHtml(s.experimentId)} not analysed: ${escapeHtml(s.reason)}.</p>`).join('\n')}
</body></html>
`;

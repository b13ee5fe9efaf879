import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteFactory } from '../../../test/support/stores.js';
import type { Store } from '../../ports/store.js';
import type { ExperimentResults, TimelinePoint } from '../experiment-results.js';
import { buildReport, renderReport, type Report } from './build-report.js';

const DAY_MS = 86_400_000;

describe('renderReport', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ store, cleanup } = await sqliteFactory.make());
  });
  afterEach(async () => {
    await cleanup();
  });

  /** The report of [1 June, 10 June): `--from 2026-06-01 --to 2026-06-10`, `to` exclusive. */
  const juneReport = (): Promise<Report> =>
    buildReport(
      store,
      { fromMs: Date.UTC(2026, 5, 1), toMs: Date.UTC(2026, 5, 10), nowMs: Date.UTC(2026, 5, 10) },
      { latency: { p95Ms: null, samples: 0 }, cartRecoveryWindowMs: 7 * DAY_MS },
    );
  const cellOf = (html: string, label: string) =>
    new RegExp(`<td>${label.replace(/[()]/g, '\\$&')}</td><td>([^<]*)<`).exec(html)?.[1];

  it('names the last day the period includes in its title, the day before the exclusive end', async () => {
    const html = renderReport(await juneReport());
    expect(/<title>([^<]*)<\/title>/.exec(html)?.[1]).toBe('Herald report 2026-06-01 – 2026-06-09');
    expect(html).toContain('2026-06-10T00:00:00.000Z, exclusive');
  });

  it('shows revenue per touch to two significant digits below 1, where cents round it away', async () => {
    const report = await juneReport();
    // 40,000 emails, 100 attributed: the JSON twin's 0.0025 a touch.
    report.kpis.sent = { total: 40_000, byChannel: { email: 40_000 } };
    report.kpis.attributedRevenue = 100;
    report.kpis.revenuePerTouch = 100 / 40_000;
    const html = renderReport(report);
    expect(cellOf(html, 'Revenue per touch (north star)')).toBe('0.0025');
    report.kpis.revenuePerTouch = 12.345;
    expect(cellOf(renderReport(report), 'Revenue per touch (north star)')).toBe('12.35');
  });

  it('labels attributed revenue by the rule that credits it: the message the order names, else the last touch', async () => {
    const html = renderReport(await juneReport());
    expect(html).not.toContain('Attributed revenue (last touch)');
    expect(
      cellOf(html, 'Attributed revenue (the message the order names, else the last touch)'),
    ).toBe('0.00');
  });

  it('draws the traffic weights on a 0–1 axis: arms at 49 % and 51 % are not bottom and top', async () => {
    const report = await juneReport();
    const results: ExperimentResults = {
      experimentId: 'journey:tb@1:hello',
      kind: 'journey',
      design: {
        id: 'journey:tb@1:hello',
        kind: 'journey',
        arms: [
          { name: 'A', strategy: null },
          { name: 'B', strategy: null },
        ],
        allocation: 'thompson',
        control: 'A',
        holdoutPercent: 0,
        segment: null,
        channel: 'email',
        createdAtMs: Date.UTC(2026, 5, 1),
      },
      estimator: 'day-stratified',
      arms: [],
      test: null,
      holdout: null,
      segments: [],
      promotion: null,
    };
    const timeline: TimelinePoint[] = [1, 2, 3].map((day) => ({
      dayMs: Date.UTC(2026, 5, day),
      lifts: [],
      alwaysValidPath: {},
      banditWeights: { A: 0.49, B: 0.51 },
    }));
    report.experiments = [{ results, timeline }];
    const html = renderReport(report);
    const chart = /<svg [^>]*aria-label="Traffic weights over time[^"]*">.*?<\/svg>/.exec(
      html,
    )?.[0];
    const axis = [...(chart ?? '').matchAll(/<text x="4" y="\d+" class="axis">([^<]*)</g)];
    expect(axis.map((m) => m[1])).toEqual(['1.000', '0.000']);
  });
});

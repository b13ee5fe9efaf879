import { describe, expect, it } from 'vitest';
import { lineChart } from './svg-charts.js';

const DAY_MS = 86_400_000;
const D0 = Date.UTC(2026, 5, 1);
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const flat = (name: string, y: number) => ({
  name,
  points: [0, 1, 2].map((d) => ({ x: D0 + d * DAY_MS, y })),
});
/** The y axis labels, top then bottom. */
const axisOf = (svg: string) =>
  [...svg.matchAll(/<text x="4" y="\d+" class="axis">([^<]*)<\/text>/g)].map((m) => m[1]);
/** The heights a series' points are drawn at. */
const heightsOf = (svg: string, name: string) =>
  [
    ...svg.matchAll(
      new RegExp(`<circle cx="[\\d.]+" cy="([\\d.]+)" r="2.5" fill="[^"]+"><title>${name} `, 'g'),
    ),
  ].map((m) => Number(m[1]));

describe('lineChart', () => {
  it('draws shares on a fixed range: 49 % against 51 % sit close together, not bottom against top', () => {
    const svg = lineChart('Traffic weights over time', [flat('A', 0.49), flat('B', 0.51)], {
      range: { min: 0, max: 1 },
    });
    expect(axisOf(svg)).toEqual(['1.000', '0.000']);
    const gap = Math.abs((heightsOf(svg, 'A')[0] ?? 0) - (heightsOf(svg, 'B')[0] ?? 0));
    // The plot runs from y=28 to y=196: two points of share are about 2 % of it.
    expect(gap).toBeCloseTo(0.02 * (196 - 28), 1);
  });

  it('spans the data when no range is given', () => {
    const svg = lineChart('Lift', [flat('A', 0.49), flat('B', 0.51)]);
    expect(axisOf(svg)).toEqual(['0.511', '0.489']);
  });

  it("writes each point's tooltip in the chart's format", () => {
    const svg = lineChart(
      'Absolute lift in conversion over time',
      [
        {
          name: 'B',
          points: [
            { x: D0, y: 0.0123 },
            { x: D0 + DAY_MS, y: 0.015 },
          ],
        },
      ],
      { reference: 0, format: pct },
    );
    const titles = [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]);
    expect(titles).toEqual(['B 2026-06-01: 1.23 %', 'B 2026-06-02: 1.50 %']);
  });
});

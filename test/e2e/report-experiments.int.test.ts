import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createServices, type Services } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { toCustomerId, toMessageId } from '../../src/core/ids.js';
import { DAY_MS, HOUR_MS } from '../../src/core/time.js';
import { launchCampaign } from '../../src/pipeline/launch-campaign.js';
import { buildReport, renderReport } from '../../src/pipeline/report/build-report.js';
import { silentLogger } from '../../src/ports/logger.js';
import { aTrack } from '../support/builders.js';
import { testSender } from '../support/start-herald.js';

const MAY = Date.UTC(2026, 4, 1, 12);
const JUNE = { fromMs: Date.UTC(2026, 5, 1), toMs: Date.UTC(2026, 6, 1) };
const JULY = Date.UTC(2026, 6, 10, 12);
const options = { latency: { p95Ms: null, samples: 0 }, cartRecoveryWindowMs: 7 * DAY_MS };

describe("a report's experiments", () => {
  let dir: string;
  let services: Services;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-report-'));
    services = await createServices(
      loadConfig({ HERALD_DATABASE_URL: `sqlite:${join(dir, 'herald.db')}`, ...testSender }, null),
      { logger: silentLogger, clock: createVirtualClock(MAY) },
    );
  });
  afterEach(async () => {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const identify = (ids: readonly string[], atMs: number) =>
    services.recorder.record(
      ids.map((id) =>
        aTrack({
          type: 'identify',
          name: null,
          messageId: toMessageId(`id-${id}`),
          userId: id,
          traits: { email: `${id}@example.com` },
          timestampMs: atMs,
        }),
      ),
      atMs,
    );
  /** A campaign to everyone with a holdout of half, sent. */
  const launch = async (id: string, atMs: number) => {
    await launchCampaign(
      services.store,
      services.decide,
      {
        id,
        template: 'upsell',
        channels: ['email'],
        segment: null,
        incentive: null,
        sendAtMs: atMs,
        holdoutPercent: 50,
      },
      null,
      atMs,
    );
    await services.worker.runDue(atMs);
    await services.dispatcher.runDue(atMs);
  };

  it('leaves out an experiment that assigned before and after the period but no one in it', async () => {
    await identify(['a', 'b', 'c', 'd'], MAY);
    await launch('may', MAY);
    // One more unit in July (a relaunch, a journey step resumed).
    await services.store.transaction((tx) =>
      tx.assignUnits([
        {
          experimentId: 'may',
          customerId: toCustomerId('e'),
          arm: 'treatment',
          messageId: 'm-july',
          segment: 'New',
          channel: 'email',
          assignedAtMs: JULY,
          windowEndsMs: JULY + 7 * DAY_MS,
        },
      ]),
    );
    const june = await buildReport(services.store, { ...JUNE, nowMs: JULY + DAY_MS }, options);
    expect(june.experiments.map((e) => e.results.experimentId)).toEqual([]);
    const july = await buildReport(
      services.store,
      { fromMs: JUNE.toMs, toMs: JULY + DAY_MS, nowMs: JULY + DAY_MS },
      options,
    );
    expect(july.experiments.map((e) => e.results.experimentId)).toEqual(['may']);
  });

  it('gives an arm one colour in every chart, the holdout comparison’s too', async () => {
    await identify(
      Array.from({ length: 8 }, (_, i) => `r${String(i)}`),
      MAY,
    );
    await launch('june', MAY);
    const html = renderReport(
      await buildReport(
        services.store,
        { fromMs: MAY - DAY_MS, toMs: MAY + DAY_MS, nowMs: MAY + HOUR_MS },
        options,
      ),
    );
    const strokeOf = (label: string) =>
      new RegExp(`class="label">${label}</text><line [^>]*stroke="([^"]+)"`).exec(html)?.[1];
    const inLegend = (arm: string) =>
      new RegExp(`class="legend" style="fill:([^"]+)">${arm}<`).exec(html)?.[1];
    expect(inLegend('treatment')).toBeDefined();
    expect(strokeOf('treatment \\(all assigned\\)')).toBe(inLegend('treatment'));
    expect(strokeOf('holdout \\(all assigned\\)')).not.toBe(inLegend('treatment'));
  });
});

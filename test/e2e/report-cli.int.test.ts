import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { createServices } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { toCustomerId, toMessageId } from '../../src/core/ids.js';
import { HOUR_MS } from '../../src/core/time.js';
import { launchCampaign } from '../../src/pipeline/launch-campaign.js';
import { silentLogger } from '../../src/ports/logger.js';
import { aTrack } from '../support/builders.js';
import { testSender } from '../support/start-herald.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const T0 = Date.UTC(2026, 5, 3, 12);

describe('herald report', () => {
  let dir: string;
  let url: string;
  const herald = (...args: string[]) =>
    run(process.execPath, [join(root, 'bin/herald.js'), ...args], {
      cwd: dir,
      env: { ...process.env, HERALD_DATABASE_URL: url, HERALD_LOG_LEVEL: 'silent' },
    });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-report-'));
    url = `sqlite:${join(dir, 'herald.db')}`;
    const clock = createVirtualClock(T0);
    const services = await createServices(
      loadConfig({ HERALD_DATABASE_URL: url, ...testSender }, null),
      {
        logger: silentLogger,
        clock,
      },
    );
    const ids = Array.from({ length: 60 }, (_, i) => `r${i}`);
    await services.recorder.record(
      ids.map((id, i) =>
        aTrack({
          type: 'identify',
          name: null,
          messageId: toMessageId(`id-${id}`),
          userId: id,
          traits: { email: `${id}@example.com` },
          timestampMs: T0 - i,
        }),
      ),
      T0,
    );
    await launchCampaign(
      services.store,
      services.decide,
      {
        id: 'june',
        template: 'upsell',
        channels: ['email'],
        segment: null,
        incentive: null,
        sendAtMs: T0,
        holdoutPercent: 30,
      },
      null,
      T0,
    );
    await services.worker.runDue(T0);
    await services.dispatcher.runDue(T0);
    await services.recorder.record(
      ids
        .filter((_, i) => i % 4 === 0)
        .map((id) =>
          aTrack({
            name: 'Order Completed',
            messageId: toMessageId(`o-${id}`),
            userId: id,
            properties: { order_id: `o-${id}`, total: 50 },
            timestampMs: T0 + HOUR_MS,
          }),
        ),
      T0 + HOUR_MS,
    );
    // Units whose experiment has no stored design: named in the report, not fatal to it.
    await services.store.transaction((tx) =>
      tx.assignUnits([
        {
          experimentId: 'orphan',
          customerId: toCustomerId('r1'),
          arm: 'a',
          messageId: 'm-orphan',
          segment: 'Standard',
          channel: 'email',
          assignedAtMs: T0,
          windowEndsMs: T0 + 7 * 24 * HOUR_MS,
        },
      ]),
    );
    await services.close();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a self-contained HTML report with charts and a JSON twin of the same figures', async () => {
    const { stdout } = await herald(
      'report',
      '--from',
      '2026-06-01',
      '--to',
      '2026-06-10',
      '--out',
      join(dir, 'june.html'),
    );
    expect(stdout).toContain('1 experiments');
    const html = readFileSync(join(dir, 'june.html'), 'utf8');
    const json = JSON.parse(readFileSync(join(dir, 'june.json'), 'utf8')) as {
      kpis: { sent: { total: number }; orders: number };
      skipped: { experimentId: string; reason: string }[];
      experiments: {
        results: { experimentId: string; arms: { arm: string; units: number }[] };
        timeline: unknown[];
      }[];
    };
    expect(json.experiments.map((e) => e.results.experimentId)).toEqual(['june']);
    expect(json.skipped).toEqual([{ experimentId: 'orphan', reason: 'no stored design' }]);
    expect(html).toContain('Experiment orphan not analysed: no stored design.');
    const arms = json.experiments[0]?.results.arms ?? [];
    expect(arms.reduce((n, a) => n + a.units, 0)).toBe(60);
    expect(json.kpis.sent.total).toBe(arms.find((a) => a.arm === 'treatment')?.units);
    expect(json.kpis.orders).toBe(15);
    // Charts inline, nothing fetched, no script.
    expect(html).toContain('Experiment june');
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('Always-valid p-value path');
    expect(html).not.toMatch(/<script|src="http|href="http/);
    // `--to` is exclusive: the title names the last day the report covers.
    expect(/<title>([^<]*)<\/title>/.exec(html)?.[1]).toBe('Herald report 2026-06-01 – 2026-06-09');
  }, 60_000);

  it('refuses an experiment asked for by a name nothing knows, naming the known ones', async () => {
    const failure = (await herald(
      'report',
      '--experiment',
      'june',
      'nope',
      '--out',
      join(dir, 'nope.html'),
    ).catch((error: unknown) => error)) as { code?: number; stderr?: string };
    expect(failure.code).toBe(66);
    expect(failure.stderr).toMatch(
      /no experiment "nope": it has no stored design and no units \(known: .*june.*\)/,
    );
    // A name with units but no design is still reported as skipped, not refused.
    const { stdout } = await herald(
      'report',
      '--experiment',
      'orphan',
      '--out',
      join(dir, 'orphan.html'),
    );
    expect(stdout).toContain('0 experiments');
  }, 60_000);

  it('names the option that is not a date', async () => {
    await expect(herald('report', '--from', 'last week')).rejects.toMatchObject({
      code: 65,
      stderr: expect.stringContaining('--from: "last week" is not a date') as unknown,
    });
  }, 60_000);
});

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../src/app/create-services.js';
import { loadConfig } from '../../src/app/load-config.js';
import { importFile } from '../../src/cli/commands/import-file.js';
import { createServer } from '../../src/http/create-server.js';
import { trainClvModel, trainModels } from '../../src/pipeline/predict/index.js';
import { activityHistoryOf, ruleChurnScoreOf } from '../../src/pipeline/stages.js';
import { silentLogger } from '../../src/ports/logger.js';
import { sharedDataDir, sharedDataNote } from '../support/shared-data.js';

const run = promisify(execFile);
const sink = { write: () => true } as unknown as NodeJS.WritableStream;
const adminToken = 'test-admin-token-predict';
const DAY_MS = 86_400_000;

describe('herald models: training on the store’s own orders', () => {
  let dir: string;
  let dbFile: string;
  let services: Services;
  let closed = false;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-predict-'));
    dbFile = join(dir, 'h.db');
    closed = false;
    services = await createServices(
      loadConfig({ HERALD_DATABASE_URL: `sqlite:${dbFile}`, HERALD_ADMIN_TOKEN: adminToken }, null),
      { logger: silentLogger },
    );
  });
  afterEach(async () => {
    if (!closed) await services.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const listModels = async () => {
    const app = createServer(services);
    try {
      const denied = await app.inject({ method: 'GET', url: '/v1/models' });
      expect(denied.statusCode).toBe(401);
      const res = await app.inject({
        method: 'GET',
        url: '/v1/models',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(res.statusCode).toBe(200);
      return res.json().models as Record<string, unknown>[];
    } finally {
      await app.close();
    }
  };

  it('keeps the rule-based scores and says why when the store has too little history', async () => {
    const path = join(dir, 'orders.csv');
    writeFileSync(
      path,
      'buyer,order,amount,day\nc1,o1,10,20240105\nc1,o2,4.5,20240301\nc2,o3,8,20240107\n',
    );
    const imported = await importFile(
      services,
      'orders',
      path,
      { map: ['userId=buyer', 'orderId=order', 'total=amount', 'timestamp=day'], batchSize: '100' },
      sink,
    );
    expect(imported).toMatchObject({ accepted: 3, rejected: 0 });
    const model = await trainClvModel(services.store, { nowMs: Date.UTC(2024, 5, 1) });
    expect(model).toMatchObject({ version: 1, status: 'insufficient-data' });
    const [listed] = await listModels();
    expect(listed).toMatchObject({
      version: 1,
      status: 'insufficient-data',
      params: {},
      // Counted from the first order of the 50th customer to order, here the last of two: c2's.
      details: { orderingCustomers: 2, orders: 3, historyDays: 146 },
    });
    expect(listed?.['reason']).toMatch(
      /2 ordering customers \(needs ≥ 500\); 146 days of order history for 50 customers \(needs ≥ 180\)/,
    );
  });

  describe.skipIf(sharedDataDir === undefined)('on the CDNOW transactions', () => {
    it('imports them as orders, passes the gate, trains, measures a 39-week holdout and lists the version', async () => {
      const rows = readFileSync(join(sharedDataDir ?? '', 'cdnow/CDNOW_master.txt'), 'utf8')
        .trim()
        .split(/\r?\n/)
        .slice(1)
        .map((l) => l.trim().split(/\s+/));
      // CDNOW has no order ids; the line number stands in for one.
      const csv = [
        'customer,date,cds,dollars,order',
        ...rows.map((r, i) => `${r.join(',')},cdnow-${i + 1}`),
      ].join('\n');
      const path = join(dir, 'cdnow.csv');
      writeFileSync(path, csv);
      const summary = await importFile(
        services,
        'orders',
        path,
        { map: ['userId=customer', 'orderId=order', 'total=dollars'], batchSize: '2000' },
        sink,
      );
      expect(summary).toMatchObject({ accepted: 69_659, rejected: 0 });

      // 1998-07-01 is the day after the last transaction; the last 273 days (39 weeks) are the
      // paper's holdout, the 39 weeks before them its calibration period.
      const cutoffMs = Date.UTC(1998, 6, 1);
      const [model, churn] = await trainModels(services.store, {
        nowMs: Date.UTC(2026, 0, 1),
        cutoffMs,
        holdoutDays: 273,
        ruleScore: ruleChurnScoreOf(services.config.profilePolicy),
        activityHistory: activityHistoryOf(services.store, services.config.profilePolicy),
      });
      if (model === undefined || churn === undefined) throw new Error('two versions expected');
      expect(model.status).toBe('trained');
      expect(model.windowStartMs).toBe(Date.UTC(1997, 0, 1));
      expect(model.details).toMatchObject({ orderingCustomers: 23_570, orders: 69_659 });
      expect(model.windowEndMs - (model.windowStartMs ?? 0)).toBe(546 * DAY_MS);
      const m = model.metrics;
      expect(m['holdoutCustomers']).toBe(23_570);
      // Counted by purchase day, the BG/NBD under-forecasts CDNOW's holdout: 0.857 here, and
      // the published parameters on the 2,357-customer sample give 1,654 for 1,910 actual
      // (0.866), so this is the model on this data, not the fit (docs/predict.md). It still
      // beats carrying each customer's calibration rate forward.
      const ratio = (m['holdoutPredictedPurchases'] ?? 0) / (m['holdoutActualPurchases'] ?? 1);
      expect(ratio).toBeGreaterThan(0.83);
      expect(ratio).toBeLessThan(0.88);
      expect(m['holdoutMaePurchases']).toBeLessThan(m['holdoutMaePurchasesNaive'] ?? 0);
      expect(model.params['bgNbd']).toBeDefined();
      expect(model.params['gammaGamma']?.['q']).toBeGreaterThan(1);

      // The churn classifier: learned from features at 1998-01-02 (two 90-day windows before
      // the cutoff), judged on who bought nothing from 1998-04-02 to the cutoff.
      expect(churn).toMatchObject({ version: 2, kind: 'churn', status: 'trained' });
      expect(churn.details).toMatchObject({
        chosen: 'logistic',
        learnCutoffMs: cutoffMs - 180 * DAY_MS,
        evaluationCutoffMs: cutoffMs - 90 * DAY_MS,
        converged: true,
      });
      const c = churn.metrics;
      expect(c['evaluationCustomers']).toBe(23_570);
      expect(c['logistic.auc']).toBeGreaterThan(c['rules.auc'] ?? 1);
      expect(c['logistic.auc']).toBeGreaterThan(c['pAlive.auc'] ?? 1);
      expect(c['logistic.brier']).toBeLessThan(c['rules.brier'] ?? 0);
      expect(c['logistic.liftTopDecile']).toBeGreaterThan(1);
      // The imported orders are events: replayed, they give each customer an engagement score
      // (purchase points, decayed) at both cutoffs, and the classifier weighs it.
      expect(churn.params['logistic']?.['engagement score']).not.toBe(0);

      // Live: once loaded, a buyer's churn risk comes from the model and says which version.
      await services.churnModel.refresh();
      const app = createServer(services);
      try {
        const res = await app.inject({
          method: 'GET',
          url: '/v1/profiles/00001',
          headers: { authorization: `Bearer ${adminToken}` },
        });
        expect(res.statusCode).toBe(200);
        expect(res.json().predicted).toMatchObject({
          modelVersion: 1,
          churnRiskSource: 'model',
          churnModelVersion: 2,
        });
      } finally {
        await app.close();
      }

      const listed = (await listModels()).find((m) => m['version'] === 1);
      expect(listed).toMatchObject({
        version: 1,
        kind: 'clv',
        status: 'trained',
        reason: null,
        window: { start: '1997-01-01T00:00:00.000Z', end: '1998-07-01T00:00:00.000Z' },
      });

      // The command line sees the same registry.
      await services.close();
      closed = true;
      const env = {
        ...process.env,
        HERALD_DATABASE_URL: `sqlite:${dbFile}`,
        HERALD_LOG_LEVEL: 'silent',
      };
      const cli = await run(process.execPath, ['bin/herald.js', 'models', 'list'], { env });
      expect(cli.stdout).toMatch(/model v1 \(clv\) — trained/);
      expect(cli.stdout).toMatch(/model v2 \(churn\) — trained/);
      expect(cli.stdout).toMatch(/live: {5}logistic \(best holdout AUC\)/);
      // The drift check compares with the CLV version (the churn and conversion runs came later
      // and store no feature distribution); 28 years on, every customer has aged.
      const drift = await run(process.execPath, ['bin/herald.js', 'models', 'drift', '--json'], {
        env,
      });
      const report = JSON.parse(drift.stdout) as { version: number; drift: { level: string }[] };
      expect(report.version).toBe(1);
      expect(report.drift.some((d) => d.level === 'shifted')).toBe(true);
      expect(cli.stdout).toMatch(/bgNbd: r = /);
    }, 180_000);
  });
  if (sharedDataDir === undefined) it.skip(sharedDataNote, () => undefined);
});

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sharedDataDir, sharedDataNote } from '../support/shared-data.js';

const run = promisify(execFile);
const herald = (args: string[]) =>
  run(process.execPath, ['bin/herald.js', ...args], {
    env: { ...process.env, HERALD_LOG_LEVEL: 'silent' },
  });

describe.skipIf(sharedDataDir === undefined)('herald models on the CDNOW files', () => {
  const cdnow = join(sharedDataDir ?? '', 'cdnow');

  it('bgnbd fits the 2,357-customer summary to the published parameters', async () => {
    const { stdout } = await herald([
      'models',
      'bgnbd',
      join(cdnow, 'cdnow_customers_summary.csv'),
    ]);
    expect(stdout).toMatch(
      /BG\/NBD on 2357 customers: r = 0\.2426, alpha = 4\.4135, a = 0\.7929, b = 2\.4258; log-likelihood -9582\.4256/,
    );
    const json = JSON.parse(
      (await herald(['models', 'bgnbd', join(cdnow, 'cdnow_customers_summary.csv'), '--json']))
        .stdout,
    );
    expect(json.params.r).toBeCloseTo(0.243, 3);
    expect(json.params.alpha).toBeCloseTo(4.414, 3);
    expect(json.params.a).toBeCloseTo(0.793, 3);
    expect(json.params.b).toBeCloseTo(2.426, 3);
  });

  it('a 39-week / 39-week backtest: the trained churn model beats the rule-based score on AUC', async () => {
    const { stdout } = await herald([
      'models',
      'backtest',
      '--transactions',
      join(cdnow, 'CDNOW_master.txt'),
      '--format',
      'cdnow',
      '--split',
      '1997-10-01',
      '--json',
    ]);
    const report = JSON.parse(stdout);
    expect(report.untilMs).toBe(Date.UTC(1998, 6, 1));
    expect(report.customers).toBe(23_570);
    const { logistic, 'rule-based': rule, 'P(no purchase)': bgNbd } = report.scorers;
    // Measured: AUC logistic 0.779, rule-based 0.771, BG/NBD P(no purchase) 0.764 (docs/predict.md).
    expect(logistic.auc).toBeGreaterThan(rule.auc);
    expect(logistic.auc).toBeGreaterThan(0.75);
    expect(logistic.brier).toBeLessThan(rule.brier);
    // The BG/NBD's own P(no purchase in 90 days) ranks well on its own: counting an alive
    // customer's chance of buying nothing too, one-time buyers are no longer scored 0.
    expect(bgNbd.auc).toBeGreaterThan(0.75);
    expect(bgNbd.brier).toBeLessThan(0.13);
    expect(report.forecast.actualPurchases).toBe(19_684);
  });

  it('refuses a file it cannot read and a format it does not know', async () => {
    await expect(herald(['models', 'bgnbd', join(cdnow, 'missing.csv')])).rejects.toMatchObject({
      code: 66,
      stderr: expect.stringMatching(/no file .*missing\.csv/),
    });
    await expect(herald(['models', 'bgnbd', cdnow])).rejects.toMatchObject({
      code: 65,
      stderr: expect.stringMatching(/cdnow is a folder, not a file/),
    });
    await expect(
      herald([
        'models',
        'backtest',
        '--transactions',
        'x',
        '--format',
        'xls',
        '--split',
        '1997-10-01',
      ]),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/expected cdnow or csv/) });
  });

  it('names the line of a transactions file it cannot read, and refuses a window of 0 days', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-backtest-'));
    try {
      const bad = join(dir, 'cdnow.txt');
      writeFileSync(
        bad,
        ' customer_id date n dollars\n 00001 19970101 1 11.77\n 00002 19970102 1 abc\n',
      );
      const backtest = (file: string, format: string, ...more: string[]) =>
        herald([
          'models',
          'backtest',
          '--transactions',
          file,
          '--format',
          format,
          '--split',
          '1997-01-02',
          ...more,
        ]);
      await expect(backtest(bad, 'cdnow')).rejects.toMatchObject({
        code: 65,
        stderr: expect.stringMatching(/cdnow\.txt: line 3: the dollar value "abc" is not a number/),
      });
      const quoted = join(dir, 'tx.csv');
      writeFileSync(quoted, 'customer_id,date,value\nc1,2024-01-01,"5\nc2,2024-01-02,3\n');
      const unclosed = await backtest(quoted, 'csv').then(
        () => null,
        (error: unknown) => error as { code: number; stderr: string },
      );
      expect(unclosed?.code).toBe(65);
      expect(unclosed?.stderr).toMatch(/tx\.csv: .*Quote Not Closed/i);
      expect(unclosed?.stderr).not.toMatch(/^\s+at /m);
      await expect(
        backtest(join(cdnow, 'CDNOW_master.txt'), 'cdnow', '--churn-days', '0'),
      ).rejects.toMatchObject({
        code: 65,
        stderr: expect.stringMatching(/--churn-days must be ≥ 1/),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
if (sharedDataDir === undefined) it.skip(sharedDataNote, () => undefined);

import type { Command } from 'commander';
import { parseIntegerOption } from './parse-integer-option.js';
import { parse as parseCsv } from 'csv-parse/sync';
import { AppError } from '../../core/errors.js';
import { readInputFile } from './read-input-file.js';
import { isoTimeMs, parseDateInput } from '../../core/time.js';
import type { ModelVersion } from '../../ports/model-store.js';
import { activityHistoryOf, ruleChurnScoreOf } from '../../pipeline/stages.js';
import {
  checkDrift,
  backtestChurn,
  fitBgNbd,
  parseCdnowTransactions,
  parseHistoryCsv,
  trainModels,
  type BacktestReport,
  type Transaction,
} from '../../pipeline/predict/index.js';
import { loadServices, readConfig } from '../load-services.js';

const iso = (ms: number | null) => (ms === null ? '—' : new Date(ms).toISOString().slice(0, 10));

const parseDate = (text: string, flag: string): number => parseDateInput(text, flag);

const parseWhole = (text: string, flag: string): number =>
  parseIntegerOption(text, flag, { min: 0 });

/** A number of days a window spans: one at least. */
const parseDays = (text: string, flag: string): number => {
  const n = parseWhole(text, flag);
  if (n === 0) throw new AppError('invalid-input', `${flag} must be ≥ 1`);
  return n;
};

const round = (n: number) => Number(n.toPrecision(6));

/** A registered model in a few lines. */
export const describeModel = (m: ModelVersion): string => {
  const lines = [
    `model v${m.version} (${m.kind}) — ${m.status}, trained ${new Date(m.trainedAtMs).toISOString()}`,
    `  window:   ${iso(m.windowStartMs)} → ${iso(m.windowEndMs)} (cutoff, exclusive)`,
  ];
  if (m.reason !== null) lines.push(`  reason:   ${m.reason}`);
  for (const [name, params] of Object.entries(m.params))
    lines.push(
      `  ${name}: ${Object.entries(params)
        .map(([k, v]) => `${k} = ${round(v)}`)
        .join(', ')}`,
    );
  const chosen = m.details['chosen'];
  if (typeof chosen === 'string')
    lines.push(
      `  live:     ${chosen === 'rules' ? 'the rule-based score (best holdout AUC)' : `${chosen} (best holdout AUC)`}`,
    );
  const metrics = Object.entries(m.metrics);
  if (metrics.length > 0)
    lines.push(`  metrics:  ${metrics.map(([k, v]) => `${k} = ${round(v)}`).join(', ')}`);
  return lines.join('\n');
};

const pick = (columns: string[], names: string[], file: string): string => {
  const found = names.find((n) => columns.includes(n));
  if (found === undefined)
    throw new AppError('invalid-input', `${file}: needs one of the columns ${names.join(', ')}`);
  return found;
};

/** A transactions CSV: a customer column, a date column (ISO or YYYYMMDD) and a value column. */
const parseTransactionsCsv = (text: string, file: string): Transaction[] => {
  const records = parseCsv(text, { columns: true, bom: true, skip_empty_lines: true, trim: true });
  const rows = records as Record<string, string>[];
  const columns = Object.keys(rows[0] ?? {});
  const who = pick(columns, ['customer_id', 'customer', 'userId', 'user_id'], file);
  const when = pick(columns, ['date', 'timestamp', 'placed_at', 'order_date'], file);
  const what = pick(columns, ['value', 'total', 'amount', 'revenue', 'dollar_value'], file);
  return rows.map((row, i) => {
    const date = row[when] ?? '';
    // ISO 8601 only, checked against the calendar (as every date Herald reads): Date.parse
    // would take 2025-02-30 for the 2nd of March.
    const atMs = isoTimeMs(
      /^\d{8}$/.test(date) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}` : date,
    );
    const value = Number(row[what]);
    if (Number.isNaN(atMs) && date !== '')
      throw new AppError(
        'invalid-input',
        `${file} line ${i + 2}: "${date}" is not a date (ISO-8601, e.g. 2025-01-31, or YYYYMMDD)`,
      );
    if (Number.isNaN(atMs) || !Number.isFinite(value) || (row[who] ?? '') === '')
      throw new AppError(
        'invalid-input',
        `${file} line ${i + 2}: needs a customer, a date and a value`,
      );
    return { customerId: row[who] ?? '', atMs, value };
  });
};

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const fixed = (n: number | null, digits = 3) => (n === null ? '—' : n.toFixed(digits));

/** The backtest in words: each churn scorer's AUC and Brier score, then the forecast errors. */
export const describeBacktest = (r: BacktestReport): string => {
  const lines = [
    `backtest: trained before ${day(r.splitMs)}, evaluated to ${day(r.untilMs)}`,
    `  churn = no purchase in the ${r.churnDays} days after the split: ${r.customers} customers, ${(100 * r.churnRate).toFixed(1)} % churned`,
  ];
  for (const [name, q] of Object.entries(r.scorers))
    lines.push(
      `  ${name.padEnd(14)} AUC ${fixed(q.auc)}  Brier ${fixed(q.brier)}  top-decile lift ${fixed(q.liftTopDecile, 2)}`,
    );
  const f = r.forecast;
  lines.push(
    `  purchases to ${day(r.untilMs)}: predicted ${f.predictedPurchases.toFixed(0)}, actual ${f.actualPurchases}, MAE per customer ${fixed(f.maePurchases)}`,
    `  spend to ${day(r.untilMs)}: predicted ${fixed(f.predictedValue, 0)}, actual ${f.actualValue.toFixed(0)}, MAE per customer ${fixed(f.maeValue, 2)}`,
  );
  return lines.join('\n');
};

/** `herald models train|list|bgnbd|backtest`. */
export const registerModelCommands = (program: Command): void => {
  const models = program
    .command('models')
    .description('predictive models: train on the stored orders, list versions, fit a summary');
  models
    .command('train')
    .description(
      'fit BG/NBD + Gamma-Gamma, the churn classifier and the conversion model on the stored orders and messages, and register a version of each (or why not)',
    )
    .option('--cutoff <date>', 'use orders before this date (default: now)')
    .option('--holdout-days <n>', 'measure the forecast on the last N days before the cutoff', '0')
    .option('--period-days <n>', "the model's time unit in days", '7')
    .option('--churn-days <n>', 'churn = no purchase in this many days', '90')
    .option('--json', 'print the registered versions as JSON')
    .action(
      async (options: {
        cutoff?: string;
        holdoutDays: string;
        periodDays: string;
        churnDays: string;
        json?: boolean;
      }) => {
        const churnDays = parseDays(options.churnDays, '--churn-days');
        const holdoutDays = parseWhole(options.holdoutDays, '--holdout-days');
        const periodDays = parseDays(options.periodDays, '--period-days');
        const services = await loadServices(process.env);
        try {
          const models = await trainModels(services.store, {
            nowMs: services.clock.nowMs(),
            holdoutDays,
            periodDays,
            churnDays,
            ruleScore: ruleChurnScoreOf(services.config.profilePolicy),
            attributionWindowDays: services.config.deliverPolicy.attributionWindowDays,
            activityHistory: activityHistoryOf(services.store, services.config.profilePolicy),
            ...(options.cutoff === undefined
              ? {}
              : { cutoffMs: parseDate(options.cutoff, '--cutoff') }),
          });
          console.log(
            options.json === true
              ? JSON.stringify(models, null, 2)
              : models.map(describeModel).join('\n'),
          );
        } finally {
          await services.close();
        }
      },
    );
  models
    .command('drift')
    .description(
      "compare today's customers with a trained version's training window (population stability index per feature)",
    )
    .option('--version <n>', 'the model version (default: the latest trained CLV one)')
    .option('--json', 'print JSON')
    .action(async (options: { version?: string; json?: boolean }) => {
      const services = await loadServices(process.env);
      try {
        const wanted =
          options.version === undefined ? undefined : parseWhole(options.version, '--version');
        const version =
          wanted === undefined
            ? (await services.store.listModels(50)).find(
                (m) => m.kind === 'clv' && m.status === 'trained',
              )
            : await services.store.getModel(wanted);
        if (version === undefined)
          throw new AppError(
            'not-found',
            wanted === undefined
              ? 'no trained model (herald models train)'
              : `no model version ${wanted}`,
          );
        const drift = await checkDrift(services.store, version, services.clock.nowMs());
        if (options.json === true) {
          console.log(JSON.stringify({ version: version.version, drift }, null, 2));
          return;
        }
        if (drift.length === 0)
          console.log(`model v${version.version} stored no feature distribution to compare`);
        for (const d of drift)
          console.log(`${d.feature.padEnd(18)} PSI ${d.psi.toFixed(4)}  ${d.level}`);
        if (drift.some((d) => d.level === 'shifted')) process.exitCode = 1;
      } finally {
        await services.close();
      }
    });
  models
    .command('list')
    .description('registered model versions, newest first, with their metrics')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (options: { limit: string; json?: boolean }) => {
      const services = await loadServices(process.env);
      try {
        const list = await services.store.listModels(
          parseIntegerOption(options.limit, '--limit', { min: 1, max: 1000 }),
        );
        if (options.json === true) console.log(JSON.stringify(list, null, 2));
        else if (list.length === 0) console.log('no models registered yet');
        else console.log(list.map(describeModel).join('\n'));
      } finally {
        await services.close();
      }
    });
  models
    .command('bgnbd')
    .description('fit BG/NBD to a per-customer summary CSV with columns frequency, recency, T')
    .argument('<file>', 'a CSV file')
    .option('--json', 'print JSON')
    .action((file: string, options: { json?: boolean }) => {
      const text = readInputFile(file);
      let histories;
      try {
        histories = parseHistoryCsv(text);
      } catch (error) {
        throw new AppError('invalid-input', `${file}: ${(error as Error).message}`);
      }
      const fit = fitBgNbd(histories);
      if (options.json === true) {
        console.log(JSON.stringify(fit, null, 2));
        return;
      }
      const { r, alpha, a, b } = fit.params;
      console.log(
        `BG/NBD on ${fit.customers} customers: r = ${r.toFixed(4)}, alpha = ${alpha.toFixed(4)}, a = ${a.toFixed(4)}, b = ${b.toFixed(4)}; log-likelihood ${fit.logLikelihood.toFixed(4)}${fit.converged ? '' : ' (did not converge)'}`,
      );
    });
  models
    .command('backtest')
    .description(
      'train on transactions before a split and report churn AUC/Brier and forecast errors after it',
    )
    .requiredOption('--transactions <file>', 'the transactions file')
    .option('--format <format>', 'cdnow (CDNOW_master.txt) or csv', 'csv')
    .requiredOption('--split <date>', 'train before this date, evaluate from it')
    .option('--until <date>', 'end of the evaluation (default: as long as the history before)')
    .option('--churn-days <n>', 'churn = no purchase in this many days', '90')
    .option('--json', 'print JSON')
    .action(
      (options: {
        transactions: string;
        format: string;
        split: string;
        until?: string;
        churnDays: string;
        json?: boolean;
      }) => {
        if (options.format !== 'cdnow' && options.format !== 'csv')
          throw new AppError('invalid-input', `--format ${options.format}: expected cdnow or csv`);
        // The rule-based score is the configured profile policy's; no database is opened.
        const policy = readConfig(process.env).profilePolicy;
        const text = readInputFile(options.transactions);
        let transactions: Transaction[];
        try {
          transactions =
            options.format === 'cdnow'
              ? parseCdnowTransactions(text)
              : parseTransactionsCsv(text, options.transactions);
        } catch (error) {
          if (error instanceof AppError) throw error;
          throw new AppError(
            'invalid-input',
            `${options.transactions}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
        if (transactions.length === 0)
          throw new AppError('invalid-input', `${options.transactions}: no transactions in it`);
        let report: BacktestReport;
        try {
          report = backtestChurn(transactions, {
            splitMs: parseDate(options.split, '--split'),
            churnDays: parseDays(options.churnDays, '--churn-days'),
            ...(options.until === undefined
              ? {}
              : { untilMs: parseDate(options.until, '--until') }),
            // Imported orders carry no engagement: the rule-based score sees engagement 0.
            ruleScore: ruleChurnScoreOf(policy),
          });
        } catch (error) {
          if (error instanceof RangeError) throw new AppError('invalid-input', error.message);
          throw error;
        }
        console.log(
          options.json === true ? JSON.stringify(report, null, 2) : describeBacktest(report),
        );
      },
    );
};

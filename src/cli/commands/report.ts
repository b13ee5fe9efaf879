import type { Command } from 'commander';
import { AppError } from '../../core/errors.js';
import { DAY_MS, parseDateInput } from '../../core/time.js';
import { cartRecoveryWindowMs } from '../../pipeline/decide/policy.js';
import { buildReport, renderReport } from '../../pipeline/report/build-report.js';
import { loadServices } from '../load-services.js';
import { writeOutputFile } from './write-output-file.js';

const dateOption = (name: string, text: string | undefined, fallbackMs: number): number =>
  text === undefined ? fallbackMs : parseDateInput(text, `--${name}`);

/** `herald report`: a period's KPIs and experiments as a self-contained HTML page and its JSON twin. */
export const registerReportCommand = (program: Command): void => {
  program
    .command('report')
    .description('write an HTML report (KPIs, experiments with charts) and its JSON twin')
    .option('--from <date>', 'start of the period (ISO-8601; default 30 days before --to)')
    .option('--to <date>', 'end of the period, exclusive (ISO-8601; default now)')
    .option(
      '--experiment <id...>',
      'experiments to include (default: every one that assigned anyone in the period)',
    )
    .option('--out <file>', 'the HTML file to write; the JSON goes beside it', 'herald-report.html')
    .action(async (options: { from?: string; to?: string; experiment?: string[]; out: string }) => {
      const services = await loadServices(process.env);
      try {
        const nowMs = services.clock.nowMs();
        const toMs = dateOption('to', options.to, nowMs);
        const fromMs = dateOption('from', options.from, toMs - 30 * DAY_MS);
        if (!(fromMs < toMs)) throw new AppError('invalid-input', '--from must be before --to');
        const report = await buildReport(
          services.store,
          { fromMs, toMs, nowMs },
          {
            ...(options.experiment === undefined ? {} : { experimentIds: options.experiment }),
            latency: services.metrics.recentLagP95(),
            cartRecoveryWindowMs: cartRecoveryWindowMs(services.config.decidePolicy),
          },
        );
        const json = options.out.replace(/\.html?$/i, '') + '.json';
        writeOutputFile(options.out, renderReport(report));
        writeOutputFile(json, `${JSON.stringify(report, null, 2)}\n`);
        console.log(
          `report: ${options.out} and ${json} (${String(report.experiments.length)} experiments, ${String(report.kpis.sent.total)} messages sent in the period)`,
        );
      } finally {
        await services.close();
      }
    });
};

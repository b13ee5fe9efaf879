import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createVirtualClock } from '../../adapters/clock/virtual-clock.js';
import { createServices } from '../../app/create-services.js';
import { AppError } from '../../core/errors.js';
import { DAY_MS, parseDateInput } from '../../core/time.js';
import { simulate, simulationConfig } from '../../sim/simulate.js';
import { loadServices } from '../load-services.js';

const parseDate = (text: string, flag: string): number => parseDateInput(text, flag);

/** The longest window one run simulates. */
const MAX_WINDOW_DAYS = 3653;

/** `herald simulate --from --to [--into FILE]`. */
export const registerSimulateCommand = (program: Command): void => {
  program
    .command('simulate')
    .description(
      'replay stored events on a virtual clock into a fresh database — those before --from as history (profiles only), those before --to each at its own time, firing every timer, journey step and daily sweep — and print what would have been decided',
    )
    .requiredOption('--from <date>', 'start (ISO-8601)')
    .requiredOption('--to <date>', 'end (ISO-8601; not in the window)')
    .option('--into <file>', 'keep the simulated database in this SQLite file (default: in memory)')
    .action(async (options: { from: string; to: string; into?: string }) => {
      const fromMs = parseDate(options.from, '--from');
      const toMs = parseDate(options.to, '--to');
      if (toMs <= fromMs) throw new AppError('invalid-input', '--to must be after --from');
      // Each day runs a sweep over every customer: 1900 to 9999 would run for days.
      if (toMs - fromMs > MAX_WINDOW_DAYS * DAY_MS)
        throw new AppError(
          'invalid-input',
          `--from ${options.from} to --to ${options.to} is ${Math.ceil((toMs - fromMs) / DAY_MS).toLocaleString('en-US')} days: at most ${MAX_WINDOW_DAYS.toLocaleString('en-US')} (ten years); simulate a longer time in windows one after another`,
        );
      // A fresh database: one already there (an earlier run, Herald's own) would mix its rows
      // into the summary and take the simulation's.
      if (options.into !== undefined && existsSync(options.into))
        throw new AppError(
          'invalid-input',
          `--into ${options.into} already exists: name a file that does not exist yet`,
        );
      const source = await loadServices(process.env);
      try {
        const clock = createVirtualClock(fromMs);
        const target = await createServices(simulationConfig(source.config, options.into), {
          clock,
          logFd: 2,
          logger: source.logger.child({ simulated: true }),
        });
        try {
          const summary = await simulate(source.store, target, clock, {
            fromMs,
            toMs,
            wallNowMs: () => performance.now(),
            onProgress: (n, at) =>
              process.stderr.write(`\r${n} events, virtual time ${new Date(at).toISOString()}`),
          });
          process.stderr.write('\n');
          console.log(JSON.stringify(summary, null, 2));
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
    });
};
